"""One refinement round, without Dagster: inputs in, new label versions and round metrics out.

1. Ingest: a post labeled for the first time gets version 1 from its labeler (`llm` or `weak`);
   a post whose current label is weak gets a new `llm` version once an LLM has labeled it.
2. Judge every labeled post (lib/refine/rules.py) with the round's threshold, the calibrated
   ensemble, k-fold out-of-sample predictions and cleanlab's flags (lib/refine/oos.py).
3. Send the most doubtful to the LLM relabeler (when one is configured) and flag the most
   uncertain of the rest for people.
4. Measure: label change rate over posts labeled before this round, a score, member variance;
   decide convergence (lib/refine/convergence.py); bias checks for the metadata.

The score is the ensemble's accuracy on human-labeled posts once there are `min_human` of
them (people are the only labels refinement never touches, so the measure cannot be gamed by
the loop), else the out-of-sample model's agreement with the labels the round started from (how
consistent the labels are with each other; it rises as wrong labels are removed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import numpy as np
import pandas as pd

from sentiment_assets.lib.models.base import LABELS
from sentiment_assets.lib.refine.bias import bias_report
from sentiment_assets.lib.refine.convergence import (
    ConvergenceSettings,
    ConvergenceTracker,
    Decision,
    RoundMetrics,
)
from sentiment_assets.lib.refine.inputs import RoundInputs, member_variance
from sentiment_assets.lib.refine.oos import NotEnoughLabels, out_of_sample
from sentiment_assets.lib.refine.rules import (
    CHANGING,
    CORRECTED,
    HUMAN,
    RELABELED,
    RelabelAnswer,
    RuleSettings,
    apply_relabels,
    as_floats,
    decide,
    label_indices,
    select,
)
from sentiment_assets.lib.refine.tables import LABEL_QUALITY_COLUMNS, REFINED_COLUMNS
from sentiment_assets.lib.text.normalize import text_hash

Relabeler = Callable[[Mapping[str, str]], Mapping[str, RelabelAnswer]]
"""Given {post key: text}, the LLM's answer per key (keys without an answer may be left out)."""

_SOURCE_OF_DECISION = {HUMAN: "human", CORRECTED: "ensemble-corrected", RELABELED: "llm-relabel"}


@dataclass(frozen=True)
class RoundSettings:
    """Everything that shapes a round."""

    rules: RuleSettings = field(default_factory=RuleSettings)
    convergence: ConvergenceSettings = field(default_factory=ConvergenceSettings)
    folds: int = 5
    min_human: int = 30
    """Human-labeled posts needed before the score switches to accuracy on them."""
    seed: int = 13


@dataclass
class RoundResult:
    """What a round decided; `versions` and `quality` are rows for the lake tables."""

    round: int
    threshold: float
    versions: pd.DataFrame
    quality: pd.DataFrame
    metrics: RoundMetrics
    decision: Decision
    counts: dict[str, int]
    bias: dict[str, object]
    notes: list[str]
    refined_at: pd.Timestamp
    """Naive UTC, the same on every row the round writes."""


def post_key(board_id: int, post_id: int) -> str:
    """The key of a post in relabel requests."""
    return f"{board_id}:{post_id}"


def _naive_utc(now: datetime | None) -> pd.Timestamp:
    stamp = now or datetime.now(UTC)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return cast(pd.Timestamp, pd.Timestamp(stamp))


def _universe(inputs: RoundInputs) -> pd.DataFrame:
    """One row per post that has or gets a label, with its current and incoming labels."""
    key = ["board_id", "post_id"]
    current = inputs.current.rename(
        columns={
            "label": "cur_label",
            "source": "cur_source",
            "confidence": "cur_confidence",
            "labeler": "cur_labeler",
            "label_version": "cur_version",
            "refined_at": "cur_refined_at",
            "text": "cur_text",
            "feedback_id": "cur_feedback_id",
        }
    )[
        [
            *key,
            "cur_label",
            "cur_source",
            "cur_confidence",
            "cur_labeler",
            "cur_version",
            "cur_refined_at",
            "cur_text",
            "cur_feedback_id",
        ]
    ]
    machine = inputs.machine_labels.rename(
        columns={
            "label": "m_label",
            "confidence": "m_confidence",
            "is_weak": "m_is_weak",
            "labeler": "m_labeler",
            "labeled_at": "m_labeled_at",
            "text": "m_text",
        }
    )
    human = inputs.human_labels.rename(
        columns={"label": "human_label", "reviewer": "human_reviewer", "created_at": "h_at"}
    )
    posts = inputs.posts.rename(columns={"text": "p_text"})
    parts: list[pd.DataFrame] = [f.loc[:, key] for f in (current, machine, human)]
    keys = pd.concat(parts, ignore_index=True).drop_duplicates()
    frame = keys.merge(current, on=key, how="left").merge(machine, on=key, how="left")
    frame = frame.merge(human, on=key, how="left").merge(posts, on=key, how="left")
    frame = frame.merge(inputs.predictions, on=key, how="left")
    texts = [cast(pd.Series, frame[c]) for c in ("cur_text", "m_text", "p_text")]
    frame["text"] = texts[0].combine_first(texts[1]).combine_first(texts[2])
    # A post only a person labeled but that was never crawled has no text to train on.
    frame = frame.loc[frame["text"].notna()]
    # A suspected prompt injection keeps whatever label versions it has, but only a person's
    # label moves it on: no model rule may confirm or correct a label nobody can trust.
    suspected = pd.MultiIndex.from_frame(inputs.suspected.loc[:, key].astype("int64"))
    flagged = pd.MultiIndex.from_frame(frame.loc[:, key].astype("int64")).isin(suspected)
    frame = frame.loc[~flagged | frame["human_label"].notna()]
    frame["cur_version"] = as_floats(frame["cur_version"]).fillna(0).astype("int64")
    return frame.sort_values(key).reset_index(drop=True)


def _ingest(frame: pd.DataFrame) -> pd.Series:
    """Which posts get a version from their labeler now: new posts, and weak → LLM upgrades."""
    has_machine = frame["m_label"].isin(LABELS)
    new_post = (frame["cur_version"] == 0) & has_machine
    newer = pd.to_datetime(frame["m_labeled_at"]) > pd.to_datetime(frame["cur_refined_at"])
    upgrade = (
        (frame["cur_source"] == "weak")
        & has_machine
        & ~frame["m_is_weak"].fillna(True).astype(bool)
        & newer.fillna(False)
    )
    return new_post | upgrade


def run_round(
    inputs: RoundInputs,
    history: Sequence[RoundMetrics],
    *,
    last_converged: bool = False,
    settings: RoundSettings | None = None,
    relabel: Relabeler | None = None,
    run_id: str = "",
    now: datetime | None = None,
) -> RoundResult:
    """Run one round over `inputs`; `history` holds the earlier rounds' metrics, oldest first.

    `last_converged` freezes posts refined in earlier rounds (only new posts and people change
    labels after convergence). With `relabel` None no post is sent to an LLM.
    """
    settings = settings or RoundSettings()
    tracker = ConvergenceTracker(settings.convergence, history)
    round_no = tracker.next_round
    threshold = tracker.threshold()
    stamp = _naive_utc(now)
    notes: list[str] = []

    frame = _universe(inputs)
    ingest = _ingest(frame)
    frame["given_label"] = frame["cur_label"].where(~ingest, frame["m_label"])
    frame["given_source"] = frame["cur_source"].where(
        ~ingest, np.where(frame["m_is_weak"].fillna(False).astype(bool), "weak", "llm")
    )
    frame["given_labeler"] = frame["cur_labeler"].where(~ingest, frame["m_labeler"])
    frame["frozen"] = last_converged & (frame["cur_version"] > 0)

    labeled = frame["given_label"].isin(LABELS).to_numpy()
    oos_proba = np.full((len(frame), len(LABELS)), np.nan)
    issues = np.zeros(len(frame), dtype=bool)
    errors = np.full(len(frame), np.nan)
    oos_ok = False
    if labeled.sum():
        try:
            oos = out_of_sample(
                frame.loc[labeled, "text"].astype(str).tolist(),
                label_indices(frame.loc[labeled, "given_label"]),
                folds=settings.folds,
                seed=settings.seed,
            )
            oos_proba[labeled], issues[labeled], errors[labeled] = (
                oos.proba,
                oos.is_label_issue,
                oos.label_error_score,
            )
            oos_ok = True
        except NotEnoughLabels as exc:
            notes.append(f"no out-of-sample predictions, so no ensemble corrections: {exc}")
    decisions = decide(
        frame,
        threshold=threshold,
        oos_proba=oos_proba if oos_ok else None,
        is_label_issue=issues,
        label_error_score=errors,
    )
    # Posts with no label at all (only a human can give one) are never "uncertain".
    decisions.loc[~labeled & (decisions["decision"] != HUMAN), "priority"] = 0.0

    answers: dict[object, RelabelAnswer] = {}
    if relabel is None:
        notes.append("no LLM relabeler configured: relabel skipped")
    else:
        chosen = select(decisions, settings.rules.max_relabel, among=pd.Series(labeled))
        keys = {
            post_key(int(frame.at[i, "board_id"]), int(frame.at[i, "post_id"])): i
            for i in frame.index[chosen]
        }
        if keys:
            got = relabel({k: str(frame.at[i, "text"]) for k, i in keys.items()})
            answers = {keys[k]: a for k, a in got.items() if k in keys}
    decisions = apply_relabels(decisions, frame, answers, max_review=settings.rules.max_review)

    versions = _versions(frame, ingest, decisions, round_no, stamp, inputs, run_id)
    existing = frame["cur_version"] > 0
    changed = pd.Series(False, index=frame.index)
    changed_keys = set(zip(versions["board_id"], versions["post_id"], strict=True))
    after = frame["cur_label"].copy()
    if len(versions):
        last = versions.sort_values("label_version").groupby(["board_id", "post_id"]).last()
        for i in frame.index:
            k = (frame.at[i, "board_id"], frame.at[i, "post_id"])
            if k in changed_keys:
                after.at[i] = last.at[k, "label"]
        changed = existing & (after != frame["cur_label"])
    n_existing = int(existing.sum())
    change_rate = float(changed.sum()) / n_existing if n_existing else None

    human_rows = frame["human_label"].isin(LABELS) & frame["ensemble_label"].isin(LABELS)
    if int(human_rows.sum()) >= settings.min_human:
        score_name = "human_accuracy"
        score: float | None = float(
            (frame.loc[human_rows, "ensemble_label"] == frame.loc[human_rows, "human_label"]).mean()
        )
    else:
        score_name = "oos_accuracy"
        score = None
        if oos_ok:
            predicted = [LABELS[int(i)] for i in oos_proba[labeled].argmax(axis=1)]
            score = float((np.array(predicted) == frame.loc[labeled, "given_label"]).mean())
    metrics = RoundMetrics(
        round=round_no,
        score=score,
        score_name=score_name,
        label_change_rate=change_rate,
        member_variance=member_variance(cast(pd.Series, frame["member_probabilities"]))
        if "member_probabilities" in frame
        else None,
    )
    decision = tracker.add(metrics)

    quality = _quality(frame, decisions, round_no, threshold, stamp, labeled)
    counts = {
        "posts": len(frame),
        "posts_existing": n_existing,
        "new_posts": int((frame["cur_version"] == 0).sum()),
        "labels_changed": int(changed.sum()),
        "versions_written": len(versions),
        "corrected": int((decisions["decision"] == CORRECTED).sum()),
        "relabeled": int((decisions["decision"] == RELABELED).sum()),
        "relabel_sent": len(answers) if relabel is not None else 0,
        "human": int((decisions["decision"] == HUMAN).sum()),
        "needs_review": int(decisions["needs_review"].sum()),
        "label_issues": int(issues.sum()),
    }
    counts["posts"] = len(frame)
    for name, n in decisions["decision"].value_counts().items():
        counts[f"decision_{name}"] = int(n)
    before_labels = frame["cur_label"].where(existing)
    bias = bias_report(
        frame,
        cast(pd.Series, before_labels),
        cast(pd.Series, after.where(after.notna(), frame["given_label"])),
    )
    return RoundResult(
        round=round_no,
        threshold=threshold,
        versions=versions,
        quality=quality,
        metrics=metrics,
        decision=decision,
        counts=counts,
        bias=bias,
        notes=notes,
        refined_at=stamp,
    )


def _versions(
    frame: pd.DataFrame,
    ingest: pd.Series,
    decisions: pd.DataFrame,
    round_no: int,
    stamp: pd.Timestamp,
    inputs: RoundInputs,
    run_id: str,
) -> pd.DataFrame:
    """refined_labels rows: the ingested label (if any), then the round's change (if any)."""
    rows: list[dict[str, object]] = []
    for i in frame.index:
        version = int(frame.at[i, "cur_version"])
        label = frame.at[i, "cur_label"] if version else None
        text = str(frame.at[i, "text"])
        common = {
            "board_id": int(frame.at[i, "board_id"]),
            "post_id": int(frame.at[i, "post_id"]),
            "round": round_no,
            "text": text,
            "text_hash": text_hash(text),
            "ensemble_model_version": inputs.model_version,
            "source_snapshot_id": inputs.snapshot_id,
            "refinement_run_id": run_id,
            "refined_at": stamp,
        }
        if bool(ingest.at[i]):
            version += 1
            source = str(frame.at[i, "given_source"])
            rows.append(
                {
                    **common,
                    "label_version": version,
                    "label": frame.at[i, "given_label"],
                    "previous_label": label,
                    "source": source,
                    "confidence": frame.at[i, "m_confidence"],
                    "labeler": frame.at[i, "m_labeler"],
                    "reason": "first label from labeling"
                    if label is None
                    else "an LLM label replaces the weak (ensemble) label",
                    "feedback_id": None,
                }
            )
            label = frame.at[i, "given_label"]
        what = decisions.at[i, "decision"]
        if what not in CHANGING:
            continue
        new_label = decisions.at[i, "new_label"]
        if what == HUMAN:
            confidence, labeler = 1.0, f"human:{frame.at[i, 'human_reviewer']}"
            reason = f"human correction (feedback {int(frame.at[i, 'feedback_id'])})"
            feedback_id = int(frame.at[i, "feedback_id"])
        elif what == CORRECTED:
            confidence = float(frame.at[i, "ensemble_confidence"])
            labeler = f"ensemble:{inputs.model_version}"
            reason = (
                f"ensemble {confidence:.3f} >= threshold and out-of-sample model agree "
                f"(oos {float(decisions.at[i, 'oos_confidence']):.3f})"
                + (
                    "; confident learning flagged the label"
                    if decisions.at[i, "is_label_issue"]
                    else ""
                )
            )
            feedback_id = None
        else:
            confidence = decisions.at[i, "relabel_confidence"]
            labeler = str(decisions.at[i, "relabel_labeler"])
            reason = (
                f"LLM relabel of a doubtful label (label error score "
                f"{float(decisions.at[i, 'label_error_score']):.3f})"
            )
            feedback_id = None
        if new_label == label and what != HUMAN:
            continue
        version += 1
        rows.append(
            {
                **common,
                "label_version": version,
                "label": new_label,
                "previous_label": label,
                "source": _SOURCE_OF_DECISION[what],
                "confidence": confidence,
                "labeler": labeler,
                "reason": reason,
                "feedback_id": feedback_id,
            }
        )
    out = pd.DataFrame(rows, columns=pd.Index(REFINED_COLUMNS))
    return out.astype(
        {
            "board_id": "int32",
            "post_id": "int64",
            "label_version": "int32",
            "round": "int32",
            "confidence": "float64",
            "feedback_id": "Int64",
            "source_snapshot_id": "int64",
        }
    )


def _quality(
    frame: pd.DataFrame,
    decisions: pd.DataFrame,
    round_no: int,
    threshold: float,
    stamp: pd.Timestamp,
    labeled: np.ndarray,
) -> pd.DataFrame:
    """label_quality rows for every labeled post."""
    rows = pd.DataFrame(
        {
            "board_id": frame["board_id"].astype("int32"),
            "post_id": frame["post_id"].astype("int64"),
            "round": np.int32(round_no),
            "given_label": frame["given_label"],
            "ensemble_label": frame["ensemble_label"],
            "ensemble_confidence": pd.to_numeric(frame["ensemble_confidence"], errors="coerce"),
            "oos_label": decisions["oos_label"],
            "oos_confidence": decisions["oos_confidence"].astype("float64"),
            "label_error_score": decisions["label_error_score"].astype("float64"),
            "is_label_issue": decisions["is_label_issue"].astype(bool),
            "decision": decisions["decision"],
            "needs_review": decisions["needs_review"].astype(bool),
            "threshold": threshold,
            "refined_at": stamp,
        }
    )
    keep = labeled | (decisions["decision"] == HUMAN).to_numpy()
    return rows.loc[keep, list(LABEL_QUALITY_COLUMNS)].reset_index(drop=True)
