"""What the crawler stores: rows of raw_posts, raw_comments, crawl_errors and crawl_cursors.

All timestamps are naive UTC (`posted_at` is converted from the site's Korean time), so every
table in the lake compares times without guessing zones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pandas as pd

KST = timezone(timedelta(hours=9), "KST")

RAW_POSTS_COLUMNS: dict[str, str] = {
    "board_id": "integer",
    "post_id": "bigint",
    "board_name": "varchar",
    "job_group": "varchar",
    "category": "varchar",
    "job": "varchar",
    "title": "varchar",
    "body": "varchar",
    "has_media": "boolean",
    "author_hash": "varchar",
    "posted_at": "timestamp",
    "views": "integer",
    "recommends": "integer",
    "url": "varchar",
    "content_hash": "varchar",
    "crawled_at": "timestamp",
    "crawl_run": "varchar",
}
RAW_COMMENTS_COLUMNS: dict[str, str] = {
    "board_id": "integer",
    "post_id": "bigint",
    "comment_id": "bigint",
    "parent_id": "bigint",
    "author_hash": "varchar",
    "body": "varchar",
    "posted_at": "timestamp",
    "recommends": "integer",
    "crawled_at": "timestamp",
    "crawl_run": "varchar",
}
CRAWL_ERRORS_COLUMNS: dict[str, str] = {
    "url": "varchar",
    "board_id": "integer",
    "page_kind": "varchar",
    "error": "varchar",
    "http_status": "integer",
    "retryable": "boolean",
    "saved_path": "varchar",
    "occurred_at": "timestamp",
    "crawl_run": "varchar",
}
CRAWL_CURSORS_COLUMNS: dict[str, str] = {
    "board_key": "varchar",
    "board_id": "integer",
    "high_water_post_id": "bigint",
    "stop_at_post_id": "bigint",
    "updated_at": "timestamp",
    "crawl_run": "varchar",
}
CRAWL_FAILURES_COLUMNS: dict[str, str] = {
    "board_id": "integer",
    "post_id": "bigint",
    "page_kind": "varchar",
    "url": "varchar",
    "state": "varchar",
    "attempts": "integer",
    "error": "varchar",
    "http_status": "integer",
    "occurred_at": "timestamp",
    "crawl_run": "varchar",
}
TABLES: dict[str, dict[str, str]] = {
    "raw_posts": RAW_POSTS_COLUMNS,
    "raw_comments": RAW_COMMENTS_COLUMNS,
    "crawl_errors": CRAWL_ERRORS_COLUMNS,
    "crawl_cursors": CRAWL_CURSORS_COLUMNS,
    "crawl_failures": CRAWL_FAILURES_COLUMNS,
}
KEYS: dict[str, tuple[str, ...]] = {
    "raw_posts": ("board_id", "post_id"),
    "raw_comments": ("board_id", "post_id", "comment_id"),
    "crawl_cursors": ("board_key", "high_water_post_id", "stop_at_post_id"),
    "crawl_errors": (),
    "crawl_failures": ("board_id", "post_id", "page_kind", "attempts", "state"),
}
"""Dedupe keys: a rerun of a batch writes nothing twice. Errors are events, kept every time."""

OPEN, RESOLVED, GAVE_UP, FINAL = "open", "resolved", "gave_up", "final"
"""States of a crawl_failures row: retried by later runs; fetched since; past the retry limit;
refused for good (404/410 and other 4xx, robots.txt). Only `sentiment crawl --retry-failed`
revisits the last two."""

_PANDAS_DTYPES = {
    "integer": "Int32",
    "bigint": "Int64",
    "boolean": "boolean",
    "varchar": "object",
    "timestamp": "datetime64[us]",
}


def utc_now(*, precise: bool = False) -> datetime:
    """Now, as the naive UTC timestamp every crawl table stores (to the second by default)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now if precise else now.replace(microsecond=0)


def kst_to_utc(local: datetime) -> datetime:
    """A naive Korean wall-clock time (what Inven shows) as naive UTC."""
    return local.replace(tzinfo=KST).astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class RawPost:
    """One row of raw_posts."""

    board_id: int
    post_id: int
    board_name: str
    job_group: str | None
    category: str | None
    job: str | None
    title: str
    body: str
    has_media: bool
    author_hash: str | None
    posted_at: datetime
    views: int
    recommends: int | None
    url: str
    content_hash: str
    crawled_at: datetime
    crawl_run: str


@dataclass(frozen=True)
class RawComment:
    """One row of raw_comments."""

    board_id: int
    post_id: int
    comment_id: int
    parent_id: int | None
    author_hash: str | None
    body: str
    posted_at: datetime | None
    recommends: int | None
    crawled_at: datetime
    crawl_run: str


@dataclass(frozen=True)
class CrawlErrorRecord:
    """One row of crawl_errors: a page that could not be fetched or parsed."""

    url: str
    board_id: int | None
    page_kind: str
    """robots, list, article or comments."""
    error: str
    http_status: int | None
    retryable: bool
    saved_path: str | None
    """Copy of the page as received, relative to the sink's folder (None if nothing came)."""
    occurred_at: datetime
    crawl_run: str


@dataclass(frozen=True)
class CrawlFailure:
    """One row of crawl_failures: a post (or its comments) that a crawl could not store.

    The table is the crawler's to-do list for failed posts: the newest row of a
    (board_id, post_id, page_kind) says where it stands, and a board's cursor may pass a post
    only once it is stored or has such a row.
    """

    board_id: int
    post_id: int
    page_kind: str
    """article or comments."""
    url: str
    state: str
    attempts: int
    """Crawl runs that tried the page and failed, this one included (0 for a resolved row)."""
    error: str | None
    http_status: int | None
    occurred_at: datetime
    crawl_run: str


@dataclass(frozen=True)
class CrawlCursor:
    """One row of crawl_cursors; the newest row per board is the board's cursor.

    `high_water_post_id` is the newest post the last complete crawl saw. The next crawl stops
    at `stop_at_post_id`, the high water of the crawl before: every stretch of the list is walked
    by two consecutive crawls, so a post that slid onto an already-read page (a deletion above it
    mid-crawl) is caught by the second walk instead of being lost behind the cursor.
    """

    board_key: str
    board_id: int
    high_water_post_id: int
    stop_at_post_id: int | None
    updated_at: datetime
    crawl_run: str


def to_json_record(record: Any) -> dict[str, Any]:
    """A dataclass row as JSON-ready values (timestamps in ISO 8601)."""
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in asdict(record).items()
    }


def from_json_record(cls: type[Any], data: Mapping[str, Any]) -> Any:
    """The inverse of `to_json_record` for one of the row dataclasses."""
    values = {}
    for f in fields(cls):
        value = data.get(f.name)
        if isinstance(value, str) and "datetime" in str(f.type):
            value = datetime.fromisoformat(value)
        values[f.name] = value
    return cls(**values)


def to_frame(records: Iterable[Any], columns: Mapping[str, str]) -> pd.DataFrame:
    """Rows as a frame typed like the lakehouse table (nullable integers, microsecond times)."""
    frame = pd.DataFrame.from_records([asdict(r) for r in records], columns=pd.Index(list(columns)))
    return frame.astype({name: _PANDAS_DTYPES[sql] for name, sql in columns.items()})


def create_table_sql(table: str, qualified: str) -> str:
    """`create table if not exists` for one of the crawl tables, so the schema is ours."""
    cols = ", ".join(f"{name} {sql}" for name, sql in TABLES[table].items())
    return f"create table if not exists {qualified} ({cols})"
