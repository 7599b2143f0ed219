"""What a crawl did, per board and in all: for logs, the CLI and materialization metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    failed_posts: int = 0
    """Pages (articles or comments) given a crawl_failures row by this run."""
    retried_failures: int = 0
    """Earlier failures this run fetched again from their crawl_failures rows."""
    recovered: int = 0
    """Failed pages stored by this run."""
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
