"""Prepare the dbt project's manifest.json, which dagster-dbt needs to load the dbt assets.

`dagster dev` re-parses on start; everywhere else (tests, `sentiment demo`, CI, a deployed
code location) the manifest must exist before the definitions load. Run this module to
(re)write it: `python -m sentiment_assets.lib.marts.manifest`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sentiment_assets.lib.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


def dbt_executable() -> str:
    """The dbt next to this interpreter, so nothing depends on the venv being on PATH."""
    local = Path(sys.executable).with_name("dbt")
    return str(local) if local.exists() else "dbt"


def manifest_path(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Where `dbt parse` writes the manifest."""
    return project_dir / "target" / "manifest.json"


def prepare_manifest(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Run `dbt parse` in `project_dir` (no database connection) and return the manifest path.

    Raises:
        RuntimeError: dbt could not parse the project; the message carries dbt's output.
    """
    done = subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--project-dir", ".", "--profiles-dir", "."],
        cwd=project_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    path = manifest_path(project_dir)
    if done.returncode != 0 or not path.is_file():
        raise RuntimeError(
            f"`dbt parse` failed in {project_dir} (exit {done.returncode}):\n"
            f"{done.stdout[-4000:]}{done.stderr[-4000:]}"
        )
    return path


if __name__ == "__main__":
    print(prepare_manifest())
