"""A separate process that submits numbered corrections, for the multi-process store test.

Usage: python -m sentiment_assets_tests.feedback.store_writer DB FIRST COUNT TAG
Keys are `key-<n>` without the tag, so processes given overlapping ranges collide on purpose.
"""

import sys
from pathlib import Path

from sentiment_assets.lib.feedback.store import FeedbackInput, FeedbackStore
from sentiment_assets.lib.models.base import LABELS


def main() -> None:
    db, first, count, tag = sys.argv[1:5]
    store = FeedbackStore(Path(db))
    created = 0
    for n in range(int(first), int(first) + int(count)):
        _, new = store.add(
            FeedbackInput(
                new_label=LABELS[n % 3],
                reviewer="proc",
                idempotency_key=f"key-{n}",
                text=f"문장 {n}",
                comment=tag,
            )
        )
        created += new
    print(created, flush=True)


if __name__ == "__main__":
    main()
