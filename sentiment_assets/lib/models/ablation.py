"""Each member's contribution to the ensemble, measured by ablation on dev.

A member's contribution is how much the ensemble's dev macro-F1 drops when that member is left
out (the others keep their fitted weights, renormalised, and their temperatures). Fitted weights
alone can mislead: a member may carry a large weight yet only repeat what another member says.
When one member contributes more than `DOMINANCE` times another, the ensemble is close to a
single model and the others cost compute for little; that is reported as a warning, never acted
on automatically (a small dev set makes the figures noisy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sentiment_assets.lib.models.ensemble import MemberRef, combine
from sentiment_assets.lib.models.evaluation import classification_metrics

DOMINANCE = 3.0


@dataclass(frozen=True)
class Contributions:
    """Dev macro-F1 of the full ensemble, the drop without each member, and any warning."""

    full_macro_f1: float
    drops: dict[str, float]
    warning: str | None


def _macro_f1(proba: np.ndarray, labels: np.ndarray) -> float:
    return float(classification_metrics(proba, labels)["macro_f1"])


def dominance_warning(drops: dict[str, float], factor: float = DOMINANCE) -> str | None:
    """A warning when the largest contribution exceeds `factor` × the smallest.

    A member whose removal does not hurt (drop ≤ 0) while another's does counts as dominated.
    """
    if len(drops) < 2:
        return None
    top_name = max(drops, key=lambda n: drops[n])
    low_name = min(drops, key=lambda n: drops[n])
    top, low = drops[top_name], drops[low_name]
    if top <= 0 or (low > 0 and top <= factor * low):
        return None
    return (
        f"member {top_name} contributes {top:+.4f} dev macro-F1, more than {factor:g}x "
        f"{low_name} ({low:+.4f}); contributions { ({n: round(d, 4) for n, d in drops.items()}) }"
    )


def member_contributions(
    member_probs: dict[str, np.ndarray],
    labels: np.ndarray,
    refs: dict[str, MemberRef],
    temperature: float,
) -> Contributions:
    """Ablate each member in turn from the fitted ensemble; see the module docstring."""
    labels = np.asarray(labels, dtype=np.int64)
    full, _, _ = combine(member_probs, refs, temperature)
    full_f1 = _macro_f1(full, labels)
    drops: dict[str, float] = {}
    if len(member_probs) > 1:
        for name in member_probs:
            rest = {n: p for n, p in member_probs.items() if n != name}
            without, _, _ = combine(rest, {n: refs[n] for n in rest}, temperature)
            drops[name] = full_f1 - _macro_f1(without, labels)
    return Contributions(full_f1, drops, dominance_warning(drops))
