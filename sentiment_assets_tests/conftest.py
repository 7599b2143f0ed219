"""Shared fixtures: every test gets its own lakehouse and Dagster instance under tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# No test reads ../shared or the internet by accident (a fresh clone has neither): the default
# corpus chain skips the development copy and finds NSMC's host closed (loopback's discard
# port), so it ends on the embedded corpus. Tests that need the real file ask for `nsmc_path`.
os.environ["SENTIMENT_SHARED_NSMC"] = ""
os.environ["SENTIMENT_NSMC_BASE_URL"] = "http://127.0.0.1:9"

from sentiment_assets.lib.lakehouse import Lakehouse

NSMC_PATH = Path(__file__).resolve().parents[2] / "shared" / "data" / "nsmc_reviews.parquet"

# The scale-out settings (README: Scaling out); tests set them only on purpose.
SCALEOUT_VARIABLES = (
    "SENTIMENT_LAKE_CATALOG",
    "SENTIMENT_LAKE_CATALOG_SCHEMA",
    "SENTIMENT_LAKE_DATA",
    "SENTIMENT_MARTS_EXPORT",
    "SENTIMENT_MLFLOW_TRACKING_URI",
    "SENTIMENT_MLFLOW_ARTIFACTS",
    "SENTIMENT_DAGSTER_POSTGRES_URL",
    "SENTIMENT_S3_ENDPOINT",
    "SENTIMENT_S3_REGION",
    "SENTIMENT_S3_URL_STYLE",
    "MLFLOW_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)


@pytest.fixture(autouse=True)
def _no_outside_scaleout_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's shell may point at a real deployment: no test writes there by accident.
    for name in SCALEOUT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


REAL_DATA_FIXTURES = {"nsmc_path", "nsmc_sample", "nsmc_rows", "nsmc_binary"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that read ../shared's real NSMC copy (they skip where it is absent)."""
    for item in items:
        if REAL_DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.real_data)


@pytest.fixture(autouse=True)
def _author_salt_file(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test hashes authors with a salt file of its own, never the user's config folder."""
    salt_file = tmp_path_factory.mktemp("secrets") / "author_salt"
    monkeypatch.setenv("SENTIMENT_AUTHOR_SALT_FILE", str(salt_file))
    return salt_file


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty warehouse folder that the default resources also resolve to."""
    root = tmp_path / "warehouse"
    monkeypatch.setenv("SENTIMENT_WAREHOUSE", str(root))
    monkeypatch.setenv("SENTIMENT_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return root


@pytest.fixture
def lakehouse(warehouse: Path) -> Lakehouse:
    """A lakehouse in its own temporary folder."""
    return Lakehouse(warehouse)


@pytest.fixture
def nsmc_path() -> Iterator[Path]:
    """The real NSMC reviews file from ../shared/data; tests needing it skip where it is absent."""
    if not NSMC_PATH.is_file():
        pytest.skip(f"real NSMC data not found at {NSMC_PATH}")
    yield NSMC_PATH
