"""Review decisions: a reviewer accepts or corrects the model's label for a queued post."""

from __future__ import annotations

import sqlite3

from sentiment_assets.lib.feedback.connection import now
from sentiment_assets.lib.feedback.label_writes import LabelWrites
from sentiment_assets.lib.feedback.records import (
    MAX_KEY_CHARS,
    REVIEW_COLUMNS,
    Decision,
    FeedbackError,
    FeedbackInput,
    FeedbackRow,
    IdempotencyConflict,
    ReviewResult,
    ReviewRow,
    review_row,
)
from sentiment_assets.lib.models.base import LABELS


class Reviews(LabelWrites):
    """Recording review decisions (each is a human label) and reading review states."""

    def review(
        self,
        *,
        board_id: int,
        post_id: int,
        decision: Decision,
        reviewer: str,
        shown_label: str,
        idempotency_key: str,
        corrected_label: str | None = None,
        model_version: str | None = None,
        confidence: float | None = None,
        comment: str | None = None,
        source: str = "api",
    ) -> ReviewResult:
        """Accept the model's `shown_label` for a post, or correct it; marks the post reviewed.

        Either decision is a human label and becomes a feedback row with old label =
        `shown_label` and the `model_version` and `confidence` it was shown with: a correction
        carries the new label, an accept the shown one (so the prediction it confirmed is on
        record). Replays of the same idempotency key return the first result.

        Raises:
            FeedbackError: invalid decision, labels or reviewer.
        """
        if decision not in ("accept", "correct"):
            raise FeedbackError(f"decision must be 'accept' or 'correct', got {decision!r}")
        if shown_label not in LABELS:
            raise FeedbackError(f"shown_label must be one of {list(LABELS)}")
        if decision == "correct" and corrected_label not in LABELS:
            raise FeedbackError(f"a correction needs corrected_label in {list(LABELS)}")
        if decision == "accept" and corrected_label not in (None, shown_label):
            raise FeedbackError("an accepted post keeps shown_label; use decision 'correct'")
        if not reviewer.strip():
            raise FeedbackError("reviewer must not be empty")
        if not idempotency_key.strip() or len(idempotency_key) > MAX_KEY_CHARS:
            raise FeedbackError(f"idempotency_key must be 1 to {MAX_KEY_CHARS} characters")
        label = corrected_label if decision == "correct" else shown_label
        assert label is not None
        feedback_input = FeedbackInput(
            new_label=label,
            reviewer=reviewer,
            idempotency_key=idempotency_key,
            board_id=board_id,
            post_id=post_id,
            old_label=shown_label,
            comment=comment,
            model_version=model_version,
            confidence=confidence,
            source=source,
        )
        feedback_input.validate()
        with self._write() as con:
            replay = self._earlier_review(
                con, idempotency_key, decision, board_id, post_id, reviewer.strip()
            )
            feedback: FeedbackRow | None = None
            created = replay is None
            # A replay of a write with no feedback row is one the migration in schema.py has
            # not seen (it runs once per file); it is answered as it was stored.
            if replay is None or replay["feedback_id"] is not None:
                feedback, created = self._add(con, feedback_input, action=decision)
            if created:
                con.execute(
                    "insert into reviews (board_id, post_id, reviewed, decision, label, reviewer, "
                    "feedback_id, reviewed_at) values (?, ?, 1, ?, ?, ?, ?, ?) "
                    "on conflict (board_id, post_id) do update set reviewed = 1, "
                    "decision = excluded.decision, label = excluded.label, "
                    "reviewer = excluded.reviewer, feedback_id = excluded.feedback_id, "
                    "reviewed_at = excluded.reviewed_at",
                    [
                        board_id,
                        post_id,
                        decision,
                        label,
                        reviewer.strip(),
                        feedback.id if feedback else None,
                        now(),
                    ],
                )
            stored = con.execute(
                f"select {REVIEW_COLUMNS} from reviews where board_id = ? and post_id = ?",
                [board_id, post_id],
            ).fetchone()
        return ReviewResult(review=review_row(stored), feedback=feedback, created=created)

    @staticmethod
    def _earlier_review(
        con: sqlite3.Connection,
        key: str,
        decision: str,
        board_id: int,
        post_id: int,
        reviewer: str,
    ) -> sqlite3.Row | None:
        """The audit row of an earlier write under `key` if this review replays it, else None.

        Raises:
            IdempotencyConflict: `key` was used for another kind of write, another post or
                another reviewer. Without this, a replay would report a review state that was
                never stored for this post.
        """
        earlier = con.execute(
            "select action, feedback_id, board_id, post_id, who from audit "
            "where idempotency_key = ? order by id limit 1",
            [key],
        ).fetchone()
        if earlier is None:
            return None
        if earlier["action"] != decision:
            what = "a correction" if earlier["action"] == "feedback" else earlier["action"]
            raise IdempotencyConflict(
                f"idempotency_key {key!r} was used for {what}, not for {decision!r}"
            )
        if (earlier["board_id"], earlier["post_id"], earlier["who"]) != (
            board_id,
            post_id,
            reviewer,
        ):
            raise IdempotencyConflict(
                f"idempotency_key {key!r} was used for post "
                f"{earlier['board_id']}/{earlier['post_id']} by {earlier['who']!r}"
            )
        return earlier

    def reviews(self) -> dict[tuple[int, int], ReviewRow]:
        """Every reviewed post's state, keyed by (board_id, post_id)."""
        rows = self._connect().execute(f"select {REVIEW_COLUMNS} from reviews").fetchall()
        return {(int(r["board_id"]), int(r["post_id"])): review_row(r) for r in rows}
