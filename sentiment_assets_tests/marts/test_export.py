"""The readers' copy: a separate DuckDB file, consistent, replaced atomically, never partial."""

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sentiment_assets.lib.lakehouse import Lakehouse, LakehouseError
from sentiment_assets.lib.marts.export import export_marts


def _build_marts(lakehouse: Lakehouse, rows: int) -> None:
    with lakehouse.session() as lake:
        lake.con.execute("create schema if not exists lake.marts")
        lake.con.execute(
            "create or replace table lake.marts.sentiment_by_job_day as "
            f"select range as posts, '히어로' as job from range({rows})"
        )
        lake.con.execute("create or replace table lake.marts.model_quality as select 'v1' as v")


def test_export_is_readable_while_a_writer_session_is_open(lakehouse: Lakehouse) -> None:
    _build_marts(lakehouse, 5)
    target = lakehouse.root / "marts.duckdb"
    result = export_marts(lakehouse, target)
    assert result.rows_by_table == {"model_quality": 1, "sentiment_by_job_day": 5}
    with lakehouse.session() as writer:
        writer.append("raw_posts", pd.DataFrame({"post_id": [1]}))
        with duckdb.connect(str(target), read_only=True) as reader:
            assert reader.execute("select sum(posts) from sentiment_by_job_day").fetchone() == (10,)
            info = reader.execute("select lake_snapshot_id, tables from export_info").fetchone()
            assert info == (result.snapshot_id, 2)
    assert not list(lakehouse.root.glob(".marts.duckdb.*"))


def test_reexport_replaces_the_file_under_an_open_reader(lakehouse: Lakehouse) -> None:
    target = lakehouse.root / "marts.duckdb"
    _build_marts(lakehouse, 2)
    export_marts(lakehouse, target)
    with duckdb.connect(str(target), read_only=True) as old_reader:
        _build_marts(lakehouse, 4)
        export_marts(lakehouse, target)
        # The open reader keeps its consistent old copy; a new reader sees the new one.
        assert old_reader.execute("select count(*) from sentiment_by_job_day").fetchone() == (2,)
    with duckdb.connect(str(target), read_only=True) as new_reader:
        assert new_reader.execute("select count(*) from sentiment_by_job_day").fetchone() == (4,)


def test_without_marts_the_export_fails_clearly_and_keeps_the_old_file(
    lakehouse: Lakehouse, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "marts.duckdb"
    target.parent.mkdir()
    target.write_bytes(b"previous export")
    with pytest.raises(LakehouseError, match="dbt build"):
        export_marts(lakehouse, target)
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in target.parent.iterdir()] == ["marts.duckdb"]
