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


PROJECT_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "tests")
"""What `dbt parse` reads; a manifest older than any of it describes another project."""


def manifest_current(project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """True when the manifest exists and no project file changed after it was written.

    A checkout that pulls a new model keeps the old manifest in target/ (it is not tracked),
    and dagster-dbt then fails mid-run on the model it has never heard of.
    """
    path = manifest_path(project_dir)
    if not path.is_file():
        return False
    written = path.stat().st_mtime
    for name in PROJECT_INPUTS:
        root = project_dir / name
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        if any(f.stat().st_mtime > written for f in files):
            return False
    return True


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
