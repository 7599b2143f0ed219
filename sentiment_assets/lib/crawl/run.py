"""One crawl, end to end: the entry point the Dagster asset, the CLI and the benchmark share.

With no base URL, the replay site is started in-process on 127.0.0.1, crawled over real HTTP
and stopped, so a fresh checkout (and `make demo`) fills raw_posts with nothing online.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sentiment_assets.lib.crawl.archive import PageArchive
from sentiment_assets.lib.crawl.boards import DEFAULT_BOARDS, BoardSpec, parse_board_specs
from sentiment_assets.lib.crawl.crawler import Crawler, CrawlReport, CrawlSettings
from sentiment_assets.lib.crawl.fetcher import PoliteClient, Politeness
from sentiment_assets.lib.crawl.records import KST
from sentiment_assets.lib.crawl.replay.server import ReplayServer, synthetic_site
from sentiment_assets.lib.crawl.salt import author_salt
from sentiment_assets.lib.crawl.sinks import CrawlSink, JsonlSink, LakehouseSink
from sentiment_assets.lib.lakehouse import Lakehouse

REPLAY_EPOCH_FILE = ".replay_site_epoch"
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
    parse_retries: int = 2
    failure_retry_limit: int = 5
    retry_failed_only: bool = False
    """Only revisit recorded failures (`sentiment crawl --retry-failed`)."""
    delay_s: float = 1.0
    replay_delay_s: float = REPLAY_DELAY_S
    timeout_s: float = 10.0
    max_retries: int = 3
    backoff_s: float = 1.0
    user_agent: str | None = None
    author_salt: str | None = None
    """None: the installation's salt file, outside the warehouse (created on first use)."""
    replay_posts: int = 360
    replay_seed: int = 7
    replay_new_post_every_s: float = 20.0
    replay_max_posts: int = 3000

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


def replay_epoch(state_dir: Path) -> datetime:
    """When this installation's replay site started (KST), fixed on first use.

    Anchoring the in-process site here, not at each start, keeps every post's time stable
    across runs and lets new posts appear as wall time passes, so the schedule (and the sensors
    downstream) see fresh posts under `make dev`.
    """
    path = state_dir / REPLAY_EPOCH_FILE
    try:
        return datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        start = datetime.now(KST).replace(tzinfo=None, microsecond=0)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(start.isoformat() + "\n", encoding="utf-8")
        return start


@contextmanager
def crawl_target(
    options: CrawlOptions, state_dir: Path | None = None
) -> Iterator[tuple[str, bool]]:
    """Yield `(base_url, is_replay)`: the configured site, or a replay site started for it.

    Args:
        options: the crawl options.
        state_dir: where the replay site's epoch is kept (the warehouse); None starts a site
            whose clock begins now.
    """
    if options.base_url:
        yield options.base_url, False
        return
    site = synthetic_site(
        initial_posts=options.replay_posts,
        seed=options.replay_seed,
        new_post_every_s=options.replay_new_post_every_s,
        max_posts=options.replay_max_posts,
        start=replay_epoch(state_dir) if state_dir is not None else None,
    )
    with ReplayServer(site) as server:
        yield server.base_url, True


def resolve_salt(
    options: CrawlOptions, warehouse: Path, log: Callable[[str], None] | None = None
) -> str:
    """The explicit salt, else the installation's salt file outside the warehouse (`salt.py`)."""
    return author_salt(warehouse, explicit=options.author_salt, log=log)


def run_crawl(
    options: CrawlOptions,
    sink: CrawlSink,
    *,
    salt: str,
    state_dir: Path | None = None,
    run_id: str | None = None,
    log: Callable[[str], None] | None = None,
    archive: Path | None = None,
) -> CrawlReport:
    """Crawl the configured site (or the replay site, its epoch kept in `state_dir`)."""
    with crawl_target(options, state_dir) as (base_url, replay):
        settings = CrawlSettings(
            base_url=base_url,
            boards=options.board_specs(),
            author_salt=salt,
            max_pages=options.max_pages,
            page_budget=options.page_budget,
            batch_size=options.batch_size,
            comments=options.comments,
            parse_retries=options.parse_retries,
            failure_retry_limit=options.failure_retry_limit,
            retry_failed_only=options.retry_failed_only,
        )
        if run_id:
            settings = replace(settings, run_id=run_id)
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
    salt = resolve_salt(options, lakehouse.root, log)
    with lakehouse.session() as session:
        sink = LakehouseSink(session, lakehouse.root)
        return run_crawl(
            options,
            sink,
            salt=salt,
            state_dir=lakehouse.root,
            run_id=run_id,
            log=log,
            archive=archive,
        )


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
    salt = resolve_salt(options, warehouse, log)
    os.makedirs(output.parent, exist_ok=True)
    sink = JsonlSink(output)
    return run_crawl(
        options, sink, salt=salt, state_dir=warehouse, run_id=run_id, log=log, archive=archive
    )
