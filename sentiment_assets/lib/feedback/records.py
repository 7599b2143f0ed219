"""What the feedback store holds: its rows, the inputs it accepts, and its errors."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from typing import Literal

from sentiment_assets.lib.models.base import LABELS

Source = Literal["api", "review-app", "import"]
Decision = Literal["accept", "correct"]
SOURCES: tuple[str, ...] = ("api", "review-app", "import")
MAX_KEY_CHARS = 200


class FeedbackError(ValueError):
    """A feedback or review request is invalid; nothing was written."""


class IdempotencyConflict(FeedbackError):
    """The idempotency key was already used for a different request."""


@dataclass(frozen=True)
class FeedbackInput:
    """One correction as a client submits it: free text or a post id, and the right label."""

    new_label: str
    reviewer: str
    idempotency_key: str
    text: str | None = None
    board_id: int | None = None
    post_id: int | None = None
    old_label: str | None = None
    comment: str | None = None
    model_version: str | None = None
    """The model version whose prediction `old_label` is (provenance of the corrected label)."""
    confidence: float | None = None
    """That model's confidence in `old_label`."""
    source: str = "api"

    def validate(self) -> None:
        """Raise FeedbackError naming the first problem."""
        if self.new_label not in LABELS:
            raise FeedbackError(f"new_label must be one of {list(LABELS)}, got {self.new_label!r}")
        if self.old_label is not None and self.old_label not in LABELS:
            raise FeedbackError(f"old_label must be one of {list(LABELS)}, got {self.old_label!r}")
        if self.source not in SOURCES:
            raise FeedbackError(f"source must be one of {list(SOURCES)}, got {self.source!r}")
        if not self.reviewer.strip():
            raise FeedbackError("reviewer must not be empty")
        if not self.idempotency_key.strip() or len(self.idempotency_key) > MAX_KEY_CHARS:
            raise FeedbackError(f"idempotency_key must be 1 to {MAX_KEY_CHARS} characters")
        has_text = self.text is not None and bool(self.text.strip())
        has_post = self.board_id is not None and self.post_id is not None
        if not has_text and not has_post:
            raise FeedbackError("give a non-empty text or both board_id and post_id")
        if self.confidence is not None and not 0.0 <= self.confidence <= 1.0:
            raise FeedbackError("confidence must lie in [0, 1]")


@dataclass(frozen=True)
class FeedbackRow:
    """A stored human label: a correction, an accept (`old_label == new_label`) or an import."""

    id: int
    idempotency_key: str
    text: str | None
    board_id: int | None
    post_id: int | None
    old_label: str | None
    new_label: str
    reviewer: str
    comment: str | None
    model_version: str | None
    confidence: float | None
    source: str
    created_at: str
    consumed_by: str | None


@dataclass(frozen=True)
class ReviewRow:
    """The review state of one post."""

    board_id: int
    post_id: int
    reviewed: bool
    decision: str
    label: str
    reviewer: str
    feedback_id: int | None
    reviewed_at: str


@dataclass(frozen=True)
class ReviewResult:
    """What `review` stored: the post's review state and the feedback row of its label."""

    review: ReviewRow
    feedback: FeedbackRow | None
    created: bool


FEEDBACK_COLUMNS = ", ".join(f.name for f in fields(FeedbackRow))
REVIEW_COLUMNS = ", ".join(f.name for f in fields(ReviewRow))
IDENTITY = ("text", "board_id", "post_id", "new_label", "reviewer")
"""The fields a replay must repeat exactly; anything else under the same key is a client bug."""


def review_row(row: sqlite3.Row) -> ReviewRow:
    """A `reviews` table row as a ReviewRow."""
    values = dict(row)
    values["reviewed"] = bool(values["reviewed"])
    return ReviewRow(**values)
