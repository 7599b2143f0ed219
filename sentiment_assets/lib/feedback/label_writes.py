"""Writing human labels: corrections and imports, once per idempotency key, and consumption."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from sentiment_assets.lib.feedback import audit
from sentiment_assets.lib.feedback.connection import StoreConnection, now
from sentiment_assets.lib.feedback.records import (
    FEEDBACK_COLUMNS,
    IDENTITY,
    FeedbackError,
    FeedbackInput,
    FeedbackRow,
    IdempotencyConflict,
)


class LabelWrites(StoreConnection):
    """Storing corrections and marking them consumed by training."""

    def add(self, item: FeedbackInput) -> tuple[FeedbackRow, bool]:
        """Store a correction once per idempotency key.

        Returns the stored row and whether this call created it; a replay of an earlier key
        returns the first row unchanged.

        Raises:
            FeedbackError: the input is invalid.
            IdempotencyConflict: the key was used before for a different correction.
        """
        item.validate()
        with self._write() as con:
            return self._add(con, item, action="feedback")

    def add_many(self, items: Sequence[FeedbackInput]) -> list[tuple[FeedbackRow, bool]]:
        """Store every item in one transaction, or none (`sentiment labels import`).

        Each is idempotent as in `add`; the first invalid or conflicting item raises and
        nothing is stored.
        """
        for item in items:
            item.validate()
        with self._write() as con:
            return [self._add(con, item, action="feedback") for item in items]

    def _add(
        self, con: sqlite3.Connection, item: FeedbackInput, *, action: str
    ) -> tuple[FeedbackRow, bool]:
        accepted = con.execute(
            "select board_id, post_id from audit where idempotency_key = ? and action = 'accept'",
            [item.idempotency_key],
        ).fetchone()
        if accepted is not None and action != "accept":
            raise IdempotencyConflict(
                f"idempotency_key {item.idempotency_key!r} was used to accept post "
                f"{accepted['board_id']}/{accepted['post_id']}, not for a correction"
            )
        existing = con.execute(
            f"select {FEEDBACK_COLUMNS} from feedback where idempotency_key = ?",
            [item.idempotency_key],
        ).fetchone()
        if existing is not None:
            row = FeedbackRow(**dict(existing))
            changed = [f for f in IDENTITY if getattr(row, f) != getattr(item, f)]
            if changed:
                raise IdempotencyConflict(
                    f"idempotency_key {item.idempotency_key!r} was used for feedback {row.id} "
                    f"with different {', '.join(changed)}"
                )
            return row, False
        at = now()
        cursor = con.execute(
            "insert into feedback (idempotency_key, text, board_id, post_id, old_label, "
            "new_label, reviewer, comment, model_version, confidence, source, created_at) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                item.idempotency_key,
                item.text,
                item.board_id,
                item.post_id,
                item.old_label,
                item.new_label,
                item.reviewer.strip(),
                item.comment,
                item.model_version,
                item.confidence,
                item.source,
                at,
            ],
        )
        feedback_id = int(cursor.lastrowid or 0)
        audit.record(
            con,
            at=at,
            who=item.reviewer.strip(),
            action=action,
            feedback_id=feedback_id,
            board_id=item.board_id,
            post_id=item.post_id,
            old_label=item.old_label,
            new_label=item.new_label,
            model_version=item.model_version,
            confidence=item.confidence,
            idempotency_key=item.idempotency_key,
        )
        row = con.execute(
            f"select {FEEDBACK_COLUMNS} from feedback where id = ?", [feedback_id]
        ).fetchone()
        return FeedbackRow(**dict(row)), True

    def mark_consumed(self, ids: Iterable[int], run_id: str) -> int:
        """Record that training run `run_id` used corrections `ids`; returns rows newly marked.

        Rows already consumed by another run keep their first run id.
        """
        wanted = sorted({int(i) for i in ids})
        if not run_id:
            raise FeedbackError("run_id must not be empty")
        marked = 0
        with self._write() as con:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                marked += con.execute(
                    f"update feedback set consumed_by = ? where consumed_by is null "
                    f"and id in ({marks})",
                    [run_id, *chunk],
                ).rowcount
        return marked
