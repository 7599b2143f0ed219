"""One crawl, end to end: the entry point the Dagster asset, the CLI and the benchmark share.

With no base URL, the replay site is started in-process on 127.0.0.1, crawled over real HTTP
and stopped, so a fresh checkout (and `make demo`) fills raw_posts with nothing online.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from sentiment_assets.lib.crawl.archive import PageArchive
from sentiment_assets.lib.crawl.boards import DEFAULT_BOARDS, BoardSpec, parse_board_specs
from sentiment_assets.lib.crawl.crawler import Crawler, CrawlReport, CrawlSettings
from sentiment_assets.lib.crawl.fetcher import PoliteClient, Politeness
from sentiment_assets.lib.crawl.hashing import load_or_create_salt
from sentiment_assets.lib.crawl.replay.server import ReplayServer, synthetic_site
from sentiment_assets.lib.crawl.sinks import CrawlSink, JsonlSink, LakehouseSink
from sentiment_assets.lib.lakehouse import Lakehouse

SALT_FILE = ".crawl_author_salt"
REPLAY_DELAY_S = 0.005
"""Politeness delay against the in-process replay site: keeps the code path, costs no time."""


@dataclass(frozen=True)
class CrawlOptions:
    """Everything a crawl can be told, in one place (the resource and the CLI fill it)."""

    base_url: str | None = None
    """None: crawl the in-process replay site."""
    boards: str = DEFAULT_BOARDS
    max_pages: int = 10
    page_budget: int = 1000
    batch_size: int = 50
    comments: bool = False
    delay_s: float = 1.0
    replay_delay_s: float = REPLAY_DELAY_S
    timeout_s: float = 10.0
    max_retries: int = 3
    backoff_s: float = 1.0
    user_agent: str | None = None
    author_salt: str | None = None
    """None: the installation's salt file in the warehouse folder (created on first use)."""
    replay_posts: int = 360
    replay_seed: int = 7

    def board_specs(self) -> tuple[BoardSpec, ...]:
        """The boards, validated."""
        return tuple(parse_board_specs(self.boards))

    def politeness(self, *, replay: bool) -> Politeness:
        """Politeness for a real host, or the small replay delay for the local site."""
        base = Politeness(
            delay_s=self.replay_delay_s if replay else self.delay_s,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            backoff_s=self.backoff_s,
        )
        return replace(base, user_agent=self.user_agent) if self.user_agent else base


@contextmanager
def crawl_target(options: CrawlOptions) -> Iterator[tuple[str, bool]]:
    """Yield `(base_url, is_replay)`: the configured site, or a replay site started for it."""
    if options.base_url:
        yield options.base_url, False
        return
    site = synthetic_site(initial_posts=options.replay_posts, seed=options.replay_seed)
    with ReplayServer(site) as server:
        yield server.base_url, True


def resolve_salt(options: CrawlOptions, warehouse: Path) -> str:
    """The explicit salt, else the one kept in the warehouse folder."""
    return options.author_salt or load_or_create_salt(warehouse / SALT_FILE)


def run_crawl(
    options: CrawlOptions,
    sink: CrawlSink,
    *,
    salt: str,
    run_id: str | None = None,
    log: Callable[[str], None] | None = None,
    archive: Path | None = None,
) -> CrawlReport:
    """Crawl the configured site (or the replay site) into `sink`."""
    with crawl_target(options) as (base_url, replay):
        settings = CrawlSettings(
            base_url=base_url,
            boards=options.board_specs(),
            author_salt=salt,
            max_pages=options.max_pages,
            page_budget=options.page_budget,
            batch_size=options.batch_size,
            comments=options.comments,
            **({"run_id": run_id} if run_id else {}),
        )
        if log:
            log(f"crawling {base_url}{' (replay site)' if replay else ''}: {options.boards}")
        with PoliteClient(options.politeness(replay=replay)) as client:
            crawler = Crawler(
                settings, sink, client, log=log, archive=PageArchive(archive) if archive else None
            )
            return crawler.run()


def crawl_into_lakehouse(
    options: CrawlOptions,
    lakehouse: Lakehouse,
    *,
    run_id: str | None = None,
    log: Callable[[str], None] | None = None,
    archive: Path | None = None,
) -> CrawlReport:
    """Crawl into raw_posts (plus raw_comments, crawl_errors, crawl_cursors) of `lakehouse`."""
    salt = resolve_salt(options, lakehouse.root)
    with lakehouse.session() as session:
        sink = LakehouseSink(session, lakehouse.root)
        return run_crawl(options, sink, salt=salt, run_id=run_id, log=log, archive=archive)


def crawl_into_jsonl(
    options: CrawlOptions,
    output: Path,
    *,
    warehouse: Path,
    run_id: str | None = None,
    log: Callable[[str], None] | None = None,
    archive: Path | None = None,
) -> CrawlReport:
    """Crawl into `output` (JSON Lines) and its sibling files.

    The salt still lives in the warehouse folder, so author hashes match the lakehouse's.
    """
    salt = resolve_salt(options, warehouse)
    os.makedirs(output.parent, exist_ok=True)
    sink = JsonlSink(output)
    return run_crawl(options, sink, salt=salt, run_id=run_id, log=log, archive=archive)
