"""The refinement rules: what one round does with each post's label. Pure: frames in, frames out.

Per post, first match wins:
1. human feedback wins over everything: a correction becomes the label (`human`), and a post
   whose current label is human is never touched by a model again (`human-kept`);
2. `frozen`: the loop has converged and the post was refined in an earlier round — only new
   posts (and people) change labels after convergence;
3. the calibrated ensemble is confident (≥ threshold) and agrees with the out-of-sample model:
   the label is `confirmed` when it matches them, else `corrected` to their label
   (`ensemble-corrected`). Requiring both keeps the ensemble from correcting toward its own
   memorised mistakes: the out-of-sample model never saw the label it predicts;
4. `uncertain`: confident learning flags the label, or the ensemble is not confident, or either
   model disagrees with the label. Uncertain posts are ranked by `priority` (most likely wrong
   first); the top `max_relabel` go to the LLM, and the top `max_review` of those the LLM did not
   settle go to people;
5. otherwise `kept`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from sentiment_assets.lib.models.base import LABEL_INDEX, LABELS

HUMAN = "human"
HUMAN_KEPT = "human-kept"
FROZEN = "frozen"
CONFIRMED = "confirmed"
CORRECTED = "corrected"
UNCERTAIN = "uncertain"
KEPT = "kept"
RELABELED = "relabeled"
RELABEL_CONFIRMED = "relabel-confirmed"
RELABEL_FAILED = "relabel-unanswered"

CHANGING = (HUMAN, CORRECTED, RELABELED)
"""Decisions that write a new label version."""

INPUT_COLUMNS = (
    "given_label",
    "given_source",
    "human_label",
    "ensemble_label",
    "ensemble_confidence",
    "frozen",
)


@dataclass(frozen=True)
class RuleSettings:
    """Budgets of one round."""

    max_relabel: int = 100
    """Uncertain posts sent to the LLM relabeler per round (its request/token caps also apply)."""
    max_review: int = 50
    """Uncertain posts flagged for the human review queue per round."""

    def __post_init__(self) -> None:
        """Reject negative budgets."""
        if self.max_relabel < 0 or self.max_review < 0:
            raise ValueError("max_relabel and max_review must be >= 0")


def as_floats(values: object) -> pd.Series:
    """A float Series of `values` (non-numbers become NaN)."""
    return pd.Series(pd.to_numeric(cast(pd.Series, values), errors="coerce"), dtype="float64")


def _label_names(indices: np.ndarray) -> list[str]:
    return [LABELS[int(i)] for i in indices]


def decide(
    posts: pd.DataFrame,
    *,
    threshold: float,
    oos_proba: np.ndarray | None,
    is_label_issue: np.ndarray | None,
    label_error_score: np.ndarray | None,
) -> pd.DataFrame:
    """Apply rules 1–5 to `posts` (one row per post, INPUT_COLUMNS at least).

    Args:
        posts: `given_label` is the current label, `given_source` its source, `human_label` the
            newest human correction (None/NaN if none), `ensemble_label`/`ensemble_confidence`
            the calibrated ensemble's prediction (None/NaN if unscored), `frozen` whether the
            post is past refinement (converged loop, post refined before).
        threshold: the round's confidence threshold.
        oos_proba: (n, len(LABELS)) out-of-sample probabilities, or None when unavailable
            (then nothing is corrected: agreement cannot be checked).
        is_label_issue: confident learning's flags, aligned with `posts` (None: none flagged).
        label_error_score: 1 - out-of-sample probability of the given label (None: unknown).

    Returns:
        A frame on `posts`' index: decision, new_label (the label after rule 1/3, NaN when
        unchanged), oos_label, oos_confidence, is_label_issue, label_error_score, priority.
    """
    missing = [c for c in INPUT_COLUMNS if c not in posts.columns]
    if missing:
        raise ValueError(f"posts lack columns {missing}")
    bad = set(posts["given_label"].dropna()) - set(LABELS)
    if bad:
        raise ValueError(f"given labels outside {list(LABELS)}: {sorted(bad)}")
    n = len(posts)
    index = posts.index
    out = pd.DataFrame(index=index)
    if oos_proba is not None:
        if oos_proba.shape != (n, len(LABELS)):
            raise ValueError(f"oos_proba must have shape {(n, len(LABELS))}")
        out["oos_label"] = _label_names(oos_proba.argmax(axis=1)) if n else []
        out["oos_confidence"] = oos_proba.max(axis=1) if n else []
    else:
        out["oos_label"] = pd.Series([None] * n, index=index, dtype="object")
        out["oos_confidence"] = np.nan
    out["is_label_issue"] = (
        np.asarray(is_label_issue, dtype=bool) if is_label_issue is not None else False
    )
    out["label_error_score"] = (
        np.asarray(label_error_score, dtype=np.float64) if label_error_score is not None else np.nan
    )

    given = posts["given_label"]
    human = posts["human_label"].where(posts["human_label"].isin(LABELS))
    ens = posts["ensemble_label"].where(posts["ensemble_label"].isin(LABELS))
    conf = as_floats(posts["ensemble_confidence"]).fillna(0.0)
    is_human_now = posts["given_source"] == "human"

    rule_human = human.notna() & ((human != given) | ~is_human_now)
    rule_human_kept = ~rule_human & (is_human_now | human.notna())
    rest = ~(rule_human | rule_human_kept)
    rule_frozen = rest & posts["frozen"].astype(bool)
    rest &= ~rule_frozen
    agree = ens.notna() & (conf >= threshold) & (ens == out["oos_label"])
    rule_confirmed = rest & agree & (ens == given)
    rule_corrected = rest & agree & (ens != given)
    rest &= ~agree
    uncertain = rest & (
        out["is_label_issue"]
        | ens.isna()
        | (conf < threshold)
        | (ens != given)
        | (out["oos_label"].notna() & (out["oos_label"] != given))
    )

    decision = pd.Series(KEPT, index=index, dtype="object")
    decision[rule_human] = HUMAN
    decision[rule_human_kept] = HUMAN_KEPT
    decision[rule_frozen] = FROZEN
    decision[rule_confirmed] = CONFIRMED
    decision[rule_corrected] = CORRECTED
    decision[uncertain] = UNCERTAIN
    out["decision"] = decision
    new_label = pd.Series([None] * n, index=index, dtype="object")
    new_label[rule_human] = human[rule_human]
    new_label[rule_corrected] = ens[rule_corrected]
    out["new_label"] = new_label
    # Most likely wrong first: the out-of-sample doubt about the label, plus the ensemble's own
    # doubt, with confident learning's verdict breaking ties in favour of flagged posts.
    doubt = out["label_error_score"].fillna(0.5) + (1.0 - conf) + out["is_label_issue"] * 0.5
    out["priority"] = doubt.where(uncertain, 0.0)
    return out


def select(decisions: pd.DataFrame, budget: int, *, among: pd.Series | None = None) -> pd.Series:
    """The `budget` uncertain posts (optionally only those in `among`) of highest priority."""
    pool = decisions["decision"] == UNCERTAIN
    if among is not None:
        pool &= among
    ranked = decisions.loc[pool].sort_values("priority", ascending=False, kind="stable")
    chosen = pd.Series(False, index=decisions.index)
    chosen[ranked.index[:budget]] = True
    return chosen


@dataclass(frozen=True)
class RelabelAnswer:
    """What the LLM said about one post; `label` is None when it gave no valid label."""

    label: str | None
    confidence: float | None
    labeler: str


def apply_relabels(
    decisions: pd.DataFrame,
    posts: pd.DataFrame,
    answers: Mapping[Any, RelabelAnswer],
    *,
    max_review: int,
) -> pd.DataFrame:
    """Fold the LLM's answers (keyed by `posts`' index) into `decisions`; flag posts for review.

    An answer outside LABELS is treated as no answer: it never becomes a label. A post the LLM
    relabeled differently gets `relabeled`; the same label `relabel-confirmed`; no valid answer
    `relabel-unanswered` (still uncertain). Review goes to the `max_review` posts of highest
    priority among the uncertain ones the LLM did not settle, plus relabeled posts where the
    LLM's new label contradicts the ensemble (two sources disagree: a person decides).
    """
    out = decisions.copy()
    out["relabel_label"] = pd.Series([None] * len(out), index=out.index, dtype="object")
    out["relabel_confidence"] = np.nan
    out["relabel_labeler"] = pd.Series([None] * len(out), index=out.index, dtype="object")
    for key, answer in answers.items():
        if key not in out.index or out.at[key, "decision"] != UNCERTAIN:
            continue
        out.at[key, "relabel_labeler"] = answer.labeler
        if answer.label not in LABELS:
            out.at[key, "decision"] = RELABEL_FAILED
            continue
        out.at[key, "relabel_label"] = answer.label
        out.at[key, "relabel_confidence"] = (
            float(answer.confidence) if answer.confidence is not None else np.nan
        )
        if answer.label == posts.at[key, "given_label"]:
            out.at[key, "decision"] = RELABEL_CONFIRMED
        else:
            out.at[key, "decision"] = RELABELED
            out.at[key, "new_label"] = answer.label
    unsettled = out["decision"].isin([UNCERTAIN, RELABEL_FAILED])
    ranked = out.loc[unsettled].sort_values("priority", ascending=False, kind="stable")
    review = pd.Series(False, index=out.index)
    review[ranked.index[:max_review]] = True
    contested = (out["decision"] == RELABELED) & (
        posts["ensemble_label"].isin(LABELS) & (posts["ensemble_label"] != out["new_label"])
    )
    out["needs_review"] = review | contested
    return out


def label_indices(labels: pd.Series) -> np.ndarray:
    """Class indices of label names (all must be in LABELS)."""
    return np.array([LABEL_INDEX[str(x)] for x in labels], dtype=np.int64)
