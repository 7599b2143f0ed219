"""Small real artifacts for the people-in-the-loop tests: a trained ensemble, lake tables, a
live uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sentiment_assets.lib.feedback.store import FeedbackStore
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.base import (
    LABELS,
    LabeledTexts,
    Manifest,
    new_version,
    save_version,
)
from sentiment_assets.lib.models.ensemble import NAME, Ensemble, MemberRef
from sentiment_assets.lib.models.lexicon import Lexicon
from sentiment_assets.lib.models.scoring import PREDICTION_KEY, prediction_rows
from sentiment_assets.lib.serving.app import create_app
from sentiment_assets.lib.serving.in_thread import serve_app as serve
from sentiment_assets.lib.serving.settings import ServingSettings

TOKEN = "msr_test-token-0123456789"
"""The API token of REVIEWER, registered by `serving_settings`."""
REVIEWER = "tester"
NONE_REVIEWED = pd.DataFrame(
    {"board_id": pd.Series(dtype="int64"), "post_id": pd.Series(dtype="int64")}
)
"""The `reviewed` argument of `review_queue.rank` when nobody has reviewed anything."""


def serving_settings(root: Path, **knobs: Any) -> ServingSettings:
    """Settings for root/warehouse, root/models and the store in the lake; TOKEN is REVIEWER's."""
    warehouse = root / "warehouse"
    settings = ServingSettings(
        warehouse=warehouse,
        models=root / "models",
        feedback_db=warehouse / "feedback.sqlite",
        **knobs,
    )
    add_reviewer(settings.feedback_db, REVIEWER, token=TOKEN)
    return settings


def add_reviewer(feedback_db: Path, name: str, *, token: str | None = None) -> str:
    """Register reviewer `name` in the store (TOKEN-like `token`, else a new one); its token."""
    store = FeedbackStore(feedback_db)
    if token is not None and any(
        t.reviewer == name for t in store.reviewer_tokens()
    ):  # the same settings built twice over one store
        return token
    return store.create_reviewer(name, token=token)


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for `token`."""
    return {"Authorization": f"Bearer {token}"}


_TRAIN = [
    ("보스 보상 너무 좋다 최고", 2),
    ("이번 패치 진짜 좋다 재밌다", 2),
    ("직업 밸런스 좋다 만족", 2),
    ("버그 너무 많다 최악", 0),
    ("서버 렉 최악 짜증", 0),
    ("확률 너무 낮다 짜증 최악", 0),
    ("오늘 점검 몇 시까지", 1),
    ("이벤트 일정 언제 나오나", 1),
    ("점검 일정 공지 확인", 1),
]


def _fit() -> tuple[Lexicon, MemberRef]:
    texts = [t for t, _ in _TRAIN] * 2
    labels = np.array([y for _, y in _TRAIN] * 2)
    lexicon = Lexicon.fit(LabeledTexts(texts, labels), min_count=1)
    return lexicon, MemberRef(new_version(), lexicon.vocabulary_hash(), 1.0, 1.0)


def train_ensemble(models_root: Path) -> str:
    """Save a lexicon and a one-member ensemble over it; returns the ensemble version."""
    lexicon, ref = _fit()
    save_version(
        lexicon,
        models_root,
        Manifest("lexicon", ref.version, vocabulary_hash=lexicon.vocabulary_hash()),
    )
    version = new_version()
    refs = {"lexicon": ref}
    save_version(Ensemble({"lexicon": lexicon}, refs, 1.0), models_root, Manifest(NAME, version))
    return version


@cache
def _scorer() -> Ensemble:
    lexicon, ref = _fit()
    return Ensemble({"lexicon": lexicon}, {"lexicon": ref}, 1.0)


# A text each member reads as the label, so a pinned label and the members' labels agree.
_TEXT_OF = {LABELS[y]: t for t, y in _TRAIN}


def write_predictions(
    lake: Lakehouse, version: str, rows: list[tuple[int, int, str, float]]
) -> pd.DataFrame:
    """Write `ensemble_predictions` rows (board_id, post_id, label, confidence) for `version`.

    The rows are what the real scorer (`scoring.prediction_rows`) writes for a post that reads
    as `label`, so every column, `member_probabilities` included, has the pipeline's schema
    and values; only the ensemble's label, confidence and probabilities are then pinned to the
    given ones, which is what the ranking tests need exact. Returns the rows written.
    """
    posts = pd.DataFrame(
        {
            "board_id": [r[0] for r in rows],
            "post_id": [r[1] for r in rows],
            "title": [_TEXT_OF[r[2]] for r in rows],
            "body": [""] * len(rows),
        }
    )
    frame = prediction_rows(_scorer(), posts)
    for i, (_, _, label, confidence) in enumerate(rows):
        rest = (1.0 - confidence) / 2
        probs = {"부정": rest, "중립": rest, "긍정": rest} | {label: confidence}
        frame.loc[i, ["p_neg", "p_neu", "p_pos"]] = [probs["부정"], probs["중립"], probs["긍정"]]
        frame.loc[i, ["label", "confidence"]] = [label, confidence]
    frame["model_version"] = version
    lake.append("ensemble_predictions", frame, key=PREDICTION_KEY)
    return frame


def scorer() -> Ensemble:
    """The in-memory one-member ensemble the helpers score with (version "")."""
    return _scorer()


def score_posts(lake: Lakehouse, version: str, posts: list[tuple[int, int, str]]) -> pd.DataFrame:
    """Score (board_id, post_id, text) posts with the real scorer, nothing pinned; rows written."""
    frame = prediction_rows(
        _scorer(),
        pd.DataFrame(
            {
                "board_id": [p[0] for p in posts],
                "post_id": [p[1] for p in posts],
                "title": [p[2] for p in posts],
                "body": [""] * len(posts),
            }
        ),
    )
    frame["model_version"] = version
    lake.append("ensemble_predictions", frame, key=PREDICTION_KEY)
    return frame


def write_posts(
    lake: Lakehouse,
    rows: list[tuple[int, int, str, str]],
    *,
    texts: dict[tuple[int, int], tuple[str, str]] | None = None,
) -> None:
    """Write `raw_posts` rows (board_id, post_id, job, posted_at ISO date).

    `texts` gives some posts their (title, body); the others get "글 <post_id>" and "본문".
    """
    texts = texts or {}
    frame = pd.DataFrame(
        [
            {
                "board_id": b,
                "post_id": p,
                "board_name": f"board {b}",
                "job_group": "전사",
                "category": job,
                "job": job,
                "title": texts.get((b, p), (f"글 {p}", ""))[0],
                "body": texts.get((b, p), ("", "본문"))[1],
                "posted_at": pd.Timestamp(day),
                "url": f"https://example.invalid/{b}/{p}",
            }
            for b, p, job, day in rows
        ]
    )
    lake.append("raw_posts", frame, key=("board_id", "post_id"))


@contextmanager
def serve_review_api(warehouse: Path) -> Iterator[str]:
    """`sentiment serve` over `warehouse` and the models folder beside it; yields its URL.

    What the review app talks to in tests: TOKEN is REVIEWER's, and the API follows the
    champion and the queue without caching.
    """
    settings = ServingSettings(
        warehouse=warehouse,
        models=warehouse.parent / "models",  # SENTIMENT_MODELS of the `warehouse` fixture
        feedback_db=warehouse / "feedback.sqlite",
        model_check_interval_s=0.0,
        review_cache_s=0.0,
    )
    add_reviewer(settings.feedback_db, REVIEWER, token=TOKEN)
    with serve(create_app(settings)) as url:
        yield url
