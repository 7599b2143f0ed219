"""The retraining set: the new refined labels, human corrections, and a base-corpus sample.

- New data: the current label of every post in `refined_labels` (one row per post per label
  version; the highest version is today's label, read with `lib/refine/tables.current_labels`),
  except a suspected prompt injection's, unless a person gave it (`lib/refine/inputs.py`).
- Human corrections not yet consumed by a training run, weighted `FEEDBACK_WEIGHT` times a
  machine label: a person looked at them, and they are few. Where a person corrected a post, the
  correction replaces that post's refined label. Corrections held out for the promotion gate
  (`registry/evalset.py`) are never trained on.
- A base-corpus sample the size of the new data (1:1): general-domain sentences keep the models
  from over-fitting the newest chunk's topics and its labeler's habits.
- Class weights (inverse frequency) multiply the source weights, so a chunk that is mostly
  neutral does not teach the models to say 중립 to everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from sentiment_assets.lib.corpus.labels import class_weights, labels_from_names
from sentiment_assets.lib.lakehouse.lake import LakeSession
from sentiment_assets.lib.models.base import LabeledTexts
from sentiment_assets.lib.models.ensemble import prepare_texts
from sentiment_assets.lib.refine.inputs import injection_suspects
from sentiment_assets.lib.refine.tables import current_labels
from sentiment_assets.lib.registry.evalset import feedback_held_out

REFINED_TABLE = "refined_labels"
REFINED_COLUMNS = ("board_id", "post_id", "text", "label", "source", "confidence")
FEEDBACK_WEIGHT = 3.0


class RetrainingDataError(ValueError):
    """The lake lacks what retraining needs, or holds it in the wrong shape."""


class RefinedLabelsMissing(RetrainingDataError):
    """The refined_labels table does not exist yet (refinement has never run)."""


def read_current_labels(lake: LakeSession, *, snapshot_id: int | None = None) -> pd.DataFrame:
    """One row per post: its current refined label as a class index, text, source, confidence.

    The current label is the highest label version per post (`lib/refine/tables.py`). Human
    labels whose correction is held out for the promotion gate are left out, so the gate never
    judges a challenger on a label it trained on.

    Raises:
        RefinedLabelsMissing: the table does not exist.
        RetrainingDataError: it lacks a column or holds an unknown label.
    """
    if not lake.table_exists(REFINED_TABLE):
        raise RefinedLabelsMissing(
            f"lake table {REFINED_TABLE} is missing: materialize refined_labels first"
        )
    try:
        frame = current_labels(lake, snapshot_id=snapshot_id)
    except (KeyError, duckdb.BinderException) as exc:
        # A table written by another schema version: say so rather than train on guesses.
        raise RetrainingDataError(f"lake table {REFINED_TABLE} lacks columns: {exc}") from exc
    suspects = injection_suspects(lake)
    if len(frame) and len(suspects):
        flagged = pd.MultiIndex.from_frame(frame.loc[:, ["board_id", "post_id"]].astype("int64"))
        flagged = flagged.isin(pd.MultiIndex.from_frame(suspects.astype("int64")))
        frame = frame.loc[~flagged | (frame["source"] == "human").to_numpy()]
    if "feedback_id" in frame.columns and len(frame):
        has_feedback = frame["feedback_id"].notna().to_numpy()
        held = np.zeros(len(frame), dtype=bool)
        held[has_feedback] = feedback_held_out(frame.loc[has_feedback, "feedback_id"].astype(int))
        frame = frame.loc[~held]
    try:
        labels = (
            labels_from_names(pd.Series(frame["label"])) if len(frame) else np.zeros(0, np.int64)
        )
    except ValueError as exc:
        raise RetrainingDataError(f"lake table {REFINED_TABLE}: {exc}") from exc
    out = frame.loc[:, list(REFINED_COLUMNS)].assign(label=labels)
    return out.reset_index(drop=True)


def no_labels() -> pd.DataFrame:
    """An empty frame shaped like `read_current_labels`' result."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in REFINED_COLUMNS}).assign(
        label=pd.Series(dtype="int64")
    )


def usable_feedback(feedback: pd.DataFrame, unconsumed_ids: set[int]) -> pd.DataFrame:
    """Corrections to train on: unconsumed, not held out for the gate, with a text.

    `feedback` has feedback_id, board_id, post_id, text and new_label (`evalset.read_feedback`).
    The latest correction per post (or per free text) wins. The label becomes a class index.
    """
    if feedback.empty:
        return pd.DataFrame(
            {"feedback_id": [], "board_id": [], "post_id": [], "text": [], "label": []}
        )
    rows = feedback.loc[
        feedback["feedback_id"].astype(int).isin(sorted(unconsumed_ids))
        & ~feedback_held_out(feedback["feedback_id"])
    ].sort_values("feedback_id")
    rows = rows.loc[rows["text"].fillna("").str.strip() != ""]
    post_key = rows["board_id"].astype("string") + ":" + rows["post_id"].astype("string")
    rows = rows.assign(_key=post_key.fillna("text:" + rows["text"].astype(str)))
    rows = rows.drop_duplicates("_key", keep="last")
    return pd.DataFrame(
        {
            "feedback_id": rows["feedback_id"].astype(int).to_numpy(),
            "board_id": rows["board_id"].to_numpy(),
            "post_id": rows["post_id"].to_numpy(),
            "text": rows["text"].astype(str).to_numpy(),
            "label": labels_from_names(rows["new_label"]) if len(rows) else [],
        }
    )


@dataclass(frozen=True)
class TrainingMix:
    """The mixed training set and what went into it."""

    data: LabeledTexts
    counts: dict[str, int] = field(default_factory=dict)
    feedback_ids: list[int] = field(default_factory=list)
    class_weights: dict[str, float] = field(default_factory=dict)


def mix_training_data(
    new: pd.DataFrame,
    feedback: pd.DataFrame,
    base_train: pd.DataFrame,
    *,
    base_ratio: float = 1.0,
    feedback_weight: float = FEEDBACK_WEIGHT,
    seed: int = 13,
) -> TrainingMix:
    """Mix the parts as the module docstring says.

    Args:
        new: current refined labels (text, label index, board_id, post_id).
        feedback: `usable_feedback` rows.
        base_train: base-corpus train rows (text, label index) to sample from.
        base_ratio: base rows per new (refined + feedback) row.
        feedback_weight: a correction's weight relative to a machine label.
        seed: for the base sample.

    Raises:
        RetrainingDataError: there is nothing new to train on.
    """
    on_posts = feedback.dropna(subset=["board_id", "post_id"])
    corrected = set(
        zip(on_posts["board_id"].astype(int), on_posts["post_id"].astype(int), strict=True)
    )
    if len(new) and corrected:
        keys = zip(new["board_id"].astype(int), new["post_id"].astype(int), strict=True)
        new = new.loc[[key not in corrected for key in keys]]
    if len(new) + len(feedback) == 0:
        raise RetrainingDataError("no refined labels and no corrections: nothing to retrain on")
    wanted = round(base_ratio * (len(new) + len(feedback)))
    base = base_train.sample(n=min(wanted, len(base_train)), random_state=seed)
    texts = [*new["text"].astype(str), *feedback["text"].astype(str), *base["text"].astype(str)]
    labels = np.concatenate(
        [
            new["label"].to_numpy(np.int64),
            feedback["label"].to_numpy(np.int64),
            base["label"].to_numpy(np.int64),
        ]
    )
    source_weight = np.concatenate(
        [np.ones(len(new)), np.full(len(feedback), feedback_weight), np.ones(len(base))]
    )
    prepared, status = prepare_texts(texts)
    keep = np.array([s == "ok" for s in status], dtype=bool)
    labels, source_weight = labels[keep], source_weight[keep]
    per_class = class_weights(labels)
    weights = per_class[labels] * source_weight
    weights = weights / weights.mean()
    return TrainingMix(
        data=LabeledTexts(
            texts=[t for t, k in zip(prepared, keep, strict=True) if k],
            labels=labels,
            weights=weights,
        ),
        counts={
            "refined": len(new),
            "feedback": len(feedback),
            "base_corpus": len(base),
            "dropped_empty": int((~keep).sum()),
        },
        feedback_ids=sorted(int(i) for i in feedback["feedback_id"]),
        class_weights={str(i): float(w) for i, w in enumerate(per_class)},
    )
