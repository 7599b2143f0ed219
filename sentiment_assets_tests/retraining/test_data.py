"""The retraining mix: current refined labels, usable corrections, 1:1 base sample, weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.registry.evalset import feedback_held_out
from sentiment_assets.lib.retraining.data import (
    RefinedLabelsMissing,
    RetrainingDataError,
    mix_training_data,
    read_current_labels,
    usable_feedback,
)
from sentiment_assets_tests.registry.helpers import refined_rows


def test_current_labels_come_from_the_current_rows(lakehouse: Lakehouse) -> None:
    with lakehouse.session() as lake, pytest.raises(RefinedLabelsMissing):
        read_current_labels(lake)
    ids = list(range(1, 41))
    held = next(i for i, h in zip(ids, feedback_held_out(ids), strict=True) if h)
    lakehouse.append(
        "refined_labels",
        refined_rows(
            [
                (1, 1, "좋아요", "중립", 1),
                (1, 1, "좋아요", "긍정", 2),
                (1, 2, "별로", "부정", 1),
                (1, 3, "사람이 고친 글", "긍정", 1),
            ],
            feedback_ids=[None, None, None, held],
        ),
    )
    with lakehouse.session() as lake:
        current = read_current_labels(lake)
    # Post 3's label comes from a correction held out for the gate: never trained on.
    assert current["post_id"].tolist() == [1, 2]
    assert current["label"].tolist() == [2, 0]


def test_unknown_labels_are_refused(lakehouse: Lakehouse) -> None:
    lakehouse.append("refined_labels", refined_rows([(1, 1, "좋아요", "positive?", 1)]))
    with lakehouse.session() as lake, pytest.raises(RetrainingDataError, match="unknown label"):
        read_current_labels(lake)


def test_missing_columns_are_named(lakehouse: Lakehouse) -> None:
    lakehouse.append("refined_labels", pd.DataFrame({"board_id": [1], "post_id": [1]}))
    with lakehouse.session() as lake, pytest.raises(RetrainingDataError, match="lacks columns"):
        read_current_labels(lake)


def _feedback(ids: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "feedback_id": ids,
            "board_id": [1] * len(ids),
            "post_id": [10 + i % 3 for i in ids],
            "text": [f"글 {10 + i % 3}" for i in ids],
            "new_label": ["긍정" if i % 2 else "부정" for i in ids],
        }
    )


def test_usable_feedback_skips_consumed_and_held_out_and_keeps_the_last_word() -> None:
    ids = list(range(1, 41))
    held = {i for i, h in zip(ids, feedback_held_out(ids), strict=True) if h}
    assert held and len(held) < len(ids)
    usable = usable_feedback(_feedback(ids), set(ids) - {40})
    assert not set(usable["feedback_id"]) & (held | {40})
    # Three posts: the newest eligible correction of each one.
    assert len(usable) == 3
    for post, group in _feedback(ids).groupby("post_id"):
        eligible = [i for i in group["feedback_id"] if i not in held and i != 40]
        assert usable.loc[usable["post_id"] == post, "feedback_id"].tolist() == [max(eligible)]


def test_mix_is_one_to_one_with_base_feedback_weighted_and_classes_balanced() -> None:
    new = pd.DataFrame(
        {
            "board_id": [1] * 6,
            "post_id": list(range(6)),
            "text": [f"새 글 {i}" for i in range(6)],
            "label": [1, 1, 1, 1, 0, 2],
        }
    )
    feedback = pd.DataFrame(
        {
            "feedback_id": [7, 8],
            "board_id": [1, None],
            "post_id": [0, None],
            "text": ["새 글 0", "자유 문장"],
            "label": [2, 1],
        }
    )
    base = pd.DataFrame(
        {"text": [f"기본 {i}" for i in range(100)], "label": [i % 3 for i in range(100)]}
    )
    mix = mix_training_data(new, feedback, base, seed=3)
    # Post 0 was corrected by a person: its refined row gives way to the correction.
    assert mix.counts == {"refined": 5, "feedback": 2, "base_corpus": 7, "dropped_empty": 0}
    assert mix.feedback_ids == [7, 8]
    data = mix.data
    assert len(data.texts) == 14 and data.weights is not None
    assert data.texts.count("새 글 0") == 1
    neutral = np.asarray(data.labels) == 1
    texts = np.asarray(data.texts)
    fb = data.weights[texts == "자유 문장"][0]
    machine = data.weights[neutral & (texts != "자유 문장")]
    assert np.allclose(machine, machine[0]) and fb == pytest.approx(3 * machine[0])
    assert data.weights.mean() == pytest.approx(1.0)
    with pytest.raises(RetrainingDataError, match="nothing to retrain"):
        mix_training_data(new.iloc[:0], feedback.iloc[:0], base)


def test_accepts_reach_training_and_the_gate_like_corrections(
    lakehouse: Lakehouse, tmp_path: Path
) -> None:
    import dagster as dg

    from sentiment_assets.defs.feedback.assets import feedback
    from sentiment_assets.defs.feedback.resources import FeedbackStoreResource
    from sentiment_assets.defs.lakehouse.resources import LakehouseResource
    from sentiment_assets.lib.feedback.store import FeedbackStore
    from sentiment_assets.lib.refine.inputs import human_labels
    from sentiment_assets.lib.registry.evalset import feedback_part, read_feedback

    posts = range(1, 41)
    lakehouse.append(
        "raw_posts",
        pd.DataFrame(
            {"board_id": 1, "post_id": list(posts), "title": [f"글 {n}" for n in posts], "body": ""}
        ),
    )
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    for n in posts:
        store.review(
            board_id=1,
            post_id=n,
            decision="accept" if n % 2 else "correct",
            reviewer="alice",
            shown_label="중립",
            corrected_label=None if n % 2 else "부정",
            idempotency_key=f"r{n}",
            model_version="v1",
            confidence=0.5,
        )
    resources = {
        "lakehouse": LakehouseResource(path=str(lakehouse.root)),
        "feedback_store": FeedbackStoreResource(path=str(tmp_path / "feedback.sqlite")),
    }
    assert dg.materialize([feedback], resources=resources).success
    accepts = {r.id for r in store.rows_after(0) if r.old_label == r.new_label}
    assert len(accepts) == 20
    with lakehouse.session() as lake:
        rows = read_feedback(lake)
        refined_from = human_labels(lake)
    # Refinement sees every accept as a person's label ...
    assert accepts <= set(refined_from["feedback_id"].astype(int))
    # ... training takes the accepts not held out for the gate, with their confirmed label ...
    trained = usable_feedback(rows, {r.id for r in store.rows_after(0)})
    held = set(rows.loc[feedback_held_out(rows["feedback_id"]), "feedback_id"].astype(int))
    assert set(trained["feedback_id"]) & accepts == accepts - held
    assert accepts & held, "the hash holds no accept out: pick more posts"
    # ... and the gate's evaluation set holds the others out.
    assert set(feedback_part(rows)["feedback_id"].astype(int)) & accepts == accepts & held
