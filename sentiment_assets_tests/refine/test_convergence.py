"""Convergence: stop on a stalled series, few changes or agreeing members; the threshold rises."""

from __future__ import annotations

import pytest

from sentiment_assets.lib.refine.convergence import (
    FEW_CHANGES,
    MEMBERS_AGREE,
    STALLED,
    ConvergenceSettings,
    ConvergenceTracker,
    Decision,
    RoundMetrics,
    threshold_for,
)


def feed(scores: list[float], label_change_rate: float | None = None) -> list[Decision]:
    tracker = ConvergenceTracker()
    return [
        tracker.add(RoundMetrics(round=i + 1, score=s, label_change_rate=label_change_rate))
        for i, s in enumerate(scores)
    ]


def test_stalled_series_stops_after_three_rounds_without_real_improvement() -> None:
    # +0.004, -0.001, +0.003: each below 0.005 over the best so far
    decisions = feed([0.80, 0.804, 0.803, 0.807], label_change_rate=0.2)
    assert [d.converged for d in decisions] == [False, False, False, True]
    assert decisions[-1].reason == STALLED
    assert decisions[-1].stalled_rounds == 3


def test_improving_series_continues() -> None:
    decisions = feed([0.70, 0.72, 0.74, 0.76, 0.78, 0.80], label_change_rate=0.1)
    assert not any(d.converged for d in decisions)
    assert decisions[-1].improvement == pytest.approx(0.02)


def test_slow_decline_never_counts_as_progress() -> None:
    # Compared with the best so far, not the previous round: a recovery to below the best stalls.
    decisions = feed([0.80, 0.78, 0.79, 0.795], label_change_rate=0.1)
    assert decisions[-1].converged and decisions[-1].reason == STALLED


def test_one_real_improvement_resets_the_count() -> None:
    decisions = feed([0.80, 0.801, 0.802, 0.82, 0.821, 0.822], label_change_rate=0.1)
    assert [d.stalled_rounds for d in decisions] == [0, 1, 2, 0, 1, 2]
    assert not any(d.converged for d in decisions)


def test_few_label_changes_stop_the_loop() -> None:
    tracker = ConvergenceTracker()
    assert not tracker.add(RoundMetrics(1, 0.7, label_change_rate=0.2)).converged
    decision = tracker.add(RoundMetrics(2, 0.75, label_change_rate=0.009))
    assert decision.converged and decision.reason == FEW_CHANGES


def test_agreeing_members_stop_the_loop_and_missing_measures_do_not() -> None:
    tracker = ConvergenceTracker()
    assert not tracker.add(RoundMetrics(1, None, label_change_rate=None)).converged
    assert not tracker.add(RoundMetrics(2, 0.7, member_variance=0.01)).converged
    decision = tracker.add(RoundMetrics(3, 0.8, member_variance=0.0001))
    assert decision.converged and decision.reason == MEMBERS_AGREE


def test_scores_of_different_names_are_not_compared() -> None:
    tracker = ConvergenceTracker()
    for i, s in enumerate([0.9, 0.9, 0.9]):
        tracker.add(RoundMetrics(i + 1, s, score_name="oos_accuracy"))
    decision = tracker.add(RoundMetrics(4, 0.6, score_name="human_accuracy"))
    assert decision.improvement is None and decision.stalled_rounds == 0


def test_threshold_rises_by_step_and_is_capped() -> None:
    assert [threshold_for(r) for r in (1, 2, 3, 8, 9, 30)] == [0.8, 0.82, 0.84, 0.94, 0.95, 0.95]
    tracker = ConvergenceTracker(history=[RoundMetrics(1), RoundMetrics(2)])
    assert tracker.next_round == 3 and tracker.threshold() == 0.84
    flat = ConvergenceSettings(threshold_step=0.0)
    assert threshold_for(5, flat) == 0.8


def test_bad_settings_and_rounds_are_refused() -> None:
    with pytest.raises(ValueError):
        ConvergenceSettings(start_threshold=0.99, max_threshold=0.9)
    with pytest.raises(ValueError):
        threshold_for(0)
    tracker = ConvergenceTracker(history=[RoundMetrics(2)])
    with pytest.raises(ValueError, match="after round 2"):
        tracker.add(RoundMetrics(2))
