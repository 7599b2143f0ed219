"""A tiny lakehouse for refinement: posts, chunks, labels, ensemble scores and human feedback.

Posts alternate between three clearly positive and three clearly negative texts (i % 6 < 3 is
positive), so the out-of-sample model learns them easily; the labeler's label is right except
where a test says otherwise, and the ensemble predicts the true class at a given confidence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pandas as pd

from sentiment_assets.defs.feedback.assets import feedback_frame
from sentiment_assets.lib.feedback.store import FeedbackRow
from sentiment_assets.lib.labeling.chunks import attempts_frame, freeze_chunks, write_attempts
from sentiment_assets.lib.labeling.records import LabelAttempt
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.text.normalize import text_hash
from sentiment_assets_tests.labeling.conftest import add_raw_posts

TEXTS = (
    "보스 보상 최고 너무 행복 재밌다",
    "강화 성공 감사 최고 좋아요",
    "이벤트 재밌어요 행복 좋아 최고",
    "너프 최악 짜증 망겜 버그",
    "버그 너무 많아 최악 화나 짜증",
    "망겜 너프 화나 최악 접는다",
)
MODEL_VERSION = "20260101T000000000000Z"


def truth(post_id: int) -> str:
    """The real sentiment of post `post_id`."""
    return "긍정" if post_id % len(TEXTS) < 3 else "부정"


def add_labeled_posts(
    lakehouse: Lakehouse,
    n: int,
    *,
    start: int = 1,
    wrong: Mapping[int, str] | None = None,
    run_id: str = "label-run-1",
    weak: bool = False,
    crawl: bool = True,
    suspected: frozenset[int] = frozenset(),
) -> None:
    """Crawl, chunk and label posts start..start+n-1; `wrong` overrides the labeler's label.

    `weak` labels as the ensemble does when no LLM is configured; `crawl=False` labels posts
    crawled and chunked before (an LLM labeling what was weakly labeled); posts in `suspected`
    are flagged as the labeler flags a suspected prompt injection.
    """
    if crawl:
        add_raw_posts(lakehouse, n, start=start, texts=TEXTS)
    wrong = wrong or {}
    with lakehouse.session() as lake:
        freeze_chunks(lake, threshold=1000, flush=True)
        chunks = lake.query(
            "select chunk_id, board_id, post_id, text from lake.raw_chunks "
            "where post_id between ? and ?",
            [start, start + n - 1],
        )
        attempts = [
            LabelAttempt(
                key=f"{b}:{p}",
                attempt=1,
                status="ok",
                label=wrong.get(int(p), truth(int(p))),
                confidence=0.9,
                rationale="",
                provider="weak" if weak else "openai",
                model="ensemble" if weak else "gemma",
                prompt_version=None if weak else "v1",
                text_hash=text_hash(t),
                is_weak=weak,
                injection_suspected=int(p) in suspected,
            )
            for b, p, t in zip(chunks["board_id"], chunks["post_id"], chunks["text"], strict=True)
        ]
        keys = {
            f"{b}:{p}": (str(c), int(b), int(p))
            for c, b, p in zip(
                chunks["chunk_id"], chunks["board_id"], chunks["post_id"], strict=True
            )
        }
        write_attempts(lake, attempts_frame(attempts, keys, run_id=run_id))


def add_predictions(
    lakehouse: Lakehouse,
    post_ids: range,
    *,
    confidence: float = 0.95,
    overrides: Mapping[int, tuple[str, float]] | None = None,
    board_id: int = 2294,
    version: str = MODEL_VERSION,
) -> None:
    """ensemble_predictions rows: the true label at `confidence` unless overridden."""
    overrides = overrides or {}
    rows = []
    for p in post_ids:
        label, conf = overrides.get(p, (truth(p), confidence))
        rest = (1.0 - conf) / 2
        probs = {name: rest for name in ("부정", "중립", "긍정")}
        probs[label] = conf
        triple = [probs["부정"], probs["중립"], probs["긍정"]]
        rows.append(
            {
                "board_id": board_id,
                "post_id": p,
                "model_version": version,
                "text_hash": "",
                "p_neg": triple[0],
                "p_neu": triple[1],
                "p_pos": triple[2],
                "label": label,
                "confidence": conf,
                "disagreement": 0.05,
                "member_probabilities": json.dumps(
                    {"lexicon": triple, "lstm": [1 / 3, 1 / 3, 1 / 3]}
                ),
                "status": "ok",
                "scored_at": pd.Timestamp("2026-01-02"),
            }
        )
    lakehouse.append(
        "ensemble_predictions",
        pd.DataFrame(rows),
        key=("board_id", "post_id", "model_version"),
    )


def add_feedback(
    lakehouse: Lakehouse, feedback_id: int, post_id: int, label: str, *, board_id: int = 2294
) -> None:
    """One human correction of a post, as the feedback asset stores it."""
    row = FeedbackRow(
        id=feedback_id,
        idempotency_key=f"k{feedback_id}",
        text=None,
        board_id=board_id,
        post_id=post_id,
        old_label=None,
        new_label=label,
        reviewer="alice",
        comment=None,
        model_version=None,
        confidence=None,
        source="api",
        created_at="2026-01-03T00:00:00+00:00",
        consumed_by=None,
    )
    lakehouse.append("feedback", feedback_frame([row]), key=("feedback_id",))
