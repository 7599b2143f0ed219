"""The manifest dagster-dbt loads: written by `dbt parse`, with dbt's own words when it fails."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sentiment_assets.lib.marts.manifest import (
    DBT_PROJECT_DIR,
    manifest_current,
    manifest_path,
    prepare_manifest,
)


def test_a_broken_model_file_fails_with_dbts_message(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models" / "marts" / "_marts.yml").write_text("models:\n  - name: [unclosed\n")
    with pytest.raises(RuntimeError, match=r"dbt parse.*failed") as raised:
        prepare_manifest(project)
    assert "_marts.yml" in str(raised.value)
    assert not (project / "target" / "manifest.json").exists()


def test_the_code_location_loads_under_dagster_dev_without_the_venv_on_path(
    tmp_path: Path,
) -> None:
    # What `make dev` does: dagster dev sets DAGSTER_IS_DEV_CLI, and the shell's PATH need not
    # hold .venv/bin, where dbt lives.
    env = {
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "DAGSTER_IS_DEV_CLI": "1",
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    code = "from sentiment_assets.definitions import defs; print(len(defs().assets or []))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=DBT_PROJECT_DIR.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.strip().splitlines()[-1]) > 10


def test_a_manifest_older_than_a_model_is_not_current(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    assert not manifest_current(project)
    prepare_manifest(project)
    assert manifest_current(project)
    model = project / "models" / "marts" / "brand_new_mart.sql"
    model.write_text("select 1 as n\n")
    written = manifest_path(project).stat().st_mtime
    os.utime(model, (written + 5, written + 5))
    assert not manifest_current(project)
