"""The round's signals: out-of-sample predictions, cleanlab flags, member variance, bias checks."""

from __future__ import annotations

import json
from typing import cast

import numpy as np
import pandas as pd
import pytest

from sentiment_assets.lib.models.base import LABEL_INDEX, LABELS
from sentiment_assets.lib.refine.bias import bias_report
from sentiment_assets.lib.refine.inputs import member_variance
from sentiment_assets.lib.refine.oos import NotEnoughLabels, out_of_sample
from sentiment_assets_tests.refine.fixtures import TEXTS, truth


def test_out_of_sample_flags_the_flipped_label_and_predicts_its_true_class() -> None:
    texts = [f"{TEXTS[i % len(TEXTS)]} {i}" for i in range(48)]
    labels = np.array([LABEL_INDEX[truth(i)] for i in range(48)])
    labels[7] = LABEL_INDEX["부정"]  # truth(7) is 긍정
    result = out_of_sample(texts, labels, folds=4)
    assert result.proba.shape == (48, len(LABELS))
    assert np.allclose(result.proba.sum(axis=1), 1.0)
    assert result.proba[:, LABEL_INDEX["중립"]].max() == 0.0  # a class nobody used
    assert LABELS[int(result.proba[7].argmax())] == "긍정"
    assert result.is_label_issue[7]
    assert result.label_error_score[7] == result.label_error_score.max()
    assert result.is_label_issue.sum() <= 3


def test_out_of_sample_needs_two_classes_with_enough_posts() -> None:
    with pytest.raises(NotEnoughLabels, match="two classes"):
        out_of_sample(["a", "b", "c"], np.array([0, 0, 0]))
    with pytest.raises(NotEnoughLabels, match="fewer than"):
        out_of_sample(["a", "b", "c"], np.array([0, 0, 2]))


def test_member_variance_measures_spread_and_needs_two_members() -> None:
    same = json.dumps({"a": [0.1, 0.1, 0.8], "b": [0.1, 0.1, 0.8]})
    apart = json.dumps({"a": [1.0, 0.0, 0.0], "b": [0.0, 0.0, 1.0]})
    assert member_variance(pd.Series([same])) == 0.0
    assert member_variance(pd.Series([apart])) == pytest.approx((0.25 + 0 + 0.25) / 3)
    assert member_variance(pd.Series([json.dumps({"a": [0.2, 0.3, 0.5]}), None])) is None


def test_bias_report_warns_about_a_labeler_overruled_far_more_than_the_rest() -> None:
    n = 40
    frame = pd.DataFrame(
        {
            "board_id": [1] * (2 * n) + [2] * n,
            "job": ["히어로"] * (2 * n) + [None] * n,
            "given_labeler": ["openai:a"] * n + ["openai:c"] * n + ["gemini:b"] * n,
            "given_label": ["긍정"] * (3 * n),
        }
    )
    before = cast(pd.Series, frame["given_label"]).copy()
    after = before.copy()
    after.iloc[2 * n : 2 * n + 20] = "부정"  # half of labeler b's labels changed, none of a's
    report = bias_report(frame, before, after)
    by_labeler = cast(dict, report["by_labeler"])
    assert report["correction_rate"] == round(20 / 120, 4)
    assert by_labeler["gemini:b"]["correction_rate"] == 0.5
    assert by_labeler["openai:a"]["correction_rate"] == 0.0
    assert cast(dict, report["by_job"])["unknown"]["posts"] == n
    assert report["distribution_shift_tv"] == round(20 / 120, 4)
    assert report["warnings"] == [
        "board 2: 50.0% of labels changed vs 16.7% overall",
        "job unknown: 50.0% of labels changed vs 16.7% overall",
        "labeler gemini:b: 50.0% of labels changed vs 16.7% overall",
    ]
