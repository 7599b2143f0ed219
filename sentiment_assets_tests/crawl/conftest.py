"""A frozen-clock replay site on a real 127.0.0.1 port, with a hook to inject failures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from sentiment_assets.lib.crawl.boards import parse_board_specs
from sentiment_assets.lib.crawl.crawler import Crawler, CrawlReport, CrawlSettings
from sentiment_assets.lib.crawl.fetcher import PoliteClient, Politeness
from sentiment_assets.lib.crawl.replay.corpus import SiteClock, SyntheticCorpus, SyntheticPost
from sentiment_assets.lib.crawl.replay.render import ROBOTS_TXT
from sentiment_assets.lib.crawl.replay.server import ReplayRequest, ReplayResponse, ReplayServer
from sentiment_assets.lib.crawl.replay.sources import SyntheticSite
from sentiment_assets.lib.crawl.sinks import CrawlSink, JsonlSink, LakehouseSink
from sentiment_assets.lib.lakehouse import Lakehouse

START = datetime(2026, 3, 2, 21, 0)  # site time, KST
SALT = "test-salt"
FAST = Politeness(delay_s=0.0, timeout_s=2.0, max_retries=2, backoff_s=0.02, max_backoff_s=0.1)

# The crawl subcommands exactly as `sentiment` runs them, without importing every other
# subcommand: these tests are about the crawler, not the rest of the CLI (see test_cli.py).
CRAWL_CLI = (
    "import argparse, sys\n"
    "from sentiment_assets.cli import crawl\n"
    "parser = argparse.ArgumentParser(prog='sentiment')\n"
    "crawl.register(parser.add_subparsers(dest='command', required=True))\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "sys.exit(args.handler(args))\n"
)

Rule = Callable[[ReplayRequest], ReplayResponse | None]


class Faults:
    """Rules consulted in order for every request; the first that answers wins."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def add(self, rule: Rule) -> None:
        self.rules.append(rule)

    def __call__(self, request: ReplayRequest) -> ReplayResponse | None:
        for rule in self.rules:
            answer = rule(request)
            if answer is not None:
                return answer
        return None


def make_site(
    initial_posts: int = 120,
    page_size: int = 10,
    encodings: dict[int, str] | None = None,
    robots_txt: str | None = ROBOTS_TXT,
) -> SyntheticSite:
    corpus = SyntheticCorpus(start=START, initial_posts=initial_posts, new_post_every_s=60)
    # speed 0: the site's time moves only when a test advances it.
    return SyntheticSite(
        corpus,
        SiteClock(START, speed=0.0),
        page_size=page_size,
        encodings=encodings or {},
        robots_txt=robots_txt,
    )


@pytest.fixture
def site() -> SyntheticSite:
    return make_site()


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
def server(site: SyntheticSite, faults: Faults) -> Iterator[ReplayServer]:
    with ReplayServer(site, intercept=faults) as running:
        yield running


def posts_of(site: SyntheticSite, board_id: int) -> list[SyntheticPost]:
    return site.visible(board_id)


def crawl(
    server: ReplayServer,
    sink: CrawlSink,
    boards: str = "2294",
    *,
    politeness: Politeness = FAST,
    **settings: Any,
) -> CrawlReport:
    options = CrawlSettings(
        base_url=server.base_url,
        boards=tuple(parse_board_specs(boards)),
        author_salt=SALT,
        **settings,
    )
    with PoliteClient(politeness) as client:
        return Crawler(options, sink, client).run()


def crawl_lake(
    server: ReplayServer, lakehouse: Lakehouse, boards: str = "2294", **kw: Any
) -> CrawlReport:
    with lakehouse.session() as session:
        return crawl(server, LakehouseSink(session, lakehouse.root), boards, **kw)


def crawl_jsonl(server: ReplayServer, output: Path, boards: str = "2294", **kw: Any) -> CrawlReport:
    return crawl(server, JsonlSink(output), boards, **kw)


def lake_rows(lakehouse: Lakehouse, sql: str, params: list[object] | None = None) -> list[tuple]:
    with lakehouse.session() as session:
        return session.con.execute(sql, params or []).fetchall()
