"""A mart without rows (no feedback yet on a young lakehouse) still gets a readable Parquet file."""

from __future__ import annotations

from pathlib import Path

import duckdb

from sentiment_assets.lib.dashboards.build import SOURCE_NAME, _fill_empty_tables


def test_empty_and_missing_parquet_files_are_written_with_the_marts_columns(
    tmp_path: Path,
) -> None:
    marts = tmp_path / "marts.duckdb"
    with duckdb.connect(str(marts)) as con:
        con.execute("create table feedback_daily (day date, corrections bigint)")
        con.execute("create table crawl_health (day date, posts_crawled bigint)")
        con.execute("insert into crawl_health values ('2026-11-01', 3)")
    data = tmp_path / "project" / ".evidence" / "template" / "static" / "data" / SOURCE_NAME
    for table in ("feedback_daily", "crawl_health", "label_transitions"):
        (data / table).mkdir(parents=True)
    (data / "feedback_daily" / "feedback_daily.parquet").write_bytes(b"")  # what Evidence writes
    kept = data / "crawl_health" / "crawl_health.parquet"
    kept.write_bytes(b"not touched")
    with duckdb.connect(str(marts)) as con:
        con.execute("create table label_transitions (old_label varchar, new_label varchar)")

    _fill_empty_tables(tmp_path / "project", marts)

    written = duckdb.sql(f"select * from '{data / 'feedback_daily' / 'feedback_daily.parquet'}'")
    assert written.columns == ["day", "corrections"] and written.fetchall() == []
    missing = data / "label_transitions" / "label_transitions.parquet"
    assert duckdb.sql(f"select count(*) from '{missing}'").fetchone() == (0,)
    assert kept.read_bytes() == b"not touched"
