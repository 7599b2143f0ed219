"""Keyed appends stay unique when several processes offer the same keys at the same moment.

The SQLite catalog happens to serialize commits that read the catalog (a writer whose catalog
snapshot went stale is refused with "database is locked"); a Postgres catalog does not, and
without the key guard two writers there both store a key. Both catalogs run the same race.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.settings import PROJECT_ROOT
from sentiment_assets_tests import key_race_writer
from sentiment_assets_tests.key_race_writer import _postgres_session
from sentiment_assets_tests.postgres_server import local_postgres

WRITERS = 3


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(catalog argument for the writer, data folder)."""
    data = tmp_path / "data"
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'warehouse'}", data
        return
    with local_postgres() as dsn:
        yield f"postgres:{dsn}", data


def _count(catalog: str, data: Path, sql: str) -> list[tuple]:
    kind, _, where = catalog.partition(":")
    if kind == "sqlite":
        with Lakehouse(Path(where)).session() as session:
            return session.con.execute(sql).fetchall()
    session = _postgres_session(where, str(data))
    try:
        return session.con.execute(sql).fetchall()
    finally:
        session.con.close()


def _seed(catalog: str, data: Path) -> None:
    """Create the table and its guard before the race, so the race is about keys only."""
    frame = pd.DataFrame({"id": [-1], "writer": [-1], "batch": [-1]})
    kind, _, where = catalog.partition(":")
    if kind == "sqlite":
        Lakehouse(Path(where)).append("posts", frame, key=("id",))
        return
    session = _postgres_session(where, str(data))
    try:
        session.append("posts", frame, key=("id",))
    finally:
        session.con.close()


def test_writers_offering_the_same_keys_at_once_store_each_key_once(
    catalog: tuple[str, Path],
) -> None:
    where, data = catalog
    _seed(where, data)
    # Start together after every interpreter has imported: the appends then overlap.
    start_at = time.time() + 12
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sentiment_assets_tests.key_race_writer",
                where,
                str(data),
                "posts",
                str(seed),
                str(start_at),
            ],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(WRITERS)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    written = 0
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        lines = [line.split() for line in out.splitlines() if line.startswith("committed")]
        assert len(lines) == key_race_writer.BATCHES
        written += sum(int(line[2]) for line in lines)
    offered = {i for seed in range(WRITERS) for ids in key_race_writer.batches(seed) for i in ids}
    rows = _count(where, data, "select id, count(*) from lake.posts where id >= 0 group by id")
    counts = dict(rows)
    duplicated = {k: n for k, n in counts.items() if n > 1}
    assert not duplicated, f"keys stored more than once: {sorted(duplicated)[:10]}"
    assert set(counts) == offered, "every offered key is stored"
    assert written == len(offered), "the writers' own counts add up to the keys stored"
