"""Where things live on disk, resolved once from the environment with in-repo defaults.

Every path defaults to a folder inside the checkout so a fresh clone runs with nothing set up by
hand; each can be moved with an environment variable (documented in the README).
"""

from __future__ import annotations

import os
import shutil
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
    """A local SQLite MLflow backend inside the models folder: no server, nothing to set up."""
    paths = paths or Paths.from_env()
    paths.models.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{paths.models / 'mlflow.db'}"


def ensure_dagster_home(paths: Paths | None = None) -> Path:
    """Create DAGSTER_HOME with the project's tracked dagster.yaml and point the process at it.

    Dagster refuses to start without a DAGSTER_HOME holding its instance config; keeping it
    inside the checkout (gitignored) means `make demo` and `make dev` need no manual setup.
    """
    paths = paths or Paths.from_env()
    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    tracked = PROJECT_ROOT / "dagster.yaml"
    installed = paths.dagster_home / "dagster.yaml"
    if not installed.exists() or installed.read_bytes() != tracked.read_bytes():
        shutil.copyfile(tracked, installed)
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
    return paths.dagster_home
