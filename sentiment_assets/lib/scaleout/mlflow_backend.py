"""Where MLflow keeps runs, the model registry and artifacts.

Default: a SQLite database `mlflow.db` and artifacts under `mlartifacts/`, both in the models
folder. Scale-out: `SENTIMENT_MLFLOW_TRACKING_URI` (a PostgreSQL URL) holds tracking and the
registry, and `SENTIMENT_MLFLOW_ARTIFACTS` (an s3:// URL) the artifacts, on the same object
storage as the lakehouse (endpoint and credentials from the SENTIMENT_S3_* / AWS_* variables).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from urllib.parse import urlsplit

from sentiment_assets.lib.scaleout.object_store import ObjectStore, split_s3_url
from sentiment_assets.lib.scaleout.postgres_url import PostgresUrl, SettingsError

TRACKING = "SENTIMENT_MLFLOW_TRACKING_URI"
ARTIFACTS = "SENTIMENT_MLFLOW_ARTIFACTS"
SQLITE_FILE = "mlflow.db"


def tracking_uri(models_root: Path, env: Mapping[str, str] | None = None) -> str:
    """The tracking and registry URI: PostgreSQL when configured, else the models folder's SQLite.

    Raises:
        SettingsError: SENTIMENT_MLFLOW_TRACKING_URI is not a PostgreSQL URL.
    """
    env = os.environ if env is None else env
    raw = env.get(TRACKING, "").strip()
    if raw:
        return PostgresUrl.parse(raw, variable=TRACKING).url("postgresql+psycopg2")
    return f"sqlite:///{models_root / SQLITE_FILE}"


def artifact_location(
    models_root: Path, experiment: str, env: MutableMapping[str, str] | None = None
) -> str:
    """Where a new experiment's artifacts go: `<s3 url>/<experiment>` or `models/mlartifacts`.

    With S3 it also points MLflow's S3 client at the configured endpoint (MLflow reads
    MLFLOW_S3_ENDPOINT_URL, not our variable).

    Raises:
        SettingsError: the URL is not s3:// or the credentials are missing.
    """
    env = os.environ if env is None else env
    raw = env.get(ARTIFACTS, "").strip()
    if not raw:
        folder = models_root / "mlartifacts"
        folder.mkdir(parents=True, exist_ok=True)
        return folder.resolve().as_uri()
    bucket, prefix = split_s3_url(raw, variable=ARTIFACTS)
    configure_s3_client(env)
    return f"s3://{bucket}/{prefix}{experiment}"


def configure_s3_client(env: MutableMapping[str, str] | None = None) -> None:
    """Point MLflow's and boto3's S3 clients at our endpoint, when artifacts live in S3."""
    env = os.environ if env is None else env
    if not env.get(ARTIFACTS, "").strip():
        return
    store = ObjectStore.from_env(env, needed_by=ARTIFACTS)
    if store.endpoint:
        env.setdefault("MLFLOW_S3_ENDPOINT_URL", store.endpoint)
    env.setdefault("AWS_DEFAULT_REGION", store.region)


def is_remote(uri: str) -> bool:
    """Whether `uri` names a server database (no local file to check for)."""
    return urlsplit(uri).scheme.startswith("postgresql")


__all__ = [
    "ARTIFACTS",
    "TRACKING",
    "SettingsError",
    "artifact_location",
    "configure_s3_client",
    "is_remote",
    "tracking_uri",
]
