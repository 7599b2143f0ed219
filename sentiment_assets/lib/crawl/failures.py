"""The crawler's to-do list of failed posts: what is due again, and the rows that say what happened.

A post (or its comments) that still fails after the in-run retries gets a crawl_failures row and
the board's cursor may move past it; later runs fetch it again from that row, directly by URL,
until it is stored or `limit` runs have failed on it (then only `sentiment crawl --retry-failed`
tries again). A site that refuses a page for good (404/410, another 4xx, robots.txt) gets a
`final` row at once: asking every run would not change the answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from sentiment_assets.lib.crawl.records import (
    FINAL,
    GAVE_UP,
    OPEN,
    RESOLVED,
    CrawlFailure,
    utc_now,
)

ARTICLE, COMMENTS = "article", "comments"


class FailureBook:
    """The failed pages of one board during one crawl."""

    def __init__(self, known: Iterable[CrawlFailure], *, limit: int, run_id: str):
        """Start from the newest row of each failed page.

        Args:
            known: the board's crawl_failures rows, newest per page.
            limit: runs that may fail on a page before it is left to `--retry-failed`.
            run_id: this crawl, written on every row.
        """
        self.limit = limit
        self.run_id = run_id
        self._pages = {(f.post_id, f.page_kind): f for f in known if f.state != RESOLVED}
        self.tried: set[tuple[int, str]] = set()
        """Pages already fetched (or refused) in this run: never tried twice in one run."""

    def due(self, *, comments: bool, everything: bool) -> list[CrawlFailure]:
        """Pages to try again now: open ones, or every unresolved one with `everything`."""
        return [
            f
            for f in self._pages.values()
            if (everything or f.state == OPEN) and (comments or f.page_kind == ARTICLE)
        ]

    def handled(self, post_id: int, kind: str) -> bool:
        """Whether the page was tried in this run or has an unresolved row.

        Such a page is fetched from its row while due, never by the list walk.
        """
        return (post_id, kind) in self.tried or (post_id, kind) in self._pages

    def failed(
        self,
        board_id: int,
        post_id: int,
        kind: str,
        url: str,
        *,
        reason: str,
        status: int | None,
        final: bool,
    ) -> CrawlFailure:
        """The row recording that this run failed on the page too."""
        self.tried.add((post_id, kind))
        before = self._pages.get((post_id, kind))
        attempts = (before.attempts if before else 0) + 1
        state = FINAL if final else GAVE_UP if attempts >= self.limit else OPEN
        row = CrawlFailure(
            board_id=board_id,
            post_id=post_id,
            page_kind=kind,
            url=url,
            state=state,
            attempts=attempts,
            error=reason,
            http_status=status,
            occurred_at=utc_now(precise=True),
            crawl_run=self.run_id,
        )
        self._pages[(post_id, kind)] = row
        return row

    def succeeded(self, board_id: int, post_id: int, kind: str, url: str) -> CrawlFailure | None:
        """The row closing a failed page that is now stored (None if it never failed)."""
        self.tried.add((post_id, kind))
        if self._pages.pop((post_id, kind), None) is None:
            return None
        return CrawlFailure(
            board_id=board_id,
            post_id=post_id,
            page_kind=kind,
            url=url,
            state=RESOLVED,
            attempts=0,
            error=None,
            http_status=None,
            occurred_at=utc_now(precise=True),
            crawl_run=self.run_id,
        )


__all__ = ["ARTICLE", "COMMENTS", "FINAL", "GAVE_UP", "OPEN", "RESOLVED", "FailureBook"]
