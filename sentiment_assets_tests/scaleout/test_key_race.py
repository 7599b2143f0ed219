"""Keyed appends stay unique when several processes offer the same keys at the same moment.

The SQLite catalog happens to serialize commits that read the catalog (a writer whose catalog
snapshot went stale is refused with "database is locked"); the PostgreSQL catalog does not, and
without the key guard two writers there both store a key. Both run the same race through the
project's `Lakehouse`, the PostgreSQL one on the session's real servers (PostgreSQL + moto S3).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.settings import PROJECT_ROOT
from sentiment_assets_tests.scaleout import key_race_writer

WRITERS = 3


@pytest.fixture(params=["sqlite", "postgres+s3"])
def lake(request: pytest.FixtureRequest, warehouse: Path) -> Lakehouse:
    """The lakehouse the writers race on; the PostgreSQL one is set in the environment."""
    if request.param == "postgres+s3":
        request.getfixturevalue("scaleout")
    return Lakehouse(warehouse)


def test_writers_offering_the_same_keys_at_once_store_each_key_once(lake: Lakehouse) -> None:
    # The table and its guard exist before the race, so the race is about keys only.
    lake.append("posts", pd.DataFrame({"id": [-1], "writer": [-1], "batch": [-1]}), key=("id",))
    # Start together after every interpreter has imported: the appends then overlap.
    start_at = time.time() + 12
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sentiment_assets_tests.scaleout.key_race_writer",
                str(lake.root),
                "posts",
                str(seed),
                str(start_at),
            ],
            cwd=PROJECT_ROOT,
            env=dict(os.environ),
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
    with lake.session() as session:
        rows = session.con.execute(
            "select id, count(*) from lake.posts where id >= 0 group by id"
        ).fetchall()
    counts = dict(rows)
    duplicated = {k: n for k, n in counts.items() if n > 1}
    assert not duplicated, f"keys stored more than once: {sorted(duplicated)[:10]}"
    assert set(counts) == offered, "every offered key is stored"
    assert written == len(offered), "the writers' own counts add up to the keys stored"
