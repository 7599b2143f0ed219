"""Tiny lexicon-only ensembles registered through the real gate, on the synthetic test corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sentiment_assets.lib.corpus.load import load_corpus
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.base import LabeledTexts
from sentiment_assets.lib.registry.gate import DEFAULT_MARGIN, GateResult
from sentiment_assets.rehearsal.champion import lexicon_champion, splits
from sentiment_assets.rehearsal.champion import seed_base_corpus as seed
from sentiment_assets_tests.models.synthetic import write_corpus

POSITIVE_TEXT = "메이플 정말 재밌어요"
NEGATIVE_TEXT = "이번 패치 완전 망했네요"


def seed_base_corpus(lakehouse: Lakehouse, tmp_path: Path) -> pd.DataFrame:
    """Load the synthetic corpus into the lake as base_corpus; returns its rows."""
    frame = load_corpus(str(write_corpus(tmp_path / "corpus.parquet")))
    seed(lakehouse, frame)
    return frame


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
    train, dev = splits(frame)
    return lexicon_champion(
        lakehouse, models_root, flipped(train) if flip else train, dev, margin=margin
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
