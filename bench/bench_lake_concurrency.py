"""Concurrent writers on the shared lakehouse: PostgreSQL catalog + S3 data vs SQLite + local.

1, 2 and 4 writer processes at once, each appending batches of posts with unique keys to one
table (one commit per batch, deduplicated on the key like every pipeline writer) and reading the
table's row count after each commit. Both lakehouses run in the same run on the same machine:
the scale-out one against a real PostgreSQL cluster and moto's S3 server on 127.0.0.1 (started
here), the default one on a SQLite catalog and local Parquet files. Commits that conflict are
retried with backoff, counted here rather than inside the lakehouse so the count is visible.
Afterwards every key written must be there exactly once: lost and duplicated rows are counted.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from bench.common import WORK, save
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.lakehouse.lake import _is_retryable
from sentiment_assets.lib.lakehouse.location import LakeLocation
from sentiment_assets.lib.scaleout.servers import engine_env, local_servers

WRITERS = (1, 2, 4)
COMMITS_PER_WRITER = 15
ROWS_PER_COMMIT = 500
MAX_ATTEMPTS = 30


@dataclass(frozen=True)
class WriterResult:
    """What one writer process measured."""

    commit_s: list[float]
    read_s: list[float]
    retries: int


def _frame(writer: int, commit: int) -> pd.DataFrame:
    seq = np.arange(commit * ROWS_PER_COMMIT, (commit + 1) * ROWS_PER_COMMIT)
    return pd.DataFrame(
        {
            "writer": np.full(ROWS_PER_COMMIT, writer),
            "seq": seq,
            "title": [f"writer {writer} post {i}" for i in seq],
            "body": ["본문 " * 30] * ROWS_PER_COMMIT,
        }
    )


def _writer(args: tuple[str, dict[str, str] | None, str, int, float]) -> WriterResult:
    root, env, table, writer, start_at = args
    location = LakeLocation.from_env(Path(root), env or {})
    # Retries are ours (counted below); the lakehouse itself tries each commit once.
    lake = Lakehouse(Path(root), location=location, max_retries=0)
    commit_s: list[float] = []
    read_s: list[float] = []
    retries = 0
    with lake.session() as session:
        time.sleep(max(0.0, start_at - time.time()))
        for commit in range(COMMITS_PER_WRITER):
            frame = _frame(writer, commit)
            t0 = time.perf_counter()
            for attempt in range(MAX_ATTEMPTS):
                try:
                    session.append(table, frame, key=("writer", "seq"))
                    break
                except duckdb.Error as exc:
                    if not _is_retryable(exc) or attempt == MAX_ATTEMPTS - 1:
                        raise
                    retries += 1
                    delay = 0.02 * 2 ** min(attempt, 6)
                    time.sleep(delay + random.uniform(0, delay))
            commit_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            session.con.execute(f"select count(*) from lake.{table}").fetchone()
            read_s.append(time.perf_counter() - t0)
    return WriterResult(commit_s=commit_s, read_s=read_s, retries=retries)


def _round(root: Path, env: dict[str, str] | None, writers: int) -> dict[str, Any]:
    table = f"posts_w{writers}"
    location = LakeLocation.from_env(root, env or {})
    lake = Lakehouse(root, location=location)
    with lake.session() as session:
        # Created once up front: the race to create it is not what is measured.
        session.transaction(
            lambda con: con.execute(
                f"create table if not exists lake.{table} "
                "(writer bigint, seq bigint, title varchar, body varchar)"
            ),
            message=f"create {table}",
        )
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 8.0  # every process imported and attached before the clock starts
    with ctx.Pool(writers) as pool:
        jobs = [(str(root), env, table, w, start_at) for w in range(writers)]
        results = pool.map(_writer, jobs)
    wall_s = time.time() - start_at
    with lake.session() as session:
        stored = session.con.execute(
            f"select count(*), count(distinct (writer, seq)) from lake.{table}"
        ).fetchone()
    assert stored is not None
    expected = writers * COMMITS_PER_WRITER * ROWS_PER_COMMIT
    rows, keys = int(stored[0]), int(stored[1])
    commits = np.array([s for r in results for s in r.commit_s])
    reads = np.array([s for r in results for s in r.read_s])
    return {
        "rows_per_s": round(expected / wall_s, 1),
        "p95_commit_ms": round(float(np.percentile(commits, 95)) * 1000, 1),
        "median_commit_ms": round(float(np.median(commits)) * 1000, 1),
        "p95_read_ms": round(float(np.percentile(reads, 95)) * 1000, 1),
        "conflicts_retried": sum(r.retries for r in results),
        "lost_rows": expected - keys,
        "duplicated_rows": rows - keys,
    }


def main() -> None:
    """Measure both lakehouses at each writer count and save."""
    work = WORK / "lake_concurrency"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    figures: dict[str, Any] = {"load_average_1m_at_start": round(os.getloadavg()[0], 2)}
    baseline: dict[str, Any] = {}
    with local_servers() as servers:
        env = engine_env(servers, "bench")
        for writers in WRITERS:
            shared = _round(work / "pg_s3", env, writers)
            local = _round(work / "sqlite_local", None, writers)
            for key, value in shared.items():
                figures[f"postgres_s3_{writers}w_{key}"] = value
            for key, value in local.items():
                baseline[f"sqlite_local_{writers}w_{key}"] = value
            print(f"{writers} writers: postgres+s3 {shared} | sqlite+local {local}", flush=True)
    figures["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    for writers in WRITERS:
        figures[f"rows_per_s_ratio_{writers}w_vs_sqlite_local"] = round(
            figures[f"postgres_s3_{writers}w_rows_per_s"]
            / baseline[f"sqlite_local_{writers}w_rows_per_s"],
            3,
        )
    bad = {
        k: v
        for k, v in {**figures, **baseline}.items()
        if k.endswith(("lost_rows", "duplicated_rows")) and v
    }
    save(
        "bench_lake_concurrency",
        figures=figures,
        baseline=baseline,
        summary=(
            f"1, 2 and 4 writer processes at once, each appending {COMMITS_PER_WRITER} commits of "
            f"{ROWS_PER_COMMIT} posts (unique keys, deduplicated append) and reading the row "
            "count after each commit: the DuckLake lakehouse with its catalog in PostgreSQL and "
            "its data files on S3 (a local PostgreSQL 15 cluster and moto's S3 server, both on "
            "127.0.0.1) against the default SQLite catalog with local Parquet files, in the same "
            "run. Commit latency includes conflict retries. `conflicts_retried` counts the commits "
            "that failed back to the writer and were retried (SQLite: `database is locked`); "
            "DuckLake resolves non-conflicting concurrent commits inside COMMIT, so on "
            "PostgreSQL they show as latency, not as retries. Both lakehouses share the "
            "machine's 2 cores with everything else running (load averages below), so rows/s "
            "stays flat as writers are added: compare the two within one run. Lost and "
            "duplicated rows are checked key by key afterwards"
            + (f". PROBLEM: {bad}" if bad else " (0 lost, 0 duplicated at every writer count).")
        ),
    )
    if bad:
        raise SystemExit(f"lost or duplicated rows: {bad}")


if __name__ == "__main__":
    main()
