"""Tiny lexicon-only ensembles registered through the real gate, on the synthetic test corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sentiment_assets.lib.corpus.load import labeled, load_corpus
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.base import LabeledTexts, TrainSettings
from sentiment_assets.lib.models.members import available_members
from sentiment_assets.lib.models.pipeline import build_ensemble, train_member
from sentiment_assets.lib.registry.evalset import frozen_evaluation_set, in_gate_half
from sentiment_assets.lib.registry.gate import DEFAULT_MARGIN, GateResult, register_and_gate
from sentiment_assets.lib.registry.store import tracking_uri_for
from sentiment_assets_tests.models.synthetic import write_corpus

POSITIVE_TEXT = "메이플 정말 재밌어요"
NEGATIVE_TEXT = "이번 패치 완전 망했네요"


def seed_base_corpus(lakehouse: Lakehouse, tmp_path: Path) -> pd.DataFrame:
    """Load the synthetic corpus into the lake as base_corpus; returns its rows."""
    frame = load_corpus(str(write_corpus(tmp_path / "corpus.parquet")))
    lakehouse.append(
        "base_corpus", frame.assign(loaded_at=pd.Timestamp.now(tz="UTC")), key=("sentence_id",)
    )
    return frame


def fitting_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows training may use (the gate's dev half removed)."""
    reserved = (frame["split"] == "dev").to_numpy() & in_gate_half(frame["sentence_id"])
    return pd.DataFrame(frame.loc[~reserved])


def flipped(data: LabeledTexts) -> LabeledTexts:
    """Negative and positive swapped: a deliberately bad training set."""
    return LabeledTexts(texts=data.texts, labels=np.asarray([2, 1, 0])[data.labels])


def train_and_gate(
    lakehouse: Lakehouse,
    models_root: Path,
    frame: pd.DataFrame,
    *,
    flip: bool = False,
    margin: float = DEFAULT_MARGIN,
) -> GateResult:
    """Train a lexicon (on flipped labels when `flip`), fit a one-member ensemble, gate it."""
    fitting = fitting_rows(frame)
    train, dev = labeled(fitting, "train"), labeled(fitting, "dev")
    uri = tracking_uri_for(models_root)
    spec = available_members(["lexicon"])["lexicon"]
    saved_member = train_member(
        spec,
        flipped(train) if flip else train,
        dev,
        TrainSettings(),
        models_root=models_root,
        tracking_uri=uri,
        snapshot_id=1,
    )
    ensemble, saved = build_ensemble(
        dev,
        models_root=models_root,
        tracking_uri=uri,
        snapshot_id=1,
        member_dirs={"lexicon": saved_member.path},
    )
    with lakehouse.session() as lake:
        evaluation = frozen_evaluation_set(lake)
    return register_and_gate(
        ensemble,
        models_root=models_root,
        run_id=saved.run_id,
        evaluation=evaluation,
        snapshot_id=1,
        metrics=saved.manifest.metrics,
        margin=margin,
    )


def refined_rows(
    posts: list[tuple[int, int, str, str, int]], *, feedback_ids: list[int | None] | None = None
) -> pd.DataFrame:
    """`refined_labels` rows in the refinement schema: (board, post, text, label, version)."""
    from sentiment_assets.lib.refine.tables import REFINED_COLUMNS

    n = len(posts)
    frame = pd.DataFrame(
        {
            "board_id": [p[0] for p in posts],
            "post_id": [p[1] for p in posts],
            "label_version": [p[4] for p in posts],
            "label": [p[3] for p in posts],
            "previous_label": [None] * n,
            "source": ["llm"] * n,
            "confidence": [0.9] * n,
            "labeler": ["test:model"] * n,
            "reason": ["test"] * n,
            "round": [1] * n,
            "text": [p[2] for p in posts],
            "text_hash": [str(hash(p[2])) for p in posts],
            "feedback_id": pd.array(feedback_ids or [None] * n, dtype="Int64"),
            "ensemble_model_version": [None] * n,
            "source_snapshot_id": pd.array([None] * n, dtype="Int64"),
            "refinement_run_id": ["test"] * n,
            "refined_at": pd.Timestamp("2026-11-29"),
        }
    )
    return frame.loc[:, list(REFINED_COLUMNS)]
