"""A mart without rows (no feedback yet on a young lakehouse) still gets a readable Parquet file."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from sentiment_assets.lib.dashboards.build import SOURCE_NAME, _fill_empty_tables


def test_empty_missing_and_stale_parquet_files_are_written_with_the_marts_columns(
    tmp_path: Path,
) -> None:
    marts = tmp_path / "marts.duckdb"
    with duckdb.connect(str(marts)) as con:
        con.execute("create table feedback_daily (day date, corrections bigint)")
        con.execute("create table crawl_health (day date, posts_crawled bigint)")
        con.execute("insert into crawl_health values ('2026-11-01', 3)")
    data = tmp_path / "project" / ".evidence" / "template" / "static" / "data" / SOURCE_NAME
    for table in ("feedback_daily", "crawl_health", "label_transitions", "labeling_usage"):
        (data / table).mkdir(parents=True)
    # An earlier build's file, from before the mart gained a column and lost its rows; this
    # build's `evidence sources` wrote nothing over it.
    with duckdb.connect(str(marts)) as con:
        con.execute("create table labeling_usage (day date, requests bigint, cached bigint)")
    stale = data / "labeling_usage" / "labeling_usage.parquet"
    duckdb.sql("select date '2026-10-01' as day, 5 as requests").write_parquet(str(stale))
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    since = time.time() - 1
    (data / "feedback_daily" / "feedback_daily.parquet").write_bytes(b"")  # what Evidence writes
    kept = data / "crawl_health" / "crawl_health.parquet"
    kept.write_bytes(b"not touched")
    with duckdb.connect(str(marts)) as con:
        con.execute("create table label_transitions (old_label varchar, new_label varchar)")

    _fill_empty_tables(tmp_path / "project", marts, since=since)

    written = duckdb.sql(f"select * from '{data / 'feedback_daily' / 'feedback_daily.parquet'}'")
    assert written.columns == ["day", "corrections"] and written.fetchall() == []
    missing = data / "label_transitions" / "label_transitions.parquet"
    assert duckdb.sql(f"select count(*) from '{missing}'").fetchone() == (0,)
    assert kept.read_bytes() == b"not touched"
    replaced = duckdb.sql(f"select * from '{stale}'")
    assert replaced.columns == ["day", "requests", "cached"] and replaced.fetchall() == []
