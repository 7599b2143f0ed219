"""The manifest dagster-dbt loads: written by `dbt parse`, with dbt's own words when it fails."""

import shutil
from pathlib import Path

import pytest

from sentiment_assets.lib.marts.manifest import DBT_PROJECT_DIR, prepare_manifest


def test_a_broken_model_file_fails_with_dbts_message(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models" / "marts" / "_marts.yml").write_text("models:\n  - name: [unclosed\n")
    with pytest.raises(RuntimeError, match=r"dbt parse.*failed") as raised:
        prepare_manifest(project)
    assert "_marts.yml" in str(raised.value)
    assert not (project / "target" / "manifest.json").exists()
