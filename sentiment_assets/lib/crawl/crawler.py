"""The incremental crawl: list pages newest first, fetch what is new, commit in batches.

Each board keeps a cursor. A crawl pages from p=1 until a page reaches the cursor's stop point
(nothing new beyond it), the list ends, or the depth limit is hit; only then does the cursor
move. The stop point is the high water of the crawl before last, so every stretch of the list is
walked twice: offset pagination shifts under deletions, and a post that slid onto a page we had
already read is picked up by the second walk. Walks cost list pages only; stored posts are never
fetched again. A crawl killed or out of budget keeps the old cursor, so the next run pages down
again, skips what is stored and picks up where the last one stopped. Posts whose fetch failed
for a reason that may pass (timeouts, 429, 5xx) hold the cursor below them, so they are tried
again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sentiment_assets.lib.crawl.archive import PageArchive
from sentiment_assets.lib.crawl.boards import BoardSpec, clean_category, job_for
from sentiment_assets.lib.crawl.fetcher import FetchError, Page, PoliteClient, RobotsDisallowed
from sentiment_assets.lib.crawl.hashing import author_hash, content_hash
from sentiment_assets.lib.crawl.parser import (
    ParseError,
    parse_article,
    parse_comments,
    parse_list_page,
)
from sentiment_assets.lib.crawl.records import (
    CrawlCursor,
    CrawlErrorRecord,
    RawComment,
    RawPost,
    kst_to_utc,
    utc_now,
)
from sentiment_assets.lib.crawl.sinks import CrawlSink, save_page_copy
from sentiment_assets.lib.crawl.urls import article_url, comments_form, comments_url, list_url

T = TypeVar("T")

COMPLETE_STOPS = frozenset({"reached_cursor", "end_of_list", "max_pages"})
"""Stop reasons after which the board's cursor may move; the others leave work for next run."""


@dataclass(frozen=True)
class CrawlSettings:
    """One crawl's targets and limits."""

    base_url: str
    boards: tuple[BoardSpec, ...]
    author_salt: str
    max_pages: int = 10
    """List pages per board per run: how deep a first crawl (or a long outage) reaches back."""
    page_budget: int = 1000
    """Requests per run over all boards (list, article and comment pages), shared fairly."""
    batch_size: int = 50
    """Posts per commit; a killed crawl refetches at most this many."""
    comments: bool = False
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        """Refuse limits that would crawl nothing or commit never."""
        if not self.author_salt:
            raise ValueError("author_salt must not be empty")
        if self.max_pages < 1 or self.page_budget < 1 or self.batch_size < 1:
            raise ValueError("max_pages, page_budget and batch_size must be at least 1")
        if not self.boards:
            raise ValueError("no boards to crawl")


@dataclass
class BoardReport:
    """What happened on one board."""

    board_key: str
    board_id: int
    cursor_before: int | None
    """High water before this crawl."""
    stop_at: int | None
    """Where this crawl stopped paging (None: it walked to the list's end or the depth limit)."""
    cursor_after: int | None = None
    new_posts: int = 0
    list_pages: int = 0
    article_pages: int = 0
    comment_pages: int = 0
    errors: int = 0
    already_stored: int = 0
    repeated_rows: int = 0
    """Rows seen on an earlier list page of this run (the list shifted under us)."""
    stop: str = "not_started"


@dataclass
class CrawlReport:
    """What one crawl did, for logs, the CLI and materialization metadata."""

    run_id: str
    boards: list[BoardReport] = field(default_factory=list)
    elapsed_s: float = 0.0
    requests: int = 0

    @property
    def new_posts(self) -> int:
        """New rows in raw_posts."""
        return sum(b.new_posts for b in self.boards)

    @property
    def pages(self) -> int:
        """List, article and comment pages fetched."""
        return sum(b.list_pages + b.article_pages + b.comment_pages for b in self.boards)

    @property
    def errors(self) -> int:
        """Pages recorded in crawl_errors."""
        return sum(b.errors for b in self.boards)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "run_id": self.run_id,
            "new_posts": self.new_posts,
            "pages": self.pages,
            "errors": self.errors,
            "requests": self.requests,
            "elapsed_s": round(self.elapsed_s, 3),
            "boards": {b.board_key: dict(vars(b)) for b in self.boards},
        }


class _Budget:
    def __init__(self, total: int):
        self.left = total


class Crawler:
    """Runs one crawl of the configured boards into a sink."""

    def __init__(
        self,
        settings: CrawlSettings,
        sink: CrawlSink,
        client: PoliteClient,
        *,
        log: Callable[[str], None] | None = None,
        archive: PageArchive | None = None,
    ):
        """Bind settings, the store and the polite client (which the caller closes).

        Args:
            settings: what to crawl and the limits.
            sink: where rows go.
            client: the polite HTTP client.
            log: receives one line per board and per failed page.
            archive: when given, every page fetched is also kept there byte for byte, in the
                layout `sentiment replay-site --pages` serves.
        """
        self.settings = settings
        self.sink = sink
        self.client = client
        self.log = log or (lambda _message: None)
        self.archive = archive
        self._posts: list[RawPost] = []
        self._comments: list[RawComment] = []
        self._errors: list[CrawlErrorRecord] = []
        self._board: BoardReport | None = None

    def run(self) -> CrawlReport:
        """Crawl every board in turn; page-level failures are recorded, never raised."""
        started = time.perf_counter()
        first_request = len(self.client.requests)
        report = CrawlReport(run_id=self.settings.run_id)
        budget = _Budget(self.settings.page_budget)
        specs = list(self.settings.boards)
        for index, spec in enumerate(specs):
            # Each board gets a fair share of what is left, so one deep board cannot starve
            # the rest; what a board leaves unused flows to the boards after it.
            granted = budget.left // (len(specs) - index)
            share = _Budget(granted)
            report.boards.append(self._crawl_board(spec, share))
            budget.left -= granted - share.left
        report.elapsed_s = time.perf_counter() - started
        report.requests = len(self.client.requests) - first_request
        return report

    # ---- one board -----------------------------------------------------------------------------
    def _crawl_board(self, spec: BoardSpec, budget: _Budget) -> BoardReport:
        board_id = spec.board.board_id
        cursor = self.sink.cursor(spec.key)
        high = cursor.high_water_post_id if cursor else None
        stop_at = cursor.stop_at_post_id if cursor else None
        report = BoardReport(spec.key, board_id, cursor_before=high, stop_at=stop_at)
        self._board = report
        seen: set[int] = set()
        retry_later: set[int] = set()
        report.stop = "max_pages"
        for page_number in range(1, self.settings.max_pages + 1):
            if budget.left <= 0:
                report.stop = "budget"
                break
            url = list_url(self.settings.base_url, board_id, page_number, spec.view)
            budget.left -= 1
            page = self._fetch(url, "list", board_id, f"p{page_number}")
            if page is None:
                report.stop = "list_error"
                break
            report.list_pages += 1
            if self.archive:
                self.archive.save(
                    self.archive.list_path(board_id, page_number, spec.view), page.content
                )
            listing = self._parse(parse_list_page, page, "list", board_id, f"p{page_number}")
            if listing is None:
                report.stop = "list_error"
                break
            rows = [r for r in listing.rows if r.board_id in (None, board_id)]
            if not rows:
                report.stop = "end_of_list"
                break
            fresh = []
            for row in rows:
                if row.post_id in seen:
                    report.repeated_rows += 1
                elif stop_at is None or row.post_id > stop_at:
                    fresh.append(row)
                seen.add(row.post_id)
            known = self.sink.known_post_ids(board_id, [r.post_id for r in fresh])
            report.already_stored += len(known)
            for row in fresh:
                if row.post_id in known:
                    continue
                if budget.left <= 0:
                    report.stop = "budget"
                    break
                budget.left -= 1
                if not self._crawl_post(spec, row.post_id, budget):
                    retry_later.add(row.post_id)
            if report.stop == "budget":
                break
            if stop_at is not None and any(r.post_id <= stop_at for r in rows):
                report.stop = "reached_cursor"
                break
        self._flush()
        if report.stop in COMPLETE_STOPS:
            report.cursor_after = self._advance(spec, cursor, seen, retry_later)
        else:
            report.cursor_after = high
        self.log(
            f"board {spec.key}: {report.new_posts} new posts, {report.list_pages} list pages, "
            f"{report.article_pages} articles, {report.errors} errors, stop={report.stop}"
        )
        return report

    def _advance(
        self, spec: BoardSpec, cursor: CrawlCursor | None, seen: set[int], retry_later: set[int]
    ) -> int | None:
        """Move the cursor after a complete walk; returns the new high water."""
        old_high = cursor.high_water_post_id if cursor else None
        if not seen:
            return old_high
        high = max(seen) if old_high is None else max(max(seen), old_high)
        stop = old_high
        if retry_later:
            # Keep failed posts above the stop point so the next walk reaches them again.
            limit = min(retry_later) - 1
            high = min(high, limit)
            stop = None if stop is None else min(stop, limit)
        if cursor is None or (high, stop) != (old_high, cursor.stop_at_post_id):
            self.sink.save_cursor(
                CrawlCursor(
                    board_key=spec.key,
                    board_id=spec.board.board_id,
                    high_water_post_id=high,
                    stop_at_post_id=stop,
                    updated_at=utc_now(precise=True),
                    crawl_run=self.settings.run_id,
                )
            )
        return high

    # ---- one post ------------------------------------------------------------------------------
    def _crawl_post(self, spec: BoardSpec, post_id: int, budget: _Budget) -> bool:
        """Fetch, parse and queue one post; False when it should be tried again next run."""
        board = spec.board
        url = article_url(self.settings.base_url, board.board_id, post_id)
        try:
            page = self.client.get(url)
        except FetchError as exc:
            self._record_fetch_failure(exc, "article", board.board_id, str(post_id))
            return not exc.retryable
        assert self._board is not None
        self._board.article_pages += 1
        if self.archive:
            self.archive.save(self.archive.article_path(board.board_id, post_id), page.content)
        article = self._parse(parse_article, page, "article", board.board_id, str(post_id))
        if article is None:
            return True
        salt = self.settings.author_salt
        category = clean_category(article.category)
        self._posts.append(
            RawPost(
                board_id=board.board_id,
                post_id=post_id,
                board_name=board.name,
                job_group=board.job_group,
                category=category,
                job=job_for(category),
                title=article.title,
                body=article.body,
                has_media=article.has_media,
                author_hash=author_hash(article.author, salt),
                posted_at=kst_to_utc(article.posted_at),
                views=article.views,
                recommends=article.recommends,
                url=url,
                content_hash=content_hash(article.title, article.body),
                crawled_at=utc_now(),
                crawl_run=self.settings.run_id,
            )
        )
        if self.settings.comments:
            # Comments ride on their post: skipping them for budget would lose them for good,
            # since the post is never fetched again.
            budget.left -= 1
            self._crawl_comments(spec, post_id, url)
        if len(self._posts) >= self.settings.batch_size:
            self._flush()
        return True

    def _crawl_comments(self, spec: BoardSpec, post_id: int, referer: str) -> None:
        board_id = spec.board.board_id
        endpoint = comments_url(self.settings.base_url)
        try:
            page = self.client.post_form(
                endpoint, comments_form(board_id, post_id), referer=referer
            )
        except FetchError as exc:
            self._record_fetch_failure(exc, "comments", board_id, str(post_id))
            return
        assert self._board is not None
        self._board.comment_pages += 1
        if self.archive:
            self.archive.save(self.archive.comments_path(board_id, post_id), page.content)
        comments = self._parse(parse_comments, page, "comments", board_id, str(post_id))
        if comments is None:
            return
        now = utc_now()
        for comment in comments:
            self._comments.append(
                RawComment(
                    board_id=board_id,
                    post_id=post_id,
                    comment_id=comment.comment_id,
                    parent_id=comment.parent_id,
                    author_hash=author_hash(comment.author, self.settings.author_salt),
                    body=comment.body,
                    posted_at=kst_to_utc(comment.posted_at) if comment.posted_at else None,
                    recommends=comment.recommends,
                    crawled_at=now,
                    crawl_run=self.settings.run_id,
                )
            )

    # ---- plumbing ------------------------------------------------------------------------------
    def _fetch(self, url: str, kind: str, board_id: int, ident: str) -> Page | None:
        try:
            return self.client.get(url)
        except FetchError as exc:
            self._record_fetch_failure(exc, kind, board_id, ident)
            return None

    def _record_fetch_failure(self, exc: FetchError, kind: str, board_id: int, ident: str) -> None:
        reason = exc.reason
        if kind == "article" and exc.status in (404, 410):
            reason = f"{reason}: post deleted between list and fetch, or moved"
        saved = None
        if exc.content:
            saved = save_page_copy(self.sink.root, kind, board_id, ident, exc.content)
        self._error(exc.url, kind, board_id, reason, exc.status, exc.retryable, saved)
        if isinstance(exc, RobotsDisallowed):
            self.log(f"skipped {exc.url}: {reason}")

    def _parse(
        self, parser: Callable[[str], T], page: Page, kind: str, board_id: int, ident: str
    ) -> T | None:
        """Run a parser; a failure becomes an error row with the page saved, never a crash."""
        try:
            return parser(page.text)
        except ParseError as exc:
            reason = f"parse error: {exc}"
        except Exception as exc:
            # A parser bug on one odd page must not stop an unattended crawl; the saved copy
            # is what reproduces it.
            reason = f"parser failure: {type(exc).__name__}: {exc}"
        saved = save_page_copy(self.sink.root, kind, board_id, ident, page.content)
        self._error(page.url, kind, board_id, reason, page.status, False, saved)
        return None

    def _error(
        self,
        url: str,
        kind: str,
        board_id: int,
        reason: str,
        status: int | None,
        retryable: bool,
        saved: str | None,
    ) -> None:
        assert self._board is not None
        self._board.errors += 1
        self._errors.append(
            CrawlErrorRecord(
                url=url,
                board_id=board_id,
                page_kind=kind,
                error=reason,
                http_status=status,
                retryable=retryable,
                saved_path=saved,
                occurred_at=utc_now(),
                crawl_run=self.settings.run_id,
            )
        )
        self.log(f"{kind} page failed: {url}: {reason}")

    def _flush(self) -> None:
        if not (self._posts or self._comments or self._errors):
            return
        written = self.sink.write(self._posts, self._comments, self._errors)
        assert self._board is not None
        self._board.new_posts += written
        self._posts, self._comments, self._errors = [], [], []
