"""The feedback store: validation, idempotency, audit trail, and concurrent writers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sentiment_assets.lib.feedback.store import (
    FeedbackError,
    FeedbackInput,
    FeedbackStore,
    IdempotencyConflict,
)


def _item(key: str, **overrides: object) -> FeedbackInput:
    values: dict[str, object] = {
        "new_label": "긍정",
        "reviewer": "alice",
        "idempotency_key": key,
        "text": "보스 보상 좋아졌네요",
        "old_label": "부정",
        "model_version": "v1",
        "confidence": 0.61,
    }
    values.update(overrides)
    return FeedbackInput(**values)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.sqlite")


def test_store_is_in_wal_mode(store: FeedbackStore) -> None:
    assert store.journal_mode() == "wal"


def test_same_key_twice_stores_one_row_and_returns_the_first(store: FeedbackStore) -> None:
    first, created = store.add(_item("k1"))
    again, created_again = store.add(_item("k1", comment="retry"))
    assert created and not created_again
    assert again == first
    assert store.count() == 1
    trail = store.audit_trail()
    assert len(trail) == 1
    assert trail[0]["who"] == "alice"
    assert (trail[0]["old_label"], trail[0]["new_label"]) == ("부정", "긍정")
    assert (trail[0]["model_version"], trail[0]["confidence"]) == ("v1", 0.61)


def test_same_key_with_a_different_correction_is_a_conflict(store: FeedbackStore) -> None:
    store.add(_item("k1"))
    with pytest.raises(IdempotencyConflict, match="new_label"):
        store.add(_item("k1", new_label="중립"))
    assert store.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"new_label": "좋음"}, "new_label"),
        ({"old_label": "positive"}, "old_label"),
        ({"text": "   "}, "non-empty text"),
        ({"text": None, "board_id": 1}, "non-empty text"),
        ({"reviewer": " "}, "reviewer"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"source": "cron"}, "source"),
        ({"confidence": 1.5}, "confidence"),
    ],
)
def test_invalid_corrections_are_refused_and_nothing_is_written(
    store: FeedbackStore, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(FeedbackError, match=message):
        store.add(_item("bad", **overrides))
    assert store.count() == 0
    assert store.audit_trail() == []


def test_post_feedback_without_text(store: FeedbackStore) -> None:
    row, _ = store.add(_item("p", text=None, board_id=2294, post_id=17))
    assert (row.board_id, row.post_id, row.text) == (2294, 17, None)


def test_unconsumed_summary_and_mark_consumed(store: FeedbackStore) -> None:
    for n in range(5):
        store.add(_item(f"k{n}"))
    assert store.unconsumed_summary() == (5, 5)
    assert store.unconsumed_summary(after_id=3) == (2, 5)
    assert store.mark_consumed([1, 2, 2], "run-a") == 2
    assert store.mark_consumed([2, 3], "run-b") == 1
    assert store.get(2).consumed_by == "run-a"  # type: ignore[union-attr]
    assert (store.unconsumed_count(), store.max_unconsumed_id()) == (2, 5)
    assert [r.id for r in store.rows_after(1, up_to_id=4)] == [2, 3, 4]


def test_review_accept_and_correct_mark_reviewed_with_audit(store: FeedbackStore) -> None:
    accepted = store.review(
        board_id=1,
        post_id=10,
        decision="accept",
        reviewer="bob",
        shown_label="중립",
        idempotency_key="r1",
        model_version="v2",
        confidence=0.4,
    )
    assert accepted.created and accepted.review.reviewed
    # An accept is a human label: a feedback row keeping the prediction it confirmed.
    label = accepted.feedback
    assert label is not None and accepted.review.feedback_id == label.id
    assert (label.old_label, label.new_label) == ("중립", "중립")
    assert (label.model_version, label.confidence, label.reviewer) == ("v2", 0.4, "bob")
    replay = store.review(
        board_id=1,
        post_id=10,
        decision="accept",
        reviewer="bob",
        shown_label="중립",
        idempotency_key="r1",
    )
    assert not replay.created and replay.feedback == label
    corrected = store.review(
        board_id=1,
        post_id=11,
        decision="correct",
        reviewer="bob",
        shown_label="중립",
        corrected_label="부정",
        idempotency_key="r2",
        source="review-app",
    )
    assert corrected.feedback is not None and corrected.feedback.old_label == "중립"
    assert corrected.review.label == "부정" and corrected.review.decision == "correct"
    assert set(store.reviews()) == {(1, 10), (1, 11)}
    assert store.count() == 2
    assert store.unconsumed_summary() == (2, corrected.feedback.id)
    actions = [a["action"] for a in store.audit_trail()]
    assert actions == ["correct", "accept"]
    with pytest.raises(FeedbackError, match="corrected_label"):
        store.review(
            board_id=1,
            post_id=12,
            decision="correct",
            reviewer="bob",
            shown_label="중립",
            idempotency_key="r3",
        )
    assert (1, 12) not in store.reviews()


def test_threads_writing_overlapping_keys_store_each_key_once(store: FeedbackStore) -> None:
    keys = [f"k{n % 150}" for n in range(600)]

    def submit(key: str) -> bool:
        return store.add(_item(key, text=f"문장 {key}"))[1]

    with ThreadPoolExecutor(max_workers=16) as pool:
        created = list(pool.map(submit, keys))
    assert sum(created) == 150
    assert store.count() == 150
    assert len(store.audit_trail(limit=1000)) == 150


def test_processes_writing_overlapping_keys_store_each_key_once(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite"
    FeedbackStore(db)
    ranges = [(0, 120), (60, 120), (120, 120)]  # keys 0..239, 60..179 written twice
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sentiment_assets_tests.feedback.store_writer",
                str(db),
                str(first),
                str(count),
                f"p{i}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, (first, count) in enumerate(ranges)
    ]
    created = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        created.append(int(out.strip()))
    store = FeedbackStore(db)
    assert sum(created) == 240
    assert store.count() == 240
    assert {r.idempotency_key for r in store.rows_after(0)} == {f"key-{n}" for n in range(240)}


def test_accepts_recorded_before_accepts_were_labels_become_labels_once(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite"
    store = FeedbackStore(path)
    store.review(
        board_id=1, post_id=7, decision="accept", reviewer="bob", shown_label="긍정",
        idempotency_key="new-accept", model_version="v1", confidence=0.8,
    )  # fmt: skip
    # What an older store holds for an accept: the review and its audit row, no feedback row.
    con = sqlite3.connect(path)
    con.execute(
        "insert into audit (at, who, action, board_id, post_id, old_label, new_label, "
        "model_version, confidence, idempotency_key) values "
        "('2026-01-01T00:00:00+00:00', 'ann', 'accept', 2, 9, '부정', '부정', 'v0', 0.7, 'old')"
    )
    con.execute("insert into reviews values (2, 9, 1, 'accept', '부정', 'ann', null, '2026-01-01')")
    con.execute("pragma user_version = 0")
    con.commit()
    con.close()

    migrated = FeedbackStore(path)
    rows = migrated.rows_after(0)
    assert [(r.board_id, r.post_id, r.old_label, r.new_label, r.reviewer) for r in rows] == [
        (1, 7, "긍정", "긍정", "bob"),
        (2, 9, "부정", "부정", "ann"),
    ]
    assert (rows[1].model_version, rows[1].confidence) == ("v0", 0.7)
    assert migrated.reviews()[(2, 9)].feedback_id == rows[1].id
    # A replay of the old accept answers with its new label; opening again migrates nothing.
    replay = migrated.review(
        board_id=2, post_id=9, decision="accept", reviewer="ann", shown_label="부정",
        idempotency_key="old",
    )  # fmt: skip
    assert not replay.created and replay.feedback == rows[1]
    assert FeedbackStore(path).count() == 2


def test_add_many_stores_all_or_nothing(store: FeedbackStore) -> None:
    store.add(_item("taken"))
    with pytest.raises(IdempotencyConflict):
        store.add_many([_item("fresh"), _item("taken", new_label="부정")])
    assert store.count() == 1  # "fresh" was rolled back with the conflict
    stored = store.add_many([_item("fresh"), _item("taken")])
    assert [created for _, created in stored] == [True, False]
