"""The refinement rules on tiny hand-built frames: who wins, what is corrected, what is asked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sentiment_assets.lib.models.base import LABELS
from sentiment_assets.lib.refine.rules import (
    CONFIRMED,
    CORRECTED,
    FROZEN,
    HUMAN,
    HUMAN_KEPT,
    RELABEL_CONFIRMED,
    RELABEL_FAILED,
    RELABELED,
    UNCERTAIN,
    RelabelAnswer,
    apply_relabels,
    decide,
    select,
)

NEG, NEU, POS = LABELS


def onehot(label: str, p: float = 0.9) -> list[float]:
    rest = (1 - p) / 2
    return [p if x == label else rest for x in LABELS]


def posts(rows: list[dict]) -> pd.DataFrame:
    base = {
        "given_source": "llm",
        "human_label": None,
        "ensemble_label": None,
        "ensemble_confidence": np.nan,
        "frozen": False,
    }
    return pd.DataFrame([{**base, **r} for r in rows])


def run(frame: pd.DataFrame, oos: list[str], *, threshold: float = 0.8, issues=None):
    proba = np.array([onehot(x) for x in oos])
    scores = 1 - proba[np.arange(len(frame)), [LABELS.index(g) for g in frame["given_label"]]]
    return decide(
        frame,
        threshold=threshold,
        oos_proba=proba,
        is_label_issue=np.array(issues if issues is not None else [False] * len(frame)),
        label_error_score=scores,
    )


def test_human_feedback_wins_over_a_confident_agreeing_ensemble() -> None:
    frame = posts(
        [
            # the ensemble and the out-of-sample model both say 긍정 with confidence: a person
            # said 중립, and the person wins
            {
                "given_label": POS,
                "human_label": NEU,
                "ensemble_label": POS,
                "ensemble_confidence": 0.99,
            },
            # a human label already in place is never overruled by a model
            {
                "given_label": NEG,
                "given_source": "human",
                "ensemble_label": POS,
                "ensemble_confidence": 0.99,
            },
        ]
    )
    out = run(frame, [POS, POS])
    assert out["decision"].tolist() == [HUMAN, HUMAN_KEPT]
    assert out["new_label"].tolist() == [NEU, None]


def test_confident_agreement_corrects_and_confirms() -> None:
    frame = posts(
        [
            {"given_label": NEG, "ensemble_label": POS, "ensemble_confidence": 0.95},
            {"given_label": POS, "ensemble_label": POS, "ensemble_confidence": 0.95},
        ]
    )
    out = run(frame, [POS, POS])
    assert out["decision"].tolist() == [CORRECTED, CONFIRMED]
    assert out["new_label"].tolist() == [POS, None]


def test_disagreement_or_low_confidence_is_uncertain_never_corrected() -> None:
    frame = posts(
        [
            # confident ensemble, but the out-of-sample model sides with the label
            {"given_label": NEG, "ensemble_label": POS, "ensemble_confidence": 0.97},
            # both models say 긍정, but the ensemble is below the threshold
            {"given_label": NEG, "ensemble_label": POS, "ensemble_confidence": 0.6},
            # never scored by the ensemble
            {"given_label": NEG},
            # everyone agrees, but confident learning flags it: still worth a look
            {"given_label": POS, "ensemble_label": POS, "ensemble_confidence": 0.7},
        ]
    )
    out = run(frame, [NEG, POS, NEG, POS], issues=[False, False, False, True])
    assert out["decision"].tolist() == [UNCERTAIN] * 4
    assert bool(out["new_label"].isna().all())
    assert bool((out["priority"] > 0).all())


def test_agreeing_low_confidence_label_is_kept_when_nothing_flags_it() -> None:
    # Above the threshold, models agree with the label and nothing is flagged: kept as is.
    frame = posts([{"given_label": NEU, "ensemble_label": NEU, "ensemble_confidence": 0.81}])
    assert run(frame, [NEU])["decision"].tolist() == [CONFIRMED]
    frame = posts([{"given_label": NEU, "ensemble_label": NEU, "ensemble_confidence": 0.5}])
    # below it, the post is uncertain (low confidence) but not a correction
    assert run(frame, [NEU])["decision"].tolist() == [UNCERTAIN]


@pytest.mark.parametrize(("threshold", "expected"), [(0.8, CORRECTED), (0.9, UNCERTAIN)])
def test_threshold_decides_whether_a_correction_is_confident_enough(
    threshold: float, expected: str
) -> None:
    frame = posts([{"given_label": NEG, "ensemble_label": POS, "ensemble_confidence": 0.85}])
    assert run(frame, [POS], threshold=threshold)["decision"].tolist() == [expected]


def test_without_out_of_sample_predictions_nothing_is_corrected() -> None:
    frame = posts([{"given_label": NEG, "ensemble_label": POS, "ensemble_confidence": 0.99}])
    out = decide(frame, threshold=0.8, oos_proba=None, is_label_issue=None, label_error_score=None)
    assert out["decision"].tolist() == [UNCERTAIN]


def test_frozen_posts_only_change_through_people() -> None:
    frame = posts(
        [
            {
                "given_label": NEG,
                "ensemble_label": POS,
                "ensemble_confidence": 0.99,
                "frozen": True,
            },
            {"given_label": NEG, "human_label": POS, "frozen": True},
        ]
    )
    assert run(frame, [POS, POS])["decision"].tolist() == [FROZEN, HUMAN]


def test_budget_takes_the_most_doubtful_first() -> None:
    frame = posts(
        [
            {"given_label": NEG, "ensemble_label": POS, "ensemble_confidence": c}
            for c in (0.5, 0.3, 0.7, 0.2)
        ]
        + [{"given_label": POS, "ensemble_label": POS, "ensemble_confidence": 0.99}]
    )
    out = run(frame, [NEG, NEG, NEG, NEG, POS])
    chosen = select(out, 2)
    assert chosen.tolist() == [False, True, False, True, False]  # confidence 0.3 and 0.2
    assert select(out, 0).sum() == 0
    assert select(out, 99).sum() == 4  # only uncertain posts, never the confirmed one


def test_relabel_answers_outside_the_label_set_never_become_labels() -> None:
    frame = posts(
        [
            {"given_label": NEG, "ensemble_label": POS, "ensemble_confidence": c}
            for c in (0.5, 0.4, 0.3, 0.2)
        ]
    )
    out = run(frame, [NEG] * 4)
    answers = {
        0: RelabelAnswer("매우 긍정", 0.9, "openai:m"),
        1: RelabelAnswer(None, None, "openai:m"),
        2: RelabelAnswer(POS, 0.8, "openai:m"),
        3: RelabelAnswer(NEG, 0.8, "openai:m"),
    }
    final = apply_relabels(out, frame, answers, max_review=1)
    assert final["decision"].tolist() == [
        RELABEL_FAILED,
        RELABEL_FAILED,
        RELABELED,
        RELABEL_CONFIRMED,
    ]
    assert final["new_label"].tolist() == [None, None, POS, None]
    assert set(final["relabel_label"].dropna()) <= set(LABELS)
    # one review slot: the unsettled post of highest priority (confidence 0.4 beats 0.5)
    assert final["needs_review"].tolist() == [False, True, False, False]


def test_relabel_that_contradicts_the_ensemble_goes_to_people() -> None:
    frame = posts([{"given_label": NEG, "ensemble_label": NEU, "ensemble_confidence": 0.5}])
    out = run(frame, [NEG])
    final = apply_relabels(out, frame, {0: RelabelAnswer(POS, 0.7, "x")}, max_review=0)
    assert final["decision"].tolist() == [RELABELED]
    assert final["needs_review"].tolist() == [True]


def test_labels_outside_the_set_are_refused_up_front() -> None:
    frame = posts([{"given_label": "좋음", "ensemble_label": POS, "ensemble_confidence": 0.9}])
    proba = np.array([onehot(POS)])
    with pytest.raises(ValueError, match="outside"):
        decide(frame, threshold=0.8, oos_proba=proba, is_label_issue=None, label_error_score=None)
    with pytest.raises(ValueError, match="lack columns"):
        decide(
            pd.DataFrame({"given_label": [POS]}),
            threshold=0.8,
            oos_proba=None,
            is_label_issue=None,
            label_error_score=None,
        )
