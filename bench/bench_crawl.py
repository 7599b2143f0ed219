"""Crawler throughput against the replay site, and proof that the politeness delay holds.

With the delay off, one crawl of the six boards (list pages, then every article) goes into a
fresh lakehouse and one into JSON Lines: pages parsed per second and posts stored per second,
end to end over real HTTP on 127.0.0.1. The same pages are then parsed again in memory by our
parser alone. Baselines measured in the same run: a raw parsel parse of the same pages (the
selectors only, no validation or text cleanup) and a plain httpx loop fetching the same URLs (no
robots, delay, retries or storage). Then the crawl runs with the delay on, and the gaps between
requests are measured where they arrive, at the server.
"""

from __future__ import annotations

import itertools
import shutil
import statistics
import time

import httpx
from parsel import Selector

from bench.common import WORK, save
from sentiment_assets.lib.crawl.boards import parse_board_specs
from sentiment_assets.lib.crawl.crawler import Crawler, CrawlReport, CrawlSettings
from sentiment_assets.lib.crawl.decoding import decode_page
from sentiment_assets.lib.crawl.fetcher import PoliteClient, Politeness
from sentiment_assets.lib.crawl.parser import parse_article, parse_list_page
from sentiment_assets.lib.crawl.replay.server import ReplayServer, synthetic_site
from sentiment_assets.lib.crawl.sinks import CrawlSink, JsonlSink, LakehouseSink
from sentiment_assets.lib.lakehouse import Lakehouse

POSTS = 900
BOARDS = "2294,2295,2296,2297,2298,5974"
DELAY_S = 0.25
DELAY_REQUESTS = 12
PARSE_ROUNDS = 3


def _crawl(
    server: ReplayServer, sink: CrawlSink, politeness: Politeness, *, page_budget: int = 100_000
) -> CrawlReport:
    settings = CrawlSettings(
        base_url=server.base_url,
        boards=tuple(parse_board_specs(BOARDS)),
        author_salt="bench",
        max_pages=100,
        page_budget=page_budget,
        batch_size=50,
    )
    with PoliteClient(politeness) as client:
        return Crawler(settings, sink, client).run()


def _page_urls(server: ReplayServer, start: int) -> list[tuple[str, str]]:
    kinds = []
    for request in server.served[start:]:
        if request.status != 200 or request.target == "/robots.txt":
            continue
        kind = "list" if "?" in request.target else "article"
        kinds.append((kind, server.base_url + request.target))
    return kinds


def _raw_parsel(kind: str, text: str) -> int:
    """What a minimal scraper does: the selectors and nothing else."""
    sel = Selector(text=text)
    if kind == "list":
        return len(sel.css(".board-list table tbody tr td.tit a.subject-link::attr(href)").getall())
    title = sel.css("div.articleTitle h1::text").get()
    body = sel.xpath("string(//div[@id='powerbbsContent'])").get()
    hit = sel.css("div.articleHit::text").get()
    return len(title or "") + len(body or "") + len(hit or "")


def main() -> None:
    """Measure and save."""
    work = WORK / "crawl"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    site = synthetic_site(initial_posts=POSTS, page_size=25, new_post_every_s=1e9)
    off = Politeness(delay_s=0.0, timeout_s=10.0)
    with ReplayServer(site) as server:
        # Warm-up: the first request pays for connection setup and post generation.
        httpx.get(server.base_url + "/board/maple/2294?p=1")

        mark = len(server.served)
        with Lakehouse(work / "lake").session() as session:
            t0 = time.perf_counter()
            lake_report = _crawl(server, LakehouseSink(session, work / "lake"), off)
            lake_s = time.perf_counter() - t0
            stored = session.query("select count(*) as n from lake.raw_posts")["n"].iloc[0]
        assert lake_report.errors == 0 and int(stored) == lake_report.new_posts
        pages = _page_urls(server, mark)

        t0 = time.perf_counter()
        jsonl_report = _crawl(server, JsonlSink(work / "posts.jsonl"), off)
        jsonl_s = time.perf_counter() - t0
        assert jsonl_report.new_posts == lake_report.new_posts

        t0 = time.perf_counter()
        fetched: list[tuple[str, bytes, str]] = []
        with httpx.Client() as client:
            for kind, url in pages:
                response = client.get(url)
                fetched.append((kind, response.content, response.headers["content-type"]))
        plain_fetch_s = time.perf_counter() - t0

        # Delay on: a fresh sink so every request is a real page fetch.
        mark = len(server.served)
        polite = Politeness(delay_s=DELAY_S, timeout_s=10.0)
        polite_sink = JsonlSink(work / "polite" / "posts.jsonl")
        _crawl(server, polite_sink, polite, page_budget=DELAY_REQUESTS)
        arrivals = [r.at for r in server.served[mark:]]
        gaps_on = [b - a for a, b in itertools.pairwise(arrivals)]
        arrivals_off = [r.at for r in server.served if r.target != "/robots.txt"][:200]
        gaps_off = [b - a for a, b in itertools.pairwise(arrivals_off)]

    t0 = time.perf_counter()
    for _ in range(PARSE_ROUNDS):
        for kind, content, content_type in fetched:
            text, _codec = decode_page(content, content_type)
            parse_list_page(text) if kind == "list" else parse_article(text)
    ours_parse_s = (time.perf_counter() - t0) / PARSE_ROUNDS

    t0 = time.perf_counter()
    for _ in range(PARSE_ROUNDS):
        for kind, content, _content_type in fetched:
            _raw_parsel(kind, content.decode("utf-8"))
    raw_parse_s = (time.perf_counter() - t0) / PARSE_ROUNDS

    n_pages = lake_report.pages
    n_posts = lake_report.new_posts
    figures = {
        "posts": n_posts,
        "pages": n_pages,
        "crawl_lakehouse_pages_per_s": n_pages / lake_s,
        "crawl_lakehouse_posts_stored_per_s": n_posts / lake_s,
        "crawl_jsonl_pages_per_s": jsonl_report.pages / jsonl_s if jsonl_report.pages else 0.0,
        "crawl_jsonl_posts_stored_per_s": jsonl_report.new_posts / jsonl_s,
        "our_parser_pages_per_s": len(fetched) / ours_parse_s,
        "delay_off_median_gap_ms": statistics.median(gaps_off) * 1000,
        "delay_on_setting_s": DELAY_S,
        "delay_on_requests": len(arrivals),
        "delay_on_min_gap_s": min(gaps_on),
        "delay_on_median_gap_s": statistics.median(gaps_on),
        "delay_holds": min(gaps_on) >= DELAY_S,
        "parse_cost_vs_raw_parsel": ours_parse_s / raw_parse_s,
        "crawl_cost_vs_plain_fetch": lake_s / plain_fetch_s,
    }
    baseline = {
        "raw_parsel_pages_per_s": len(fetched) / raw_parse_s,
        "plain_httpx_fetch_pages_per_s": len(fetched) / plain_fetch_s,
    }
    assert figures["delay_holds"], f"politeness delay violated: min gap {min(gaps_on):.3f} s"
    save(
        "bench_crawl",
        figures,
        baseline,
        f"Crawling {n_posts} synthetic posts ({n_pages} list and article pages, six boards) from "
        "the replay site on 127.0.0.1 with the politeness delay off, into a fresh lakehouse "
        "(50-post commits) and into JSON Lines; our parser alone on the same pages; then "
        f"{DELAY_REQUESTS} requests with a {DELAY_S} s delay, gaps measured at the server. "
        "Baselines: a raw parsel parse of the same pages (selectors only) and a plain httpx "
        "loop over the same URLs (no robots, delay, retries or storage).",
    )


if __name__ == "__main__":
    main()
