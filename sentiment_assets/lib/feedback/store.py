"""The feedback store: human labels (corrections and accepts), review decisions, audit trail.

It is a SQLite file of its own in WAL mode, apart from the lakehouse, so a reviewer's correction
never waits for (or is lost to) a pipeline run holding the lake; the `feedback` asset copies new
rows into the lake later. A reviewer who accepts the model's label gives a human label just as
one who corrects it does: both are feedback rows (an accept has `old_label == new_label` and
keeps the model version and confidence it confirmed), so both count toward retraining and reach
refinement, training and the gate's evaluation set. Every write carries a client-chosen
idempotency key: a retried request returns the row the first attempt stored instead of storing
it twice. Each write is one `BEGIN IMMEDIATE` transaction, so concurrent writers queue on
SQLite's busy timeout rather than failing on a read-to-write lock upgrade.

The store is one class put together from a module per responsibility: the connection
(`connection.py`), the tables and migrations (`schema.py`), label writes (`label_writes.py`),
reads and the sensor's counts (`label_reads.py`), review decisions (`reviews.py`), the audit
trail (`audit.py`) and the reviewers' API tokens (`reviewer_tokens.py`). Everything callers use
is importable from here.
"""

from __future__ import annotations

from sentiment_assets.lib.feedback.audit import AuditTrail
from sentiment_assets.lib.feedback.connection import default_path
from sentiment_assets.lib.feedback.label_reads import LabelReads
from sentiment_assets.lib.feedback.records import (
    MAX_KEY_CHARS,
    SOURCES,
    Decision,
    FeedbackError,
    FeedbackInput,
    FeedbackRow,
    IdempotencyConflict,
    ReviewResult,
    ReviewRow,
    Source,
)
from sentiment_assets.lib.feedback.reviewer_tokens import ReviewerToken, ReviewerTokens
from sentiment_assets.lib.feedback.reviews import Reviews

__all__ = [
    "MAX_KEY_CHARS",
    "SOURCES",
    "Decision",
    "FeedbackError",
    "FeedbackInput",
    "FeedbackRow",
    "FeedbackStore",
    "IdempotencyConflict",
    "ReviewResult",
    "ReviewRow",
    "ReviewerToken",
    "Source",
    "default_path",
]


class FeedbackStore(Reviews, LabelReads, AuditTrail, ReviewerTokens):
    """The feedback store in one SQLite file; safe to share between threads and processes."""
