"""Where a crawl's rows go: the lakehouse, or JSON Lines files for `sentiment crawl --output`.

Both sinks answer the same questions (what is known, where is the cursor, which posts failed)
and take the same batches, so the crawler runs one code path whichever is used. A batch is
committed whole (the lakehouse: one commit; JSON Lines: in an order that never claims more than
is on disk) before the cursor moves, so a killed crawl loses at most the batch in flight, and
that batch is fetched again by the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Protocol

from sentiment_assets.lib.crawl.records import (
    CRAWL_CURSORS_COLUMNS,
    KEYS,
    RESOLVED,
    TABLES,
    CrawlCursor,
    CrawlErrorRecord,
    CrawlFailure,
    RawComment,
    RawPost,
    create_table_sql,
    from_json_record,
    to_frame,
    to_json_record,
    utc_now,
)
from sentiment_assets.lib.lakehouse.lake import ALIAS, LakeSession

PAGES_FOLDER = "crawl_pages"


class CrawlSink(Protocol):
    """What the crawler needs from a store."""

    root: Path
    """Folder that saved page copies go under; `saved_path` values are relative to it."""

    def cursor(self, board_key: str) -> CrawlCursor | None:
        """The board's newest cursor row, if a crawl of it ever completed."""
        ...

    def known_post_ids(self, board_id: int, post_ids: Collection[int]) -> set[int]:
        """Which of `post_ids` are already stored for `board_id`."""
        ...

    def failures(self, board_id: int | None = None) -> list[CrawlFailure]:
        """The newest crawl_failures row of every failed page (of `board_id`, or all boards)."""
        ...

    def write(
        self,
        posts: Sequence[RawPost],
        comments: Sequence[RawComment],
        errors: Sequence[CrawlErrorRecord],
        failures: Sequence[CrawlFailure] = (),
    ) -> int:
        """Store one batch durably; returns how many posts were new."""
        ...

    def save_cursor(self, cursor: CrawlCursor) -> None:
        """Record a board's new cursor."""
        ...


def save_page_copy(root: Path, kind: str, board_id: int | None, ident: str, content: bytes) -> str:
    """Keep a page under `root/crawl_pages/<date>/`; returns its relative path.

    The crawler passes the page as received with nicknames and user ids already replaced by
    their hashes (`redact.py`): these copies sit in the warehouse.
    """
    digest = hashlib.sha256(content).hexdigest()[:12]
    day = utc_now().strftime("%Y-%m-%d")
    relative = Path(PAGES_FOLDER) / day / f"{kind}-{board_id or 'na'}-{ident}-{digest}.html"
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(content)
    return relative.as_posix()


class LakehouseSink:
    """Crawl tables in the lakehouse: raw_posts, raw_comments, crawl_errors, crawl_cursors."""

    def __init__(self, session: LakeSession, root: Path):
        """Create the crawl tables with their declared schema if they do not exist yet."""
        self.session = session
        self.root = root

        def create(con) -> None:
            for table in TABLES:
                con.execute(create_table_sql(table, f"{ALIAS}.{table}"))

        if not all(session.table_exists(t) for t in TABLES):
            session.transaction(create, message="create crawl tables")

    def cursor(self, board_key: str) -> CrawlCursor | None:
        """The newest cursor row of `board_key`."""
        row = self.session.con.execute(
            "select board_key, board_id, high_water_post_id, stop_at_post_id, updated_at, "
            f"crawl_run from {ALIAS}.crawl_cursors where board_key = ? "
            "order by updated_at desc limit 1",
            [board_key],
        ).fetchone()
        return None if row is None else CrawlCursor(*row)

    def known_post_ids(self, board_id: int, post_ids: Collection[int]) -> set[int]:
        """Stored ids among `post_ids`."""
        if not post_ids:
            return set()
        rows = self.session.con.execute(
            f"select post_id from {ALIAS}.raw_posts "
            "where board_id = ? and post_id in (select unnest(?::bigint[]))",
            [board_id, sorted(post_ids)],
        ).fetchall()
        return {int(r[0]) for r in rows}

    def failures(self, board_id: int | None = None) -> list[CrawlFailure]:
        """Newest row per failed page, oldest failure first."""
        where, params = ("where board_id = ?", [board_id]) if board_id is not None else ("", [])
        cols = ", ".join(TABLES["crawl_failures"])
        rows = self.session.con.execute(
            f"select {cols} from {ALIAS}.crawl_failures {where} "
            "qualify row_number() over (partition by board_id, post_id, page_kind "
            "order by occurred_at desc, state = 'resolved' desc, attempts desc) = 1 "
            "order by occurred_at, board_id, post_id",
            params,
        ).fetchall()
        return [CrawlFailure(*row) for row in rows]

    def write(
        self,
        posts: Sequence[RawPost],
        comments: Sequence[RawComment],
        errors: Sequence[CrawlErrorRecord],
        failures: Sequence[CrawlFailure] = (),
    ) -> int:
        """Append every non-empty part, with its dedupe key, in one commit; returns new posts."""
        parts = [
            (table, to_frame(rows, TABLES[table]), KEYS[table])
            for table, rows in (
                ("raw_posts", posts),
                ("raw_comments", comments),
                ("crawl_errors", errors),
                ("crawl_failures", failures),
            )
            if rows
        ]
        if not parts:
            return 0
        results = self.session.append_all(parts)
        return results[0].rows_written if posts else 0

    def save_cursor(self, cursor: CrawlCursor) -> None:
        """Append a cursor row; the newest row per board is the cursor."""
        frame = to_frame([cursor], CRAWL_CURSORS_COLUMNS)
        self.session.append("crawl_cursors", frame, key=KEYS["crawl_cursors"])


class JsonlSink:
    """`posts.jsonl` plus `posts.comments.jsonl`, `posts.errors.jsonl`, `posts.cursors.json`.

    Lines are appended and fsynced per batch. A crash can leave half a line at the end; it is
    cut off on the next open, so the file stays valid JSON Lines and the post is fetched again.
    """

    def __init__(self, output: Path):
        """Open (or create) the files next to `output` and index the posts already there."""
        self.output = output
        self.root = output.parent
        self.root.mkdir(parents=True, exist_ok=True)
        stem = output.name.removesuffix(".jsonl")
        self.comments_path = self.root / f"{stem}.comments.jsonl"
        self.errors_path = self.root / f"{stem}.errors.jsonl"
        self.cursors_path = self.root / f"{stem}.cursors.json"
        self.failures_path = self.root / f"{stem}.failures.jsonl"
        self._known: set[tuple[int, int]] = set()
        for record in _read_jsonl(output):
            self._known.add((int(record["board_id"]), int(record["post_id"])))
        self._comments: set[tuple[int, int, int]] = {
            (int(r["board_id"]), int(r["post_id"]), int(r["comment_id"]))
            for r in _read_jsonl(self.comments_path)
        }
        _read_jsonl(self.errors_path)
        self._failures: dict[tuple[int, int, str], CrawlFailure] = {}
        for record in _read_jsonl(self.failures_path):
            self._note_failure(from_json_record(CrawlFailure, record))

    def _note_failure(self, failure: CrawlFailure) -> None:
        self._failures[(failure.board_id, failure.post_id, failure.page_kind)] = failure

    def cursor(self, board_key: str) -> CrawlCursor | None:
        """The board's cursor from the cursors file."""
        if not self.cursors_path.is_file():
            return None
        data = json.loads(self.cursors_path.read_text(encoding="utf-8")).get(board_key)
        return None if data is None else from_json_record(CrawlCursor, data)

    def known_post_ids(self, board_id: int, post_ids: Collection[int]) -> set[int]:
        """Ids already in the posts file."""
        return {p for p in post_ids if (board_id, p) in self._known}

    def failures(self, board_id: int | None = None) -> list[CrawlFailure]:
        """Newest row per failed page, oldest failure first."""
        rows = [f for f in self._failures.values() if board_id in (None, f.board_id)]
        return sorted(rows, key=lambda f: (f.occurred_at, f.board_id, f.post_id))

    def write(
        self,
        posts: Sequence[RawPost],
        comments: Sequence[RawComment],
        errors: Sequence[CrawlErrorRecord],
        failures: Sequence[CrawlFailure] = (),
    ) -> int:
        """Append new rows only; returns new posts."""
        fresh = []
        for post in posts:
            key = (post.board_id, post.post_id)
            if key not in self._known:
                self._known.add(key)
                fresh.append(post)
        new_comments = []
        for comment in comments:
            ckey = (comment.board_id, comment.post_id, comment.comment_id)
            if ckey not in self._comments:
                self._comments.add(ckey)
                new_comments.append(comment)
        _append_jsonl(self.comments_path, new_comments)
        _append_jsonl(self.errors_path, errors)
        # A failure row before the posts, its resolution after them: a crash in between leaves
        # a post recorded as failed (and fetched again), never one marked done but missing.
        _append_jsonl(self.failures_path, [f for f in failures if f.state != RESOLVED])
        # Posts after their comments: a post on disk means its comments are too.
        _append_jsonl(self.output, fresh)
        _append_jsonl(self.failures_path, [f for f in failures if f.state == RESOLVED])
        for failure in failures:
            self._note_failure(failure)
        return len(fresh)

    def save_cursor(self, cursor: CrawlCursor) -> None:
        """Rewrite the cursors file atomically."""
        cursors = {}
        if self.cursors_path.is_file():
            cursors = json.loads(self.cursors_path.read_text(encoding="utf-8"))
        cursors[cursor.board_key] = to_json_record(cursor)
        tmp = self.cursors_path.with_name(f".{self.cursors_path.name}.tmp")
        tmp.write_text(json.dumps(cursors, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.cursors_path)


def _read_jsonl(path: Path) -> list[dict]:
    """All records of a JSON Lines file; a torn last line (a crash mid-write) is cut off.

    Raises:
        ValueError: a line other than the last is not JSON: the file was edited or damaged,
            and guessing would lose data, so nothing is changed.
    """
    if not path.is_file():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    records = []
    good_bytes = 0
    for number, line in enumerate(lines, start=1):
        last = number == len(lines)
        if last and not line:
            break
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if last:
                break
            raise ValueError(
                f"{path} line {number} is not valid JSON ({exc}); fix or move it"
            ) from exc
        if last:  # complete JSON but no newline: keep it and end the line
            with path.open("ab") as handle:
                handle.write(b"\n")
            return records
        good_bytes += len(line) + 1
    if good_bytes != len(data):
        with path.open("r+b") as handle:
            handle.truncate(good_bytes)
    return records


def _append_jsonl(path: Path, records: Sequence[object]) -> None:
    if not records:
        return
    payload = "".join(
        json.dumps(to_json_record(r), ensure_ascii=False) + "\n" for r in records
    ).encode("utf-8")
    with path.open("ab") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
