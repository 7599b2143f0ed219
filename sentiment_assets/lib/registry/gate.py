"""The promotion gate: a new ensemble serves only if it beats the champion by a margin.

Both are scored on the same frozen evaluation set (`evalset.py`), so the comparison is fair
even when the data the challenger trained on differs from the champion's. The margin keeps
noise from flipping the champion back and forth between near-equal models: each swap costs
every downstream reader a reload and a re-score of every post. A refused version stays
registered as `challenger`, its tags saying why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_assets.lib.models.ensemble import Ensemble
from sentiment_assets.lib.models.evaluation import classification_metrics
from sentiment_assets.lib.registry.evalset import EvaluationSet
from sentiment_assets.lib.registry.store import CHAMPION, ModelRegistry, RegisteredVersion

DEFAULT_MARGIN = 0.005
METRIC = "macro_f1"


@dataclass(frozen=True)
class Decision:
    """Whether to promote, and why, in words a person can act on."""

    promote: bool
    reason: str


def decide(challenger: float, champion: float | None, margin: float = DEFAULT_MARGIN) -> Decision:
    """Promote when there is no champion, or when `challenger` ≥ `champion` + `margin`."""
    if champion is None:
        return Decision(True, "first registered version: no champion to beat")
    needed = champion + margin
    if challenger >= needed:
        return Decision(
            True,
            f"{METRIC} {challenger:.4f} beats the champion's {champion:.4f} by "
            f"{challenger - champion:+.4f} (margin {margin})",
        )
    return Decision(
        False,
        f"{METRIC} {challenger:.4f} does not beat the champion's {champion:.4f} by the margin "
        f"{margin} (needed {needed:.4f})",
    )


def score(ensemble: Ensemble, evaluation: EvaluationSet) -> dict[str, float]:
    """Accuracy and macro-F1 of `ensemble` on the evaluation set."""
    proba = np.asarray(ensemble.predict_proba(evaluation.data.texts), dtype=np.float64)
    figures = classification_metrics(proba, evaluation.data.labels)
    return {
        "accuracy": float(figures["accuracy"]),
        METRIC: float(figures[METRIC]),
        "n": float(len(evaluation.data.texts)),
    }


@dataclass(frozen=True)
class GateResult:
    """What happened to one newly registered version."""

    registered: RegisteredVersion
    promoted: bool
    reason: str
    challenger_scores: dict[str, float]
    champion_scores: dict[str, float] | None
    champion_before: RegisteredVersion | None
    margin: float
    evaluation_parts: dict[str, int] = field(default_factory=dict)
    evaluation_fingerprint: str = ""

    def metadata(self) -> dict[str, Any]:
        """Flat figures for Dagster materialization metadata and CLI output."""
        out: dict[str, Any] = {
            "registry_version": self.registered.number,
            "promoted": self.promoted,
            "gate_reason": self.reason,
            "gate_margin": self.margin,
            f"gate_challenger_{METRIC}": self.challenger_scores[METRIC],
            "gate_eval_rows": int(self.challenger_scores["n"]),
            "gate_eval_fingerprint": self.evaluation_fingerprint,
            "champion_before": self.champion_before.number if self.champion_before else 0,
        }
        if self.champion_scores is not None:
            out[f"gate_champion_{METRIC}"] = self.champion_scores[METRIC]
        return out


def register_and_gate(
    ensemble: Ensemble,
    *,
    models_root: Path,
    run_id: str | None,
    evaluation: EvaluationSet,
    snapshot_id: int | None,
    metrics: dict[str, float],
    margin: float = DEFAULT_MARGIN,
    tags: dict[str, object] | None = None,
) -> GateResult:
    """Register the saved `ensemble`, score it and the champion, promote or keep as challenger.

    Raises:
        ModelLoadError: the current champion's artifacts cannot be loaded (the message names the
            file); nothing is promoted then, since a broken champion must be looked at by a
            person (`sentiment rollback --to VERSION`), not silently replaced.
    """
    registry = ModelRegistry(models_root)
    registered = registry.register(
        ensemble.version,
        run_id=run_id,
        tags={
            "snapshot_id": snapshot_id if snapshot_id is not None else "",
            "mlflow_run_id": run_id or "",
            **{f"metric.{k}": f"{v:.6g}" for k, v in metrics.items()},
            **(tags or {}),
        },
    )
    champion = registry.alias(CHAMPION)
    challenger_scores = score(ensemble, evaluation)
    champion_scores = None
    if champion is not None:
        champion_scores = score(Ensemble.load(champion.path, models_root=models_root), evaluation)
    decision = decide(
        challenger_scores[METRIC], champion_scores[METRIC] if champion_scores else None, margin
    )
    registry.set_tags(
        registered.number,
        {
            f"gate.eval_{METRIC}": f"{challenger_scores[METRIC]:.6f}",
            "gate.eval_accuracy": f"{challenger_scores['accuracy']:.6f}",
            "gate.eval_rows": int(challenger_scores["n"]),
            "gate.eval_fingerprint": evaluation.fingerprint,
            "gate.margin": margin,
            "gate.champion_before": champion.number if champion else "",
            **(
                {f"gate.champion_{METRIC}": f"{champion_scores[METRIC]:.6f}"}
                if champion_scores
                else {}
            ),
        },
    )
    if decision.promote:
        registry.promote(registered.number, reason=decision.reason)
    else:
        registry.keep_as_challenger(registered.number, reason=decision.reason)
    return GateResult(
        registered=registered,
        promoted=decision.promote,
        reason=decision.reason,
        challenger_scores=challenger_scores,
        champion_scores=champion_scores,
        champion_before=champion,
        margin=margin,
        evaluation_parts=evaluation.parts,
        evaluation_fingerprint=evaluation.fingerprint,
    )
