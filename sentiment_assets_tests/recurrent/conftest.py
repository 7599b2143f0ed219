"""Real NSMC rows for the recurrent members' tests, read once per session.

The rows are the clearest of NSMC's binary convention, rating 1 (부정) against rating 10 (긍정),
balanced, so chance accuracy on the held-out rows is 0.5 whatever the model predicts, and a tiny
model trained for seconds has a clear signal to find. The session-scoped fixture reads the
same file as the `nsmc_path` fixture and skips the same way when it is absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
import pytest

from sentiment_assets.lib.models.base import LabeledTexts
from sentiment_assets_tests.conftest import NSMC_PATH

TRAIN_ROWS = 800
DEV_ROWS = 200
HELD_OUT_ROWS = 300


@dataclass(frozen=True)
class Rows:
    train: LabeledTexts
    dev: LabeledTexts
    held_out: LabeledTexts


def _balanced(frame: pd.DataFrame, n: int, seed: int) -> LabeledTexts:
    negative = frame[frame.rating == 1].sample(n // 2, random_state=seed)
    positive = frame[frame.rating == 10].sample(n - n // 2, random_state=seed)
    rows = pd.concat([negative, positive]).sample(frac=1.0, random_state=seed)
    labels = np.where(rows.rating.to_numpy() <= 4, 0, 2)
    return LabeledTexts(rows.text.tolist(), labels)


@pytest.fixture(scope="session")
def nsmc_rows() -> Rows:
    if not NSMC_PATH.is_file():
        pytest.skip(f"real NSMC data not found at {NSMC_PATH}")
    frame = pd.read_parquet(NSMC_PATH, columns=["rating", "text", "split"])

    def split(name: str) -> pd.DataFrame:
        return cast(pd.DataFrame, frame[frame.split == name])

    return Rows(
        train=_balanced(split("train"), TRAIN_ROWS, 1),
        dev=_balanced(split("dev"), DEV_ROWS, 2),
        held_out=_balanced(split("test"), HELD_OUT_ROWS, 3),
    )


# Inputs a live service receives; each must get a probability row, none may crash prediction.
BAD_INPUTS = [
    "",
    "   \n\t ",
    "😀😀😂🔥",
    "정말 최고의 게임 " * 1250,
    "This patch is great, honestly.",
    "!!!???...",
]
