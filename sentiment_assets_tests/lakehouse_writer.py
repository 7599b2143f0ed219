"""A separate process that appends numbered batches, for the concurrency and crash tests.

Usage: python -m sentiment_assets_tests.lakehouse_writer ROOT TABLE FIRST_ID BATCHES BATCH_SIZE
"""

import sys
from pathlib import Path

import pandas as pd

from sentiment_assets.lib.lakehouse import Lakehouse


def main() -> None:
    root, table, first, batches, size = sys.argv[1:6]
    lake = Lakehouse(Path(root))
    start = int(first)
    with lake.session() as session:
        for batch in range(int(batches)):
            ids = range(start + batch * int(size), start + (batch + 1) * int(size))
            frame = pd.DataFrame({"id": list(ids), "batch": batch, "payload": "x" * 200})
            session.append(table, frame, key=("id",))
            print(f"committed {batch}", flush=True)


if __name__ == "__main__":
    main()
