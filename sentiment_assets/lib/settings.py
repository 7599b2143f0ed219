"""Where things live on disk, resolved once from the environment with in-repo defaults.

Every path defaults to a folder inside the checkout so a fresh clone runs with nothing set up by
hand; each can be moved with an environment variable (documented in the README).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _path_from_env(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    if not raw:
        return default
    path = Path(raw).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class Paths:
    """Runtime folders; none of them is tracked by git."""

    warehouse: Path
    models: Path
    dagster_home: Path

    @classmethod
    def from_env(cls) -> Paths:
        """Resolve paths from `SENTIMENT_WAREHOUSE`, `SENTIMENT_MODELS` and `DAGSTER_HOME`."""
        return cls(
            warehouse=_path_from_env("SENTIMENT_WAREHOUSE", PROJECT_ROOT / "warehouse"),
            models=_path_from_env("SENTIMENT_MODELS", PROJECT_ROOT / "models"),
            dagster_home=_path_from_env("DAGSTER_HOME", PROJECT_ROOT / ".dagster_home"),
        )


def mlflow_tracking_uri(paths: Paths | None = None) -> str:
    """MLflow's backend: SQLite in the models folder (no server), or the configured PostgreSQL."""
    from sentiment_assets.lib.scaleout.mlflow_backend import configure_s3_client, tracking_uri

    paths = paths or Paths.from_env()
    paths.models.mkdir(parents=True, exist_ok=True)
    configure_s3_client()
    return tracking_uri(paths.models)


def ensure_dagster_home(paths: Paths | None = None) -> Path:
    """Create DAGSTER_HOME with the project's dagster.yaml and point the process at it.

    The file is the tracked dagster.yaml plus, when SENTIMENT_DAGSTER_POSTGRES_URL is set,
    PostgreSQL storage (`scaleout/instance.py`).

    Dagster refuses to start without a DAGSTER_HOME holding its instance config; keeping it
    inside the checkout (gitignored) means `make demo` and `make dev` need no manual setup.
    """
    from sentiment_assets.lib.scaleout.instance import render_instance_config

    paths = paths or Paths.from_env()
    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    rendered = render_instance_config((PROJECT_ROOT / "dagster.yaml").read_text())
    installed = paths.dagster_home / "dagster.yaml"
    if not installed.exists() or installed.read_text() != rendered:
        staged = installed.with_name(f".dagster.yaml.{os.getpid()}")
        staged.write_text(rendered)
        os.replace(staged, installed)
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
    return paths.dagster_home
