"""The frozen evaluation set the promotion gate compares champion and challenger on.

It has two parts, each chosen by a stable hash of the row's key so membership never depends on
the clock, a random seed or the order rows arrived in:
- base corpus: the dev rows whose `sentence_id` falls in the gate half (`GATE_SHARE`); the other
  half stays available for early stopping and fitting ensemble weights, so the gate does not
  score a challenger on the very rows its weights were fitted to;
- feedback: the human corrections whose `feedback_id` falls in the held-out fifth
  (`FEEDBACK_HOLDOUT`); retraining never trains on those, so a challenger cannot win the gate
  by memorising the corrections it is judged on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sentiment_assets.lib.corpus.labels import labels_from_names
from sentiment_assets.lib.lakehouse.lake import LakeSession
from sentiment_assets.lib.models.base import LabeledTexts
from sentiment_assets.lib.models.ensemble import prepare_texts
from sentiment_assets.lib.text.normalize import post_text

BASE_CORPUS_TABLE = "base_corpus"
FEEDBACK_TABLE = "feedback"
POSTS_TABLE = "raw_posts"
GATE_SHARE = 0.5
FEEDBACK_HOLDOUT = 0.2
DEFAULT_CORPUS_ROWS = 1000


def stable_fraction(keys: Iterable[object], salt: str) -> np.ndarray:
    """A number in [0, 1) per key, fixed by the key's text and `salt` alone."""
    out = []
    for key in keys:
        digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
        out.append(int.from_bytes(digest[:8], "big") / 2**64)
    return np.asarray(out, dtype=np.float64)


def in_gate_half(sentence_ids: Iterable[object]) -> np.ndarray:
    """True for base-corpus dev rows reserved for the gate."""
    return stable_fraction(sentence_ids, "gate") < GATE_SHARE


def feedback_held_out(feedback_ids: Iterable[object]) -> np.ndarray:
    """True for corrections reserved for the gate (never trained on)."""
    return stable_fraction(feedback_ids, "feedback") < FEEDBACK_HOLDOUT


@dataclass(frozen=True)
class EvaluationSet:
    """Texts and class indices, with how many came from each part and a fingerprint."""

    data: LabeledTexts
    parts: dict[str, int] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Hash of texts and labels: equal fingerprints mean the same frozen set."""
        digest = hashlib.sha256()
        for text, label in zip(self.data.texts, self.data.labels, strict=True):
            digest.update(f"{label}\t{text}\n".encode())
        return digest.hexdigest()[:16]


def corpus_part(dev: pd.DataFrame, limit: int | None = DEFAULT_CORPUS_ROWS) -> pd.DataFrame:
    """The gate half of `dev` (columns sentence_id, text, label), first `limit` by hash order."""
    if dev.empty:
        return dev
    order = stable_fraction(dev["sentence_id"], "gate")
    chosen = dev.assign(_order=order).loc[order < GATE_SHARE].sort_values("_order")
    if limit is not None:
        chosen = chosen.head(limit)
    return chosen.drop(columns="_order").reset_index(drop=True)


def feedback_part(feedback: pd.DataFrame) -> pd.DataFrame:
    """Held-out corrections with a text (columns feedback_id, text, label as class index).

    The latest correction of the same text or post wins: a person who changed their mind is
    judged by their last word.
    """
    if feedback.empty:
        return pd.DataFrame({"feedback_id": [], "text": [], "label": []})
    held = feedback.loc[feedback_held_out(feedback["feedback_id"])].sort_values("feedback_id")
    held = held.loc[held["text"].fillna("").str.strip() != ""]
    held = held.drop_duplicates("text", keep="last")
    return pd.DataFrame(
        {
            "feedback_id": held["feedback_id"].to_numpy(),
            "text": held["text"].to_numpy(),
            "label": labels_from_names(held["new_label"]) if len(held) else [],
        }
    )


def read_feedback(lake: LakeSession) -> pd.DataFrame:
    """Every correction in the lake with its text (free text, else the post's title + body)."""
    if not lake.table_exists(FEEDBACK_TABLE):
        return pd.DataFrame({"feedback_id": [], "text": [], "new_label": []})
    if lake.table_exists(POSTS_TABLE):
        frame = lake.query(
            f"select f.feedback_id, f.board_id, f.post_id, f.text, f.new_label, "
            f"p.title, p.body from lake.{FEEDBACK_TABLE} f left join lake.{POSTS_TABLE} p "
            "on p.board_id = f.board_id and p.post_id = f.post_id order by f.feedback_id"
        )
    else:
        frame = lake.query(
            f"select feedback_id, board_id, post_id, text, new_label, null as title, "
            f"null as body from lake.{FEEDBACK_TABLE} order by feedback_id"
        )
    texts = [
        text if isinstance(text, str) and text.strip() else post_text(title, body)
        for text, title, body in zip(frame["text"], frame["title"], frame["body"], strict=True)
    ]
    return frame.assign(text=texts).drop(columns=["title", "body"])


def frozen_evaluation_set(
    lake: LakeSession, *, corpus_rows: int | None = DEFAULT_CORPUS_ROWS
) -> EvaluationSet:
    """The gate's evaluation set read from the lake (see the module docstring).

    Raises:
        ValueError: the lake holds no base corpus dev rows and no held-out feedback.
    """
    corpus = pd.DataFrame({"sentence_id": [], "text": [], "label": []})
    if lake.table_exists(BASE_CORPUS_TABLE):
        corpus = lake.query(
            f"select sentence_id, text, label from lake.{BASE_CORPUS_TABLE} where split = 'dev'"
        )
    gate_corpus = corpus_part(corpus, corpus_rows)
    feedback = feedback_part(read_feedback(lake))
    texts = [*gate_corpus["text"].astype(str), *feedback["text"].astype(str)]
    labels = np.concatenate(
        [gate_corpus["label"].to_numpy(np.int64), feedback["label"].to_numpy(np.int64)]
    )
    prepared, status = prepare_texts(texts)
    keep = [i for i, s in enumerate(status) if s == "ok"]
    if not keep:
        raise ValueError(
            "the frozen evaluation set is empty: materialize base_corpus (its dev split) first"
        )
    data = LabeledTexts(texts=[prepared[i] for i in keep], labels=labels[keep])
    return EvaluationSet(
        data=data, parts={"base_corpus_dev": len(gate_corpus), "feedback": len(feedback)}
    )
