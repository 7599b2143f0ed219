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
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sentiment_assets.lib.models.base import LABELS

Source = Literal["api", "review-app", "import"]
Decision = Literal["accept", "correct"]
SOURCES: tuple[str, ...] = ("api", "review-app", "import")
MAX_KEY_CHARS = 200

_SCHEMA = """
create table if not exists feedback (
    id integer primary key autoincrement,
    idempotency_key text not null unique,
    text text,
    board_id integer,
    post_id integer,
    old_label text,
    new_label text not null,
    reviewer text not null,
    comment text,
    model_version text,
    confidence real,
    source text not null,
    created_at text not null,
    consumed_by text,
    check (text is not null or (board_id is not null and post_id is not null))
);
create index if not exists feedback_unconsumed on feedback (id) where consumed_by is null;
create table if not exists reviews (
    board_id integer not null,
    post_id integer not null,
    reviewed integer not null default 1,
    decision text not null,
    label text not null,
    reviewer text not null,
    feedback_id integer references feedback (id),
    reviewed_at text not null,
    primary key (board_id, post_id)
);
create table if not exists audit (
    id integer primary key autoincrement,
    at text not null,
    who text not null,
    action text not null,
    feedback_id integer references feedback (id),
    board_id integer,
    post_id integer,
    old_label text,
    new_label text,
    model_version text,
    confidence real,
    idempotency_key text
);
create index if not exists audit_key on audit (idempotency_key, action);
create index if not exists audit_post on audit (board_id, post_id);
"""


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


_FEEDBACK_COLUMNS = ", ".join(f.name for f in fields(FeedbackRow))
_REVIEW_COLUMNS = ", ".join(f.name for f in fields(ReviewRow))
# The fields a replay must repeat exactly; anything else under the same key is a client bug.
_IDENTITY = ("text", "board_id", "post_id", "new_label", "reviewer")


_SCHEMA_VERSION = 1
"""1: every accept is a feedback row (before, an accept was only a review and an audit row)."""


def _accepts_to_labels(con: sqlite3.Connection) -> None:
    """Give every accept recorded before accepts were labels its feedback row.

    The audit row has all a label needs (post, reviewer, the label and the prediction it
    confirmed) except where it came from, so the row says so in its comment.
    """
    accepts = con.execute(
        "select id, at, who, board_id, post_id, old_label, model_version, confidence, "
        "idempotency_key from audit where action = 'accept' and feedback_id is null order by id"
    ).fetchall()
    for a in accepts:
        cursor = con.execute(
            "insert into feedback (idempotency_key, text, board_id, post_id, old_label, "
            "new_label, reviewer, comment, model_version, confidence, source, created_at) "
            "values (?, null, ?, ?, ?, ?, ?, ?, ?, ?, 'api', ?)",
            [
                a["idempotency_key"],
                a["board_id"],
                a["post_id"],
                a["old_label"],
                a["old_label"],
                a["who"],
                "accept recorded before accepts became labels (source unknown)",
                a["model_version"],
                a["confidence"],
                a["at"],
            ],
        )
        feedback_id = int(cursor.lastrowid or 0)
        con.execute("update audit set feedback_id = ? where id = ?", [feedback_id, a["id"]])
        con.execute(
            "update reviews set feedback_id = ? where board_id = ? and post_id = ? "
            "and decision = 'accept' and reviewer = ? and feedback_id is null",
            [feedback_id, a["board_id"], a["post_id"], a["who"]],
        )


def default_path(warehouse: Path) -> Path:
    """Where the store lives by default: beside the lake catalog, never inside it."""
    return warehouse / "feedback.sqlite"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class FeedbackStore:
    """The feedback store in one SQLite file; safe to share between threads and processes."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0):
        """Open (creating if needed) the store at `path`."""
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # executescript manages its own transaction; IMMEDIATE serialises racing creators.
        self._connect().executescript(f"begin immediate;{_SCHEMA}commit;")
        self._migrate()

    def _migrate(self) -> None:
        """Bring a store written by an older version up to `_SCHEMA_VERSION`, once per file."""
        con = self._connect()
        if int(con.execute("pragma user_version").fetchone()[0]) >= _SCHEMA_VERSION:
            return
        with self._write() as con:
            # Checked again under the write lock: another process may have migrated meanwhile.
            if int(con.execute("pragma user_version").fetchone()[0]) < 1:
                _accepts_to_labels(con)
            con.execute(f"pragma user_version = {_SCHEMA_VERSION}")

    def _connect(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE below.
            con = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            con.row_factory = sqlite3.Row
            con.execute("pragma journal_mode = wal")
            # FULL syncs every commit: a correction acknowledged to a reviewer survives a crash.
            con.execute("pragma synchronous = full")
            con.execute(f"pragma busy_timeout = {int(self.busy_timeout_s * 1000)}")
            con.execute("pragma foreign_keys = on")
            self._local.con = con
        return con

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        con.execute("begin immediate")
        try:
            yield con
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    def journal_mode(self) -> str:
        """The SQLite journal mode in force ("wal")."""
        return str(self._connect().execute("pragma journal_mode").fetchone()[0])

    # -- corrections ---------------------------------------------------------------------------

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
            f"select {_FEEDBACK_COLUMNS} from feedback where idempotency_key = ?",
            [item.idempotency_key],
        ).fetchone()
        if existing is not None:
            row = FeedbackRow(**dict(existing))
            changed = [f for f in _IDENTITY if getattr(row, f) != getattr(item, f)]
            if changed:
                raise IdempotencyConflict(
                    f"idempotency_key {item.idempotency_key!r} was used for feedback {row.id} "
                    f"with different {', '.join(changed)}"
                )
            return row, False
        at = _now()
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
        self._audit(
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
            f"select {_FEEDBACK_COLUMNS} from feedback where id = ?", [feedback_id]
        ).fetchone()
        return FeedbackRow(**dict(row)), True

    @staticmethod
    def _audit(con: sqlite3.Connection, **values: Any) -> None:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        con.execute(f"insert into audit ({columns}) values ({marks})", list(values.values()))

    def get(self, feedback_id: int) -> FeedbackRow | None:
        """The correction with `feedback_id`, if stored."""
        row = (
            self._connect()
            .execute(f"select {_FEEDBACK_COLUMNS} from feedback where id = ?", [feedback_id])
            .fetchone()
        )
        return FeedbackRow(**dict(row)) if row else None

    def count(self) -> int:
        """How many human labels (corrections and accepts) are stored."""
        return int(self._connect().execute("select count(*) from feedback").fetchone()[0])

    def rows_after(
        self, after_id: int, *, up_to_id: int | None = None, limit: int | None = None
    ) -> list[FeedbackRow]:
        """Corrections with `after_id < id <= up_to_id`, oldest first."""
        sql = f"select {_FEEDBACK_COLUMNS} from feedback where id > ?"
        params: list[Any] = [after_id]
        if up_to_id is not None:
            sql += " and id <= ?"
            params.append(up_to_id)
        sql += " order by id"
        if limit is not None:
            sql += " limit ?"
            params.append(limit)
        return [FeedbackRow(**dict(r)) for r in self._connect().execute(sql, params)]

    # -- what the sensor and the training run need ---------------------------------------------

    def unconsumed_summary(self, after_id: int = 0) -> tuple[int, int]:
        """(count, highest id) of human labels not yet used by training, with id > `after_id`.

        Corrections and accepts count alike: each is a person's label.

        Served from a partial index over unconsumed rows, so a sensor tick stays cheap.
        """
        row = (
            self._connect()
            .execute(
                "select count(*), coalesce(max(id), 0) from feedback "
                "where consumed_by is null and id > ?",
                [after_id],
            )
            .fetchone()
        )
        return int(row[0]), int(row[1])

    def unconsumed_count(self, after_id: int = 0) -> int:
        """How many corrections training has not used yet (id > `after_id`)."""
        return self.unconsumed_summary(after_id)[0]

    def max_unconsumed_id(self, after_id: int = 0) -> int:
        """The highest unconsumed correction id (0 when there is none)."""
        return self.unconsumed_summary(after_id)[1]

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

    # -- review decisions ----------------------------------------------------------------------

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
            # A replay of a write with no feedback row is one the migration below has not seen
            # (it runs once per file); it is answered as it was stored.
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
                        _now(),
                    ],
                )
            stored = con.execute(
                f"select {_REVIEW_COLUMNS} from reviews where board_id = ? and post_id = ?",
                [board_id, post_id],
            ).fetchone()
        return ReviewResult(review=_review_row(stored), feedback=feedback, created=created)

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
        rows = self._connect().execute(f"select {_REVIEW_COLUMNS} from reviews").fetchall()
        return {(int(r["board_id"]), int(r["post_id"])): _review_row(r) for r in rows}

    def audit_trail(
        self, *, board_id: int | None = None, post_id: int | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Who changed which label when, newest first; optionally for one post."""
        sql = "select * from audit"
        params: list[Any] = []
        if board_id is not None and post_id is not None:
            sql += " where board_id = ? and post_id = ?"
            params += [board_id, post_id]
        sql += " order by id desc limit ?"
        params.append(limit)
        return [dict(r) for r in self._connect().execute(sql, params)]


def _review_row(row: sqlite3.Row) -> ReviewRow:
    values = dict(row)
    values["reviewed"] = bool(values["reviewed"])
    return ReviewRow(**values)
