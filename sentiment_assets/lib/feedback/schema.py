"""The feedback store's tables, and the migrations that bring an older file up to date."""

from __future__ import annotations

import sqlite3

SCHEMA = """
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
create table if not exists reviewer_tokens (
    id integer primary key autoincrement,
    reviewer text not null,
    token_sha256 text not null unique,
    created_at text not null,
    revoked_at text
);
create unique index if not exists reviewer_tokens_active on reviewer_tokens (reviewer)
    where revoked_at is null;
"""

SCHEMA_VERSION = 1
"""1: every accept is a feedback row (before, an accept was only a review and an audit row)."""


def accepts_to_labels(con: sqlite3.Connection) -> None:
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


def migrate(con: sqlite3.Connection) -> None:
    """Run the migrations a file at `pragma user_version` still lacks; call inside a write."""
    if int(con.execute("pragma user_version").fetchone()[0]) < 1:
        accepts_to_labels(con)
    con.execute(f"pragma user_version = {SCHEMA_VERSION}")
