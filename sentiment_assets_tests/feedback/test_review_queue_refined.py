"""The review queue takes refinement's label-error scores and review flags into its ranking."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.serving.review_queue import QueueFilter, rank
from sentiment_assets_tests.feedback.helpers import NONE_REVIEWED, write_predictions


@pytest.fixture
def lake(tmp_path: Path) -> Lakehouse:
    lake = Lakehouse(tmp_path / "warehouse")
    # Post 1 is the model's least certain; post 2 is confident.
    write_predictions(lake, "e1", [(1, 1, "부정", 0.40), (1, 2, "긍정", 0.95)])
    return lake


def _order(lake: Lakehouse) -> list[int]:
    with lake.session() as session:
        _, frame, _, _ = rank(session, QueueFilter(), NONE_REVIEWED, include_reviewed=False)
    return frame["post_id"].tolist()


def test_without_refinement_uncertainty_ranks(lake: Lakehouse) -> None:
    assert _order(lake) == [1, 2]


def test_refinement_flags_and_newest_round_win(lake: Lakehouse) -> None:
    quality = pd.DataFrame(
        {
            "board_id": [1, 1, 1],
            "post_id": [2, 2, 1],
            "round": [1, 2, 2],
            # Round 1 thought post 2 fine; round 2 found its label doubtful and flagged it.
            "label_error_score": [0.0, 0.9, 0.1],
            "needs_review": [False, True, False],
        }
    )
    lake.append("label_quality", quality)
    with lake.session() as session:
        _, frame, _, _ = rank(session, QueueFilter(), NONE_REVIEWED, include_reviewed=False)
    assert frame["post_id"].tolist() == [2, 1]
    assert frame.set_index("post_id").loc[2, "label_error"] == pytest.approx(0.9)
