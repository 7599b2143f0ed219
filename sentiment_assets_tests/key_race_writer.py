"""A process that appends keyed batches whose keys other writers append too, all at one instant.

Usage: python -m sentiment_assets_tests.key_race_writer CATALOG DATA_PATH TABLE SEED START_AT

CATALOG is `sqlite:<warehouse folder>` (the project's own `Lakehouse`) or `postgres:<dsn>` (a
DuckLake catalog in Postgres, the scale-out configuration). Every writer draws its batches from
the same KEYS ids, so most keys are offered by several processes at once.
"""

import random
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.lakehouse.extensions import LAKEHOUSE_EXTENSIONS, load_extensions
from sentiment_assets.lib.lakehouse.lake import LakeSession

KEYS = 300
BATCHES = 12
BATCH_SIZE = 40


def _postgres_session(dsn: str, data_path: str) -> LakeSession:
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    load_extensions(con, (*LAKEHOUSE_EXTENSIONS, "postgres_scanner"))
    con.execute(
        f"attach 'ducklake:postgres:{dsn}' as lake "
        f"(data_path '{data_path}/', data_inlining_row_limit 0)"
    )
    return LakeSession(con, max_retries=10, base_delay=0.05)


def batches(seed: int) -> list[list[int]]:
    """The keys writer `seed` offers, batch by batch."""
    rng = random.Random(seed)
    return [rng.sample(range(KEYS), BATCH_SIZE) for _ in range(BATCHES)]


def main() -> None:
    catalog, data_path, table, seed, start_at = sys.argv[1:6]
    kind, _, where = catalog.partition(":")
    if kind == "sqlite":
        with Lakehouse(Path(where)).session() as session:
            _race(session, table, batches(int(seed)), float(start_at), seed)
    else:
        session = _postgres_session(where, data_path)
        try:
            _race(session, table, batches(int(seed)), float(start_at), seed)
        finally:
            session.con.close()


def _race(
    session: LakeSession, table: str, offered: list[list[int]], start_at: float, seed: str
) -> None:
    while time.time() < start_at:
        time.sleep(0.001)
    for number, ids in enumerate(offered):
        frame = pd.DataFrame({"id": ids, "writer": int(seed), "batch": number})
        result = session.append(table, frame, key=("id",))
        print(f"committed {number} {result.rows_written}", flush=True)


if __name__ == "__main__":
    main()
