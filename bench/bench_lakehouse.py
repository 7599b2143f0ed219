"""Lakehouse write/read cost against plain DuckDB and plain Parquet, measured in the same run.

Appends N rows in batches (one commit per batch, as the crawler writes), reads everything back,
and time-travels to the middle snapshot. Baselines: the same batches inserted into a plain
DuckDB file, and written as one Parquet file per batch.
"""

from __future__ import annotations

import shutil
import time

import duckdb
import numpy as np
import pandas as pd

from bench.common import WORK, save
from sentiment_assets.lib.lakehouse import Lakehouse

ROWS = 50_000
BATCH = 1_000


def _batches() -> list[pd.DataFrame]:
    rng = np.random.default_rng(7)
    frames = []
    for start in range(0, ROWS, BATCH):
        ids = np.arange(start, start + BATCH)
        frames.append(
            pd.DataFrame(
                {
                    "board_id": rng.choice([2294, 2295, 2296, 2297, 2298, 5974], BATCH),
                    "post_id": ids,
                    "title": [f"title {i}" for i in ids],
                    "body": ["본문 " * 40] * BATCH,
                    "views": rng.integers(0, 10_000, BATCH),
                }
            )
        )
    return frames


def main() -> None:
    """Measure and save."""
    shutil.rmtree(WORK / "lakehouse", ignore_errors=True)
    (WORK / "lakehouse").mkdir(parents=True)
    frames = _batches()

    lake = Lakehouse(WORK / "lakehouse" / "lake")
    t0 = time.perf_counter()
    snapshots = []
    with lake.session() as session:
        for frame in frames:
            snapshots.append(
                session.append("posts", frame, key=("board_id", "post_id")).snapshot_id
            )
        write_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        full = session.read_table("posts")
        read_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        middle = session.read_table("posts", snapshot_id=snapshots[len(snapshots) // 2])
        travel_s = time.perf_counter() - t0
    assert len(full) == ROWS and len(middle) == (len(frames) // 2 + 1) * BATCH

    con = duckdb.connect(str(WORK / "lakehouse" / "plain.duckdb"))
    t0 = time.perf_counter()
    con.register("first_batch", frames[0])
    con.execute("create table posts as select * from first_batch limit 0")
    for frame in frames:
        con.register("frame", frame)
        con.execute("insert into posts select * from frame")
        con.unregister("frame")
    plain_write_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    con.execute("select * from posts").df()
    plain_read_s = time.perf_counter() - t0
    con.close()

    t0 = time.perf_counter()
    for i, frame in enumerate(frames):
        frame.to_parquet(WORK / "lakehouse" / f"batch-{i:04d}.parquet")
    parquet_write_s = time.perf_counter() - t0

    save(
        "bench_lakehouse",
        figures={
            "rows": ROWS,
            "batch_rows": BATCH,
            "lakehouse_write_rows_per_s": ROWS / write_s,
            "lakehouse_commit_ms": 1000 * write_s / len(frames),
            "lakehouse_full_read_s": read_s,
            "lakehouse_time_travel_read_s": travel_s,
            "write_slowdown_vs_plain_duckdb": write_s / plain_write_s,
            "write_slowdown_vs_parquet_files": write_s / parquet_write_s,
        },
        baseline={
            "plain_duckdb_write_rows_per_s": ROWS / plain_write_s,
            "plain_duckdb_full_read_s": plain_read_s,
            "parquet_files_write_rows_per_s": ROWS / parquet_write_s,
        },
        summary=(
            f"Appending {ROWS:,} posts in {BATCH:,}-row deduplicated commits to the DuckLake "
            "lakehouse, reading them back, and time-travelling to the middle snapshot; baselines "
            "are the same batches into a plain DuckDB file and into one Parquet file per batch."
        ),
    )


if __name__ == "__main__":
    main()
