"""The incremental crawl: list pages newest first, fetch what is new, commit in batches.

Each board keeps a cursor. A crawl pages from p=1 until a page reaches the cursor's stop point
(nothing new beyond it), the list ends, or the depth limit is hit; only then does the cursor
move. The stop point is the high water of the crawl before last, so every stretch of the list is
walked twice: offset pagination shifts under deletions, and a post that slid onto a page we had
already read is picked up by the second walk. Walks cost list pages only; stored posts are never
fetched again. A crawl killed or out of budget keeps the old cursor, so the next run pages down
again, skips what is stored and picks up where the last one stopped.

Failures are retried where they happen (the polite client retries timeouts, 429 and 5xx; a page
that arrives cut short or unparseable is fetched again after a backoff). A post, or its
comments, that still fails gets a crawl_failures row in the same commit as the batch, and only
then may the cursor pass it: later runs fetch it again from that row (`failures.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sentiment_assets.lib.crawl.archive import PageArchive
from sentiment_assets.lib.crawl.boards import BoardSpec
from sentiment_assets.lib.crawl.failures import ARTICLE, COMMENTS, FailureBook
from sentiment_assets.lib.crawl.fetcher import FetchError, Page, PoliteClient, RobotsDisallowed
from sentiment_assets.lib.crawl.parser import (
    ParseError,
    parse_article,
    parse_comments,
    parse_list_page,
)
from sentiment_assets.lib.crawl.records import (
    CrawlCursor,
    CrawlErrorRecord,
    CrawlFailure,
    RawComment,
    RawPost,
    utc_now,
)
from sentiment_assets.lib.crawl.redact import redact_page
from sentiment_assets.lib.crawl.reports import BoardReport, CrawlReport
from sentiment_assets.lib.crawl.rows import comment_rows, post_row
from sentiment_assets.lib.crawl.settings import CrawlSettings
from sentiment_assets.lib.crawl.sinks import CrawlSink, save_page_copy
from sentiment_assets.lib.crawl.urls import article_url, comments_form, comments_url, list_url

T = TypeVar("T")

COMPLETE_STOPS = frozenset({"reached_cursor", "end_of_list", "max_pages"})
"""Stop reasons after which the board's cursor may move; the others leave work for next run."""


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
        self._failures: list[CrawlFailure] = []
        self._board: BoardReport | None = None
        self._book: FailureBook | None = None

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
        self._book = FailureBook(
            self.sink.failures(board_id),
            limit=self.settings.failure_retry_limit,
            run_id=self.settings.run_id,
        )
        report.stop = self._retry_failures(spec, budget)
        if self.settings.retry_failed_only or report.stop == "budget":
            self._flush()
            report.cursor_after = high
            self._log_board(report)
            return report
        seen: set[int] = set()
        report.stop = "max_pages"
        for page_number in range(1, self.settings.max_pages + 1):
            if budget.left <= 0:
                report.stop = "budget"
                break
            url = list_url(self.settings.base_url, board_id, page_number, spec.view)
            listing = self._get_parsed(
                url,
                parse_list_page,
                "list",
                board_id,
                f"p{page_number}",
                budget,
                lambda page, n=page_number: self._archive_list(spec, n, page),
            )
            if listing is None:
                report.stop = "list_error" if budget.left > 0 else "budget"
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
                # A post with a failure row is fetched from that row (while due), not here.
                if row.post_id in known or self._book.handled(row.post_id, ARTICLE):
                    continue
                if budget.left <= 0:
                    report.stop = "budget"
                    break
                self._crawl_post(spec, row.post_id, budget)
            if report.stop == "budget":
                break
            if stop_at is not None and any(r.post_id <= stop_at for r in rows):
                report.stop = "reached_cursor"
                break
        # Failure rows go out in this commit, before the cursor moves past their posts.
        self._flush()
        if report.stop in COMPLETE_STOPS:
            report.cursor_after = self._advance(spec, cursor, seen)
        else:
            report.cursor_after = high
        self._log_board(report)
        return report

    def _log_board(self, report: BoardReport) -> None:
        self.log(
            f"board {report.board_key}: {report.new_posts} new posts, {report.list_pages} list "
            f"pages, {report.article_pages} articles, {report.errors} errors, "
            f"{report.failed_posts} failed, {report.recovered} recovered, stop={report.stop}"
        )

    def _retry_failures(self, spec: BoardSpec, budget: _Budget) -> str:
        """Fetch again the posts and comments earlier runs failed on; returns a stop reason."""
        assert self._book is not None and self._board is not None
        board_id = spec.board.board_id
        due = self._book.due(
            comments=self.settings.comments or self.settings.retry_failed_only,
            everything=self.settings.retry_failed_only,
        )
        stored = self.sink.known_post_ids(board_id, {f.post_id for f in due})
        for failure in due:
            if budget.left <= 0:
                return "budget"
            self._board.retried_failures += 1
            if failure.page_kind == ARTICLE and failure.post_id in stored:
                # Stored meanwhile (by a concurrent crawl): close the row, fetch nothing.
                self._resolve(board_id, failure.post_id, ARTICLE, failure.url)
            elif failure.page_kind == ARTICLE:
                self._crawl_post(spec, failure.post_id, budget)
            else:
                referer = article_url(self.settings.base_url, board_id, failure.post_id)
                self._crawl_comments(spec, failure.post_id, referer, budget)
        return "retried_failures"

    def _archive_list(self, spec: BoardSpec, page_number: int, page: Page) -> None:
        assert self._board is not None
        self._board.list_pages += 1
        if self.archive:
            path = self.archive.list_path(spec.board.board_id, page_number, spec.view)
            self.archive.save(path, self._private("list", page.content, page.content_type))

    def _advance(self, spec: BoardSpec, cursor: CrawlCursor | None, seen: set[int]) -> int | None:
        """Move the cursor after a complete walk; returns the new high water."""
        old_high = cursor.high_water_post_id if cursor else None
        if not seen:
            return old_high
        high = max(seen) if old_high is None else max(max(seen), old_high)
        stop = old_high
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
    def _crawl_post(self, spec: BoardSpec, post_id: int, budget: _Budget) -> None:
        """Fetch, parse and queue one post, or record it as failed."""
        board = spec.board
        url = article_url(self.settings.base_url, board.board_id, post_id)
        fetched = self._get_parsed(
            url,
            parse_article,
            ARTICLE,
            board.board_id,
            str(post_id),
            budget,
            lambda page: self._archive_article(board.board_id, post_id, page),
            failed_post=post_id,
        )
        if fetched is None:
            return
        article = fetched
        self._posts.append(post_row(board, post_id, url, article, self.settings))
        self._resolve(board.board_id, post_id, ARTICLE, url)
        if self.settings.comments:
            # Comments ride on their post: the post is never fetched again, so comments that
            # fail get a failure row of their own and are fetched again from it.
            self._crawl_comments(spec, post_id, url, budget)
        if len(self._posts) >= self.settings.batch_size:
            self._flush()

    def _archive_article(self, board_id: int, post_id: int, page: Page) -> None:
        assert self._board is not None
        self._board.article_pages += 1
        if self.archive:
            content = self._private(ARTICLE, page.content, page.content_type)
            self.archive.save(self.archive.article_path(board_id, post_id), content)

    def _crawl_comments(
        self,
        spec: BoardSpec,
        post_id: int,
        referer: str,
        budget: _Budget,
    ) -> None:
        # The first fetch happens whatever the budget says: a post queued for storing must not
        # lose its comments to the budget (retries of an unparseable answer do wait for it).
        board_id = spec.board.board_id
        endpoint = comments_url(self.settings.base_url)

        def fetch() -> Page:
            return self.client.post_form(
                endpoint, comments_form(board_id, post_id), referer=referer
            )

        comments = self._get_parsed(
            endpoint,
            parse_comments,
            COMMENTS,
            board_id,
            str(post_id),
            budget,
            lambda page: self._archive_comments(board_id, post_id, page),
            failed_post=post_id,
            fetch=fetch,
            failure_url=referer,
        )
        if comments is None:
            return
        self._resolve(board_id, post_id, COMMENTS, referer)
        self._comments.extend(comment_rows(board_id, post_id, comments, self.settings))

    def _archive_comments(self, board_id: int, post_id: int, page: Page) -> None:
        assert self._board is not None
        self._board.comment_pages += 1
        if self.archive:
            content = self._private(COMMENTS, page.content, page.content_type)
            self.archive.save(self.archive.comments_path(board_id, post_id), content)

    # ---- plumbing ------------------------------------------------------------------------------
    def _get_parsed(
        self,
        url: str,
        parser: Callable[[str], T],
        kind: str,
        board_id: int,
        ident: str,
        budget: _Budget,
        on_page: Callable[[Page], None],
        *,
        failed_post: int | None = None,
        fetch: Callable[[], Page] | None = None,
        failure_url: str | None = None,
    ) -> T | None:
        """Fetch and parse a page, fetching it again after a backoff while it will not parse.

        Each fetch costs one request of `budget`. A page that still fails becomes an error row
        (with a saved copy) and, for a post's article or comments, a crawl_failures row.
        """
        attempts = self.settings.parse_retries + 1
        for attempt in range(attempts):
            budget.left -= 1
            try:
                page = fetch() if fetch else self.client.get(url)
            except FetchError as exc:
                self._record_fetch_failure(exc, kind, board_id, ident)
                final = not exc.retryable
                if failed_post is not None:
                    self._fail(
                        board_id,
                        failed_post,
                        kind,
                        failure_url or url,
                        exc.reason,
                        exc.status,
                        final=final,
                    )
                return None
            on_page(page)
            try:
                return parser(page.text)
            except ParseError as exc:
                reason = f"parse error: {exc}"
            except Exception as exc:
                # A parser bug on one odd page must not stop an unattended crawl; the saved copy
                # is what reproduces it.
                reason = f"parser failure: {type(exc).__name__}: {exc}"
            if attempt + 1 < attempts and budget.left > 0:
                self.client.back_off(url, attempt)
                continue
            if attempt:
                reason = f"{reason} (after {attempt + 1} fetches)"
            content = self._private(kind, page.content, page.content_type)
            saved = save_page_copy(self.sink.root, kind, board_id, ident, content)
            self._error(page.url, kind, board_id, reason, page.status, True, saved)
            if failed_post is not None:
                self._fail(
                    board_id,
                    failed_post,
                    kind,
                    failure_url or url,
                    reason,
                    page.status,
                    final=False,
                )
            return None
        raise AssertionError("unreachable: the loop returns")

    def _fail(
        self,
        board_id: int,
        post_id: int,
        kind: str,
        url: str,
        reason: str,
        status: int | None,
        *,
        final: bool,
    ) -> None:
        assert self._book is not None and self._board is not None
        self._board.failed_posts += 1
        self._failures.append(
            self._book.failed(
                board_id, post_id, kind, url, reason=reason, status=status, final=final
            )
        )

    def _resolve(self, board_id: int, post_id: int, kind: str, url: str) -> None:
        assert self._book is not None and self._board is not None
        row = self._book.succeeded(board_id, post_id, kind, url)
        if row is not None:
            self._board.recovered += 1
            self._failures.append(row)

    def _private(self, kind: str, content: bytes, content_type: str | None) -> bytes:
        """A page as kept on disk: nicknames and user ids replaced by their hashes."""
        return redact_page(content, kind, self.settings.author_salt, content_type)

    def _record_fetch_failure(self, exc: FetchError, kind: str, board_id: int, ident: str) -> None:
        reason = exc.reason
        if kind == ARTICLE and exc.status in (404, 410):
            reason = f"{reason}: post deleted between list and fetch, or moved"
            exc.reason = reason
        saved = None
        if exc.content:
            content = self._private(kind, exc.content, None)
            saved = save_page_copy(self.sink.root, kind, board_id, ident, content)
        self._error(exc.url, kind, board_id, reason, exc.status, exc.retryable, saved)
        if isinstance(exc, RobotsDisallowed):
            self.log(f"skipped {exc.url}: {reason}")

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
        if not (self._posts or self._comments or self._errors or self._failures):
            return
        written = self.sink.write(self._posts, self._comments, self._errors, self._failures)
        assert self._board is not None
        self._board.new_posts += written
        self._posts, self._comments, self._errors, self._failures = [], [], [], []
