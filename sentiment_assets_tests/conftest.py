"""Shared fixtures: every test gets its own lakehouse and Dagster instance under tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from sentiment_assets.lib.lakehouse import Lakehouse

NSMC_PATH = Path(__file__).resolve().parents[2] / "shared" / "data" / "nsmc_reviews.parquet"


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
