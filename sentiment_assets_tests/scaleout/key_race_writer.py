"""A process that appends keyed batches whose keys other writers append too, all at one instant.

Usage: python -m sentiment_assets_tests.scaleout.key_race_writer WAREHOUSE TABLE SEED START_AT

The lakehouse is the project's own `Lakehouse` at WAREHOUSE, wherever the environment puts it:
the local SQLite catalog, or the PostgreSQL catalog with S3 data of the scale-out settings. Every
writer draws its batches from the same KEYS ids, so most keys are offered by several processes
at once.
"""

import random
import sys
import time
from pathlib import Path

import pandas as pd

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.lakehouse.lake import LakeSession

KEYS = 300
BATCHES = 12
BATCH_SIZE = 40


def batches(seed: int) -> list[list[int]]:
    """The keys writer `seed` offers, batch by batch."""
    rng = random.Random(seed)
    return [rng.sample(range(KEYS), BATCH_SIZE) for _ in range(BATCHES)]


def _race(
    session: LakeSession, table: str, offered: list[list[int]], start_at: float, seed: str
) -> None:
    while time.time() < start_at:
        time.sleep(0.001)
    for number, ids in enumerate(offered):
        frame = pd.DataFrame({"id": ids, "writer": int(seed), "batch": number})
        result = session.append(table, frame, key=("id",))
        print(f"committed {number} {result.rows_written}", flush=True)


def main() -> None:
    """Wait for START_AT, then append this writer's batches one commit each."""
    warehouse, table, seed, start_at = sys.argv[1:5]
    with Lakehouse(Path(warehouse)).session() as session:
        _race(session, table, batches(int(seed)), float(start_at), seed)


if __name__ == "__main__":
    main()
