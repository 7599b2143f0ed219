"""What one crawl is told: the site, the boards, and the limits that keep it polite and safe."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sentiment_assets.lib.crawl.boards import BoardSpec


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
    parse_retries: int = 2
    """Refetches, after a backoff, of a page that arrived cut short or unparseable."""
    failure_retry_limit: int = 5
    """Runs that may fail on a post before it waits for `--retry-failed`."""
    retry_failed_only: bool = False
    """Revisit every unresolved crawl_failures row (past the limit too) and walk no list."""
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        """Refuse limits that would crawl nothing or commit never."""
        if not self.author_salt:
            raise ValueError("author_salt must not be empty")
        if self.max_pages < 1 or self.page_budget < 1 or self.batch_size < 1:
            raise ValueError("max_pages, page_budget and batch_size must be at least 1")
        if self.parse_retries < 0 or self.failure_retry_limit < 1:
            raise ValueError("parse_retries must be >= 0 and failure_retry_limit >= 1")
        if not self.boards:
            raise ValueError("no boards to crawl")
