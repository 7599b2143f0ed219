"""The `inven` resource: which site and boards to crawl, and how politely."""

from __future__ import annotations

import os

import dagster as dg
from pydantic import Field

from sentiment_assets.lib.crawl.boards import DEFAULT_BOARDS
from sentiment_assets.lib.crawl.run import REPLAY_DELAY_S, CrawlOptions

ENV_BASE_URL = "SENTIMENT_CRAWL_BASE_URL"
ENV_BOARDS = "SENTIMENT_CRAWL_BOARDS"
ENV_AUTHOR_SALT = "SENTIMENT_AUTHOR_SALT"


class InvenCrawlerResource(dg.ConfigurableResource):
    """The Inven crawler: target site, boards, limits and politeness."""

    base_url: str | None = Field(
        default=None,
        description="Site to crawl, e.g. https://www.inven.co.kr. Unset: an in-process replay "
        "site with synthetic posts is started, crawled over HTTP on 127.0.0.1 and stopped.",
    )
    boards: str = Field(
        default=DEFAULT_BOARDS,
        description="Comma-separated board ids, with :chu / :chuchu for recommended views.",
    )
    max_pages: int = Field(default=10, description="List pages per board per run.")
    page_budget: int = Field(default=1000, description="Requests per run over all boards.")
    batch_size: int = Field(default=50, description="Posts per lakehouse commit.")
    comments: bool = Field(default=False, description="Also fetch comments into raw_comments.")
    delay_s: float = Field(default=1.0, description="Seconds between requests to a real host.")
    replay_delay_s: float = Field(
        default=REPLAY_DELAY_S, description="Seconds between requests to the replay site."
    )
    timeout_s: float = Field(default=10.0, description="Per-request timeout.")
    max_retries: int = Field(default=3, description="Retries on timeouts, 429 and 5xx.")
    parse_retries: int = Field(
        default=2, description="Refetches of a page that arrives cut short or unparseable."
    )
    failure_retry_limit: int = Field(
        default=5,
        description="Runs that fetch a failed post again from its crawl_failures row before it "
        "is left to `sentiment crawl --retry-failed`.",
    )
    user_agent: str | None = Field(default=None, description="Overrides the default UA.")
    author_salt: str | None = Field(
        default=None,
        description="Secret salt for author hashes. Unset: a random salt kept outside the "
        "warehouse, in SENTIMENT_AUTHOR_SALT_FILE or ~/.config/maple-sentiment/author_salt, "
        "created with mode 600 on first use.",
    )
    replay_posts: int = Field(default=360, description="Posts on the replay site at start.")
    replay_new_post_every_s: float = Field(
        default=20.0,
        description="The replay site gains a post this often (wall time since its first use "
        "in this warehouse), so scheduled crawls find new posts.",
    )
    replay_max_posts: int = Field(default=3000, description="The replay site stops growing here.")

    def options(self) -> CrawlOptions:
        """The crawl options this resource describes."""
        return CrawlOptions(
            base_url=self.base_url or None,
            boards=self.boards,
            max_pages=self.max_pages,
            page_budget=self.page_budget,
            batch_size=self.batch_size,
            comments=self.comments,
            delay_s=self.delay_s,
            replay_delay_s=self.replay_delay_s,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            parse_retries=self.parse_retries,
            failure_retry_limit=self.failure_retry_limit,
            user_agent=self.user_agent,
            author_salt=self.author_salt,
            replay_posts=self.replay_posts,
            replay_new_post_every_s=self.replay_new_post_every_s,
            replay_max_posts=self.replay_max_posts,
        )


def _from_env() -> InvenCrawlerResource:
    # EnvVar keeps the value out of the UI and run config; only variables that are set are
    # bound, since an unset EnvVar is an error and every field has a working default.
    def env(name: str) -> dg.EnvVar | None:
        return dg.EnvVar(name) if os.environ.get(name) else None

    return InvenCrawlerResource(
        base_url=env(ENV_BASE_URL),
        boards=env(ENV_BOARDS) or DEFAULT_BOARDS,
        author_salt=env(ENV_AUTHOR_SALT),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Bind the crawler resource, configured from the environment where set."""
    return dg.Definitions(resources={"inven": _from_env()})
