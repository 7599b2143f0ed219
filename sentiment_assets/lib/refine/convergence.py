"""When the self-training loop should stop, and how strict each round's confidence rule is.

The loop stops on the first of (design §5, issue 6):
- the score has not improved by `min_improvement` (0.005) over the best earlier score for
  `patience` (3) rounds in a row — the seed's early-stopping detector, which compares against
  the best so far rather than the previous round, so a slow decline never counts as progress;
- the label change rate fell below `min_change_rate` (1%): refinement has stopped finding
  anything to correct;
- the member variance fell below `min_member_variance`: the members agree so closely that
  retraining them on each other's labels only confirms them further.

The confidence threshold rises by `threshold_step` each round up to `max_threshold`. Every round
re-judges labels the previous rounds produced with models trained on them; demanding more
confidence each time keeps the loop from ratcheting its own early mistakes into the data
(confirmation bias).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

STALLED = "stalled"
FEW_CHANGES = "few-changes"
MEMBERS_AGREE = "members-agree"


@dataclass(frozen=True)
class ConvergenceSettings:
    """Stopping rules and the threshold schedule."""

    min_improvement: float = 0.005
    patience: int = 3
    min_change_rate: float = 0.01
    min_member_variance: float = 0.0005
    """Mean across posts and classes of the variance of the members' calibrated probabilities;
    0.0005 is members typically within ±0.02 of each other."""
    start_threshold: float = 0.8
    threshold_step: float = 0.02
    max_threshold: float = 0.95

    def __post_init__(self) -> None:
        """Reject schedules that cannot work."""
        if self.patience < 1:
            raise ValueError(f"patience must be >= 1, got {self.patience}")
        if not 0.0 < self.start_threshold <= self.max_threshold <= 1.0:
            raise ValueError("need 0 < start_threshold <= max_threshold <= 1")
        if self.threshold_step < 0:
            raise ValueError("threshold_step must be >= 0")


def threshold_for(round_number: int, settings: ConvergenceSettings | None = None) -> float:
    """The threshold of round `round_number` (from 1): start + step·(round - 1), capped."""
    settings = settings or ConvergenceSettings()
    if round_number < 1:
        raise ValueError(f"rounds are numbered from 1, got {round_number}")
    raised = settings.start_threshold + settings.threshold_step * (round_number - 1)
    return round(min(settings.max_threshold, raised), 6)


@dataclass(frozen=True)
class RoundMetrics:
    """What one round measured; None where it could not be measured."""

    round: int
    score: float | None = None
    """Higher is better (an accuracy); only rounds with the same `score_name` are compared."""
    score_name: str = "score"
    label_change_rate: float | None = None
    """Share of posts labeled before this round whose label changed in it."""
    member_variance: float | None = None


@dataclass(frozen=True)
class Decision:
    """Whether to stop after the newest round, and why."""

    converged: bool
    reason: str
    """STALLED, FEW_CHANGES, MEMBERS_AGREE, or "" when the loop goes on."""
    detail: str
    improvement: float | None
    """Newest score minus the best earlier score of the same name (None if no earlier one)."""
    stalled_rounds: int
    next_threshold: float


def _known(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def stalled_rounds(history: Sequence[RoundMetrics], min_improvement: float) -> int:
    """How many rounds in a row, ending with the newest, failed to beat the best earlier score.

    Only the newest round's score name is considered, so a change of metric restarts the count.
    """
    if not history or not _known(history[-1].score):
        return 0
    name = history[-1].score_name
    scores = [m.score for m in history if m.score_name == name and _known(m.score)]
    stalled, best = 0, -math.inf
    for score in scores:
        assert score is not None
        if best == -math.inf or score >= best + min_improvement:
            stalled = 0
        else:
            stalled += 1
        best = max(best, score)
    return stalled


class ConvergenceTracker:
    """Holds the rounds so far and decides after each one whether the loop has converged."""

    def __init__(
        self,
        settings: ConvergenceSettings | None = None,
        history: Sequence[RoundMetrics] = (),
    ):
        """Start from `history` (earlier rounds, oldest first), e.g. read from the lake."""
        self.settings = settings or ConvergenceSettings()
        self.history: list[RoundMetrics] = list(history)

    @property
    def next_round(self) -> int:
        """The number the next round gets."""
        return self.history[-1].round + 1 if self.history else 1

    def threshold(self) -> float:
        """The confidence threshold the next round uses."""
        return threshold_for(self.next_round, self.settings)

    def add(self, metrics: RoundMetrics) -> Decision:
        """Record a finished round and decide."""
        if self.history and metrics.round <= self.history[-1].round:
            raise ValueError(f"round {metrics.round} after round {self.history[-1].round}")
        self.history.append(metrics)
        return self.decide()

    def decide(self) -> Decision:
        """Apply the stopping rules to the newest round."""
        s = self.settings
        newest = self.history[-1]
        earlier = [
            m.score
            for m in self.history[:-1]
            if m.score_name == newest.score_name and _known(m.score)
        ]
        improvement = None
        if _known(newest.score) and earlier:
            assert newest.score is not None
            improvement = newest.score - max(e for e in earlier if e is not None)
        stalled = stalled_rounds(self.history, s.min_improvement)
        next_threshold = threshold_for(newest.round + 1, s)
        reason, detail = "", "still improving"
        if stalled >= s.patience:
            reason = STALLED
            detail = f"{newest.score_name} improved < {s.min_improvement} for {stalled} rounds"
        elif _known(newest.label_change_rate) and (
            newest.label_change_rate is not None and newest.label_change_rate < s.min_change_rate
        ):
            reason = FEW_CHANGES
            detail = f"label change rate {newest.label_change_rate:.4f} < {s.min_change_rate}"
        elif _known(newest.member_variance) and (
            newest.member_variance is not None and newest.member_variance < s.min_member_variance
        ):
            reason = MEMBERS_AGREE
            detail = f"member variance {newest.member_variance:.6f} < {s.min_member_variance}"
        return Decision(
            converged=bool(reason),
            reason=reason,
            detail=detail,
            improvement=improvement,
            stalled_rounds=stalled,
            next_threshold=next_threshold,
        )
