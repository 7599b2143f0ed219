"""`dbt build` with all tests, alone and through Dagster, on demo-shaped data in a temp lake."""

import os
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster_dbt import DbtCliResource

from sentiment_assets.defs.dbt.assets import marts_export, post_keywords, sentiment_marts
from sentiment_assets.defs.dbt.resources import dbt_project
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.marts.manifest import DBT_PROJECT_DIR, dbt_executable
from sentiment_assets_tests.marts.sample_lake import write_upstream

pytestmark = pytest.mark.slow

MARTS = {
    "sentiment_by_job_group_day",
    "sentiment_by_job_group_week",
    "sentiment_by_job_day",
    "sentiment_by_job_week",
    "sentiment_by_board_day",
    "sentiment_by_board_week",
    "keyword_frequency",
    "keyword_sentiment_trends",
    "representative_posts",
    "model_quality",
    "model_confusion",
    "feedback_daily",
    "label_transitions",
    "labeling_usage",
    "crawl_health",
    "serving_model",
}


def _dbt(args: list[str], warehouse: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # The profile's env-var path, relative to dbt_project/ as a person running dbt by hand has
    # it (the pipeline stored the absolute path in the catalog); artifacts go to tmp so the
    # prepared manifest in dbt_project/target is left alone.
    relative = os.path.relpath(warehouse, DBT_PROJECT_DIR)
    env = {**os.environ, "SENTIMENT_WAREHOUSE": relative}
    return subprocess.run(
        [dbt_executable(), *args, "--target-path", str(tmp_path / "target")],
        cwd=DBT_PROJECT_DIR,
        env={**env, "DBT_LOG_PATH": str(tmp_path / "logs")},
        capture_output=True,
        text=True,
        check=False,
    )


def test_dbt_build_alone_passes_with_an_absent_source_and_fails_on_bad_labels(
    lakehouse: Lakehouse, warehouse: Path, tmp_path: Path
) -> None:
    write_upstream(lakehouse, with_feedback=False)
    done = _dbt(["build"], warehouse, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "ERROR=0" in done.stdout and "source lake.feedback is absent" in done.stdout
    with lakehouse.session() as lake:
        marts = set(
            lake.query("select table_name from duckdb_tables() where schema_name='marts'")[
                "table_name"
            ]
        )
        assert marts == MARTS
        assert lake.query("select count(*) as n from lake.staging.stg_lake__feedback")["n"][0] == 0
        by_group = lake.query(
            "select job_group, sum(posts) as posts from lake.marts.sentiment_by_job_group_week "
            "group by all order by 1"
        )
        assert by_group["posts"].sum() == 40
        assert set(by_group["job_group"]) == {"전사", "마법사", "궁수", "미분류"}
        versions = lake.query("select model_version from lake.marts.model_quality order by 1")
        assert versions["model_version"].tolist() == ["v1", "v2"]

    bad = pd.DataFrame(
        {
            "board_id": [101],
            "post_id": [1000],
            "model_version": ["v9"],
            "label": ["좋음"],
            "status": ["ok"],
        }
    )
    lakehouse.append("ensemble_predictions", bad)
    failed = _dbt(["build", "--select", "stg_lake__ensemble_predictions"], warehouse, tmp_path)
    assert failed.returncode != 0
    assert "accepted_values_stg_lake__ensemble_predictions_label" in failed.stdout


def test_marts_through_dagster_then_plain_sql_on_the_export(
    lakehouse: Lakehouse, warehouse: Path
) -> None:
    write_upstream(lakehouse)
    result = dg.materialize(
        [post_keywords, sentiment_marts, marts_export],
        resources={
            "lakehouse": LakehouseResource(path=str(warehouse)),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        },
    )
    assert result.success
    materialized = {
        e.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
        if e.asset_key
    }
    assert MARTS | {"post_keywords", "marts_export", "int_post_sentiment"} <= materialized
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 50 and all(check.passed for check in checks)
    export_meta = result.asset_materializations_for_node("marts_export")[0].metadata
    assert export_meta["tables"].value == len(MARTS)

    # A reader opens the export with plain SQL while a writer holds the lakehouse open.
    with lakehouse.session() as writer:
        writer.append("raw_posts", pd.DataFrame({"board_id": [9], "post_id": [9]}))
        with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as con:
            tables = {row[0] for row in con.execute("show tables").fetchall()}
            assert tables == MARTS | {"export_info"}
            top = con.execute(
                "select keyword, posts from keyword_frequency where period_grain = 'month' "
                "and job = '히어로' order by keyword_rank limit 1"
            ).fetchone()
            assert top is not None and top[0] == "보스"
            links = con.execute(
                "select count(*), min(url) from representative_posts where job = '히어로'"
            ).fetchone()
            assert links is not None and links[0] > 0 and links[1].startswith("https://")
            changes = con.execute("select sum(feedback_rows) from label_transitions").fetchone()
            assert changes == (3,)
