"""dbt and the marts export on the PostgreSQL + S3 lakehouse, read back from object storage."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DbtCliResource

from sentiment_assets.defs.dbt.assets import marts_export, post_keywords, sentiment_marts
from sentiment_assets.defs.dbt.resources import dbt_project
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.lib.lakehouse import Lakehouse, LakehouseError
from sentiment_assets.lib.marts.manifest import dbt_executable
from sentiment_assets.lib.marts.published import latest, marts_file
from sentiment_assets_tests.marts.sample_lake import write_upstream
from sentiment_assets_tests.marts.test_dbt_build import MARTS
from sentiment_assets_tests.scaleout.conftest import ScaleOut

pytestmark = pytest.mark.slow


def test_dbt_builds_in_the_shared_lake_and_readers_fetch_the_marts_from_s3(
    scaleout: ScaleOut, warehouse: Path, tmp_path: Path
) -> None:
    lake = Lakehouse(warehouse)
    with pytest.raises(LakehouseError, match="materialize marts_export first"):
        marts_file(tmp_path / "reader")
    write_upstream(lake)
    result = dg.materialize(
        [post_keywords, sentiment_marts, marts_export],
        resources={
            "lakehouse": LakehouseResource(path=str(warehouse)),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        },
    )
    assert result.success
    # dbt's tables are DuckLake tables too: their files are in the bucket, not on this disk.
    marts_files = scaleout.keys(f"{scaleout.name}/lake/marts/")
    assert len(marts_files) >= len(MARTS)
    assert not list(warehouse.rglob("*.parquet"))
    meta = result.asset_materializations_for_node("marts_export")[0].metadata
    published = latest(lake.location)
    assert meta["published_url"].value == f"{published.url}{published.export_id}/"
    assert set(published.tables) == MARTS | {"export_info"}

    # A reader on another machine: only the settings, no lake session, a folder of its own.
    reader = marts_file(tmp_path / "reader")
    with duckdb.connect(str(reader), read_only=True) as con:
        assert {r[0] for r in con.execute("show tables").fetchall()} == MARTS | {"export_info"}
        posts = con.execute("select sum(posts) from sentiment_by_job_group_week").fetchone()
        assert posts == (40,)
        snapshot = con.execute("select lake_snapshot_id from export_info").fetchone()
    with lake.session() as session:
        assert snapshot is not None and snapshot[0] <= session.current_snapshot_id()
