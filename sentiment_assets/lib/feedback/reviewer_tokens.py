"""Per-reviewer API tokens: created, listed, revoked, and resolved to the reviewer they name.

Only a SHA-256 digest of each token is stored, never the token: whoever reads the store (a
backup, a copy of the warehouse) learns who may write, not how. The tokens are 256 random bits,
so a plain digest cannot be reversed by guessing, and a lookup by digest needs no secret of its
own. A reviewer has at most one active token; revoking keeps the row (with when it was revoked)
so the store says which token wrote what and when it stopped being accepted.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass

from sentiment_assets.lib.feedback.connection import StoreConnection, now
from sentiment_assets.lib.feedback.records import FeedbackError
from sentiment_assets.lib.text.untrusted import is_blank, refusal

TOKEN_PREFIX = "msr_"
"""Marks a maple-sentiment reviewer token, so secret scanners and people can recognise one."""
MIN_ADOPTED_CHARS = 16
"""Shortest existing token `create_reviewer(..., token=...)` takes over."""
MAX_NAME_CHARS = 100


@dataclass(frozen=True)
class ReviewerToken:
    """One token's record: whose it is, when it was made, and when (if) it was revoked."""

    id: int
    reviewer: str
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        """Whether the API still accepts this token."""
        return self.revoked_at is None


def digest(token: str) -> str:
    """What the store keeps of `token`."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    """A fresh token: the prefix and 256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def check_name(name: str) -> str:
    """`name` stripped, or FeedbackError saying why it cannot name a reviewer."""
    name = name.strip()
    if not name or is_blank(name):
        raise FeedbackError("a reviewer name must show at least one character")
    if len(name) > MAX_NAME_CHARS:
        raise FeedbackError(f"a reviewer name may hold at most {MAX_NAME_CHARS} characters")
    if (why := refusal(name)) is not None:
        raise FeedbackError(f"the reviewer name {why}")
    return name


def _record(row: sqlite3.Row) -> ReviewerToken:
    return ReviewerToken(
        id=int(row["id"]),
        reviewer=str(row["reviewer"]),
        created_at=str(row["created_at"]),
        revoked_at=row["revoked_at"],
    )


class ReviewerTokens(StoreConnection):
    """The `reviewer_tokens` table."""

    def create_reviewer(self, name: str, *, token: str | None = None) -> str:
        """Give reviewer `name` a token and return it; only its digest is stored.

        Args:
            name: the reviewer, as the audit trail will name them.
            token: an existing secret to adopt (the shared token of an older deployment);
                a new random one when None.

        Raises:
            FeedbackError: the name is unusable, the reviewer already has an active token, or
                the token to adopt is too short or already belongs to someone.
        """
        name = check_name(name)
        if token is not None:
            token = token.strip()
            if len(token) < MIN_ADOPTED_CHARS:
                raise FeedbackError(
                    f"a token to adopt needs at least {MIN_ADOPTED_CHARS} characters; "
                    "leave it out to get a new random one"
                )
        secret = token if token is not None else new_token()
        with self._write() as con:
            if con.execute(
                "select 1 from reviewer_tokens where reviewer = ? and revoked_at is null", [name]
            ).fetchone():
                raise FeedbackError(
                    f"reviewer {name!r} already has an active token; revoke it first "
                    f"(sentiment reviewers revoke {name})"
                )
            if con.execute(
                "select 1 from reviewer_tokens where token_sha256 = ?", [digest(secret)]
            ).fetchone():
                raise FeedbackError("that token is already registered; choose another")
            con.execute(
                "insert into reviewer_tokens (reviewer, token_sha256, created_at) values (?, ?, ?)",
                [name, digest(secret), now()],
            )
        return secret

    def revoke_reviewer(self, name: str) -> ReviewerToken:
        """Revoke reviewer `name`'s active token; the API refuses it from the next request.

        Raises:
            FeedbackError: `name` has no active token.
        """
        name = name.strip()
        with self._write() as con:
            row = con.execute(
                "select id from reviewer_tokens where reviewer = ? and revoked_at is null", [name]
            ).fetchone()
            if row is None:
                raise FeedbackError(f"reviewer {name!r} has no active token")
            con.execute("update reviewer_tokens set revoked_at = ? where id = ?", [now(), row[0]])
            stored = con.execute(
                "select id, reviewer, created_at, revoked_at from reviewer_tokens where id = ?",
                [row[0]],
            ).fetchone()
        return _record(stored)

    def reviewer_tokens(self, *, include_revoked: bool = False) -> list[ReviewerToken]:
        """Every token's record (active ones only unless asked), oldest first."""
        sql = "select id, reviewer, created_at, revoked_at from reviewer_tokens"
        if not include_revoked:
            sql += " where revoked_at is null"
        return [_record(r) for r in self._connect().execute(sql + " order by id")]

    def token_owner(self, token: str) -> ReviewerToken | None:
        """The record of `token` (active or revoked), None for a token never issued."""
        row = (
            self._connect()
            .execute(
                "select id, reviewer, created_at, revoked_at from reviewer_tokens "
                "where token_sha256 = ?",
                [digest(token)],
            )
            .fetchone()
        )
        return _record(row) if row else None
