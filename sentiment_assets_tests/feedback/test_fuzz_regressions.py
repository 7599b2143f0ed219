"""Inputs the schemathesis run turned into 500s, pinned as plain tests of the code that failed.

Reusing an idempotency key for another post made `FeedbackStore.review` report a review state
that was never stored (a crash); a zone-aware or far-off `since`/`until` made the review
queue's DuckDB query fail to bind or to convert.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from sentiment_assets.lib.feedback.store import FeedbackInput, FeedbackStore, IdempotencyConflict
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.serving.review_queue import QueueFilter, naive_utc, rank
from sentiment_assets_tests.feedback.helpers import write_posts, write_predictions

KST = timezone(timedelta(hours=9))
NO_REVIEWS = pd.DataFrame({"board_id": [], "post_id": []}, dtype="int64")


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.sqlite")


def _accept(store: FeedbackStore, key: str, post_id: int = 1, reviewer: str = "bob") -> bool:
    return store.review(
        board_id=1,
        post_id=post_id,
        decision="accept",
        reviewer=reviewer,
        shown_label="중립",
        idempotency_key=key,
    ).created


def _correct(store: FeedbackStore, key: str, post_id: int = 1) -> bool:
    return store.review(
        board_id=1,
        post_id=post_id,
        decision="correct",
        reviewer="bob",
        shown_label="중립",
        corrected_label="부정",
        idempotency_key=key,
    ).created


def test_an_accept_key_reused_for_another_post_or_reviewer_is_a_conflict(
    store: FeedbackStore,
) -> None:
    assert _accept(store, "k")
    assert not _accept(store, "k")  # the same decision again is a replay
    with pytest.raises(IdempotencyConflict, match="post 1/1"):
        _accept(store, "k", post_id=2)
    with pytest.raises(IdempotencyConflict, match="'bob'"):
        _accept(store, "k", reviewer="carol")
    assert set(store.reviews()) == {(1, 1)}
    assert [a["action"] for a in store.audit_trail()] == ["accept"]


def test_a_key_is_never_shared_between_an_accept_and_a_correction(store: FeedbackStore) -> None:
    assert _accept(store, "a")
    with pytest.raises(IdempotencyConflict, match="used for accept"):
        _correct(store, "a")
    with pytest.raises(IdempotencyConflict, match="accept post 1/1"):
        store.add(FeedbackInput(new_label="긍정", reviewer="bob", idempotency_key="a", text="x"))
    assert _correct(store, "c", post_id=2)
    assert not _correct(store, "c", post_id=2)
    with pytest.raises(IdempotencyConflict, match="used for correct"):
        _accept(store, "c", post_id=2)
    store.add(FeedbackInput(new_label="긍정", reviewer="bob", idempotency_key="f", text="x"))
    with pytest.raises(IdempotencyConflict, match="used for a correction"):
        _accept(store, "f", post_id=3)
    assert store.count() == 3  # the accept is a label too
    assert set(store.reviews()) == {(1, 1), (1, 2)}


def test_naive_utc_converts_zones_and_clamps_at_the_ends_of_time() -> None:
    assert naive_utc(datetime(2025, 1, 5, 9, tzinfo=KST)) == datetime(2025, 1, 5)
    assert naive_utc(datetime(2025, 1, 5, 9)) == datetime(2025, 1, 5, 9)
    assert naive_utc(datetime(1, 1, 1, tzinfo=KST)) == datetime.min
    assert naive_utc(datetime.max.replace(tzinfo=timezone(timedelta(hours=-5)))) == datetime.max


PERIODS: list[tuple[datetime | None, datetime | None, set[int]]] = [
    # 09:00 in Korea is midnight UTC: post 2 (posted 2025-01-05 00:00 UTC) is inside.
    (datetime(2025, 1, 5, 9, tzinfo=KST), None, {2, 3}),
    (datetime(2025, 1, 5, 0, 0, 1, tzinfo=UTC), None, {3}),
    (None, datetime(145, 4, 19, tzinfo=UTC), set()),
    (datetime(1, 1, 1), datetime(9999, 12, 31, tzinfo=KST), {1, 2, 3}),
]


def test_review_queue_period_bounds_with_zones_and_far_dates(lakehouse: Lakehouse) -> None:
    write_predictions(
        lakehouse, "v1", [(1, 1, "긍정", 0.9), (1, 2, "부정", 0.4), (1, 3, "중립", 0.5)]
    )
    write_posts(
        lakehouse,
        [
            (1, 1, "히어로", "2025-01-01"),
            (1, 2, "히어로", "2025-01-05"),
            (1, 3, "비숍", "2025-02-01"),
        ],
    )
    with lakehouse.session() as lake:
        for since, until, expected in PERIODS:
            where = QueueFilter(since=since, until=until)
            _, frame, total, _ = rank(lake, where, NO_REVIEWS, include_reviewed=False)
            found = set(frame["post_id"]) if "post_id" in frame else set()
            assert found == expected, where
            assert total == len(expected), where
