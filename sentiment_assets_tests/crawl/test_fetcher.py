"""The polite client against a real HTTP server on 127.0.0.1: retries, timeouts, robots, delay."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from sentiment_assets.lib.crawl.fetcher import (
    PRODUCT_TOKEN,
    FetchError,
    PoliteClient,
    RobotsDisallowed,
    retry_after_seconds,
)
from sentiment_assets.lib.crawl.replay.server import ReplayRequest, ReplayResponse, ReplayServer
from sentiment_assets.lib.crawl.replay.sources import SyntheticSite
from sentiment_assets.lib.crawl.urls import article_url, list_url
from sentiment_assets_tests.crawl.conftest import FAST, Faults


def _first_post_url(server: ReplayServer, site: SyntheticSite) -> tuple[str, str]:
    post = site.visible(2294)[0]
    return article_url(server.base_url, 2294, post.post_id), f"/board/maple/2294/{post.post_id}"


def _fail_first(path: str, times: int, answer: ReplayResponse):
    def rule(request: ReplayRequest) -> ReplayResponse | None:
        return answer if request.path == path and request.seen <= times else None

    return rule


def test_500_is_retried_then_succeeds(server: ReplayServer, site: SyntheticSite, faults: Faults):
    url, path = _first_post_url(server, site)
    faults.add(_fail_first(path, 1, ReplayResponse(500, b"oops")))
    with PoliteClient(FAST) as client:
        page = client.get(url)
    assert page.status == 200 and page.attempts == 2
    assert [r.status for r in server.served_matching(path)] == [500, 200]


def test_persistent_503_fails_as_retryable_with_the_body(
    server: ReplayServer, site: SyntheticSite, faults: Faults
):
    url, path = _first_post_url(server, site)
    faults.add(_fail_first(path, 99, ReplayResponse(503, b"<html>busy</html>")))
    with PoliteClient(FAST) as client, pytest.raises(FetchError) as info:
        client.get(url)
    assert info.value.retryable and info.value.status == 503
    assert info.value.content == b"<html>busy</html>"
    assert len(server.served_matching(path)) == FAST.max_retries + 1
    assert "after 3 attempts" in str(info.value)


def test_timeout_is_retried(server: ReplayServer, site: SyntheticSite, faults: Faults):
    url, path = _first_post_url(server, site)
    faults.add(_fail_first(path, 1, ReplayResponse(200, b"late", delay_s=1.5)))
    with PoliteClient(replace(FAST, timeout_s=0.3)) as client:
        page = client.get(url)
    assert page.attempts == 2 and "articleTitle" in page.text


def test_body_cut_short_on_the_wire_is_retried(
    server: ReplayServer, site: SyntheticSite, faults: Faults
):
    url, path = _first_post_url(server, site)
    full = site.article(2294, site.visible(2294)[0].post_id)
    assert full is not None
    faults.add(_fail_first(path, 1, ReplayResponse(200, full.body, truncate_to=200)))
    with PoliteClient(FAST) as client:
        page = client.get(url)
    assert page.attempts == 2 and page.content == full.body


def test_429_waits_for_retry_after(server: ReplayServer, site: SyntheticSite, faults: Faults):
    url, path = _first_post_url(server, site)
    answer = ReplayResponse(429, b"slow down", headers={"Retry-After": "1"})
    faults.add(_fail_first(path, 1, answer))
    with PoliteClient(FAST) as client:
        client.get(url)
    first, second = server.served_matching(path)
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0


def test_retry_after_beyond_the_limit_fails_now(
    server: ReplayServer, site: SyntheticSite, faults: Faults
):
    url, path = _first_post_url(server, site)
    faults.add(_fail_first(path, 9, ReplayResponse(429, b"", headers={"Retry-After": "3600"})))
    with PoliteClient(FAST) as client, pytest.raises(FetchError, match="over the 300 s limit"):
        client.get(url)
    assert len(server.served_matching(path)) == 1


def test_retry_after_parses_seconds_and_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(later, now=now) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_404_is_not_retried(server: ReplayServer):
    with PoliteClient(FAST) as client, pytest.raises(FetchError) as info:
        client.get(article_url(server.base_url, 2294, 1))
    assert info.value.status == 404 and not info.value.retryable
    assert len(server.served_matching("/board/maple/2294/1")) == 1


def test_delay_between_requests_holds_and_user_agent_identifies_us(server: ReplayServer):
    with PoliteClient(replace(FAST, delay_s=0.2)) as client:
        for page in range(1, 5):
            client.get(list_url(server.base_url, 2294, page))
    served = server.served_matching("/board/maple/2294")
    gaps = [b.at - a.at for a, b in itertools.pairwise(served)]
    assert len(gaps) == 3 and min(gaps) >= 0.2
    assert all(r.user_agent.startswith(PRODUCT_TOKEN) for r in server.served)


def test_robots_disallow_sends_nothing(server: ReplayServer, site: SyntheticSite):
    site.robots_txt = "User-agent: *\nDisallow: /board/maple/2295\n"
    with PoliteClient(FAST) as client:
        with pytest.raises(RobotsDisallowed, match=r"disallowed by robots\.txt"):
            client.get(list_url(server.base_url, 2295, 1))
        client.get(list_url(server.base_url, 2294, 1))
    assert server.served[0].target == "/robots.txt"
    assert server.served_matching("/board/maple/2295") == []


def test_robots_crawl_delay_raises_the_delay(server: ReplayServer, site: SyntheticSite):
    site.robots_txt = "User-agent: *\nCrawl-delay: 0.3\n"
    with PoliteClient(FAST) as client:
        client.get(list_url(server.base_url, 2294, 1))
        client.get(list_url(server.base_url, 2294, 2))
    first, second = server.served_matching("/board/maple/2294")
    assert second.at - first.at >= 0.3


def test_missing_robots_allows_and_broken_robots_forbids(
    server: ReplayServer, site: SyntheticSite, faults: Faults
):
    site.robots_txt = None  # 404
    with PoliteClient(FAST) as client:
        assert client.get(list_url(server.base_url, 2294, 1)).status == 200
    faults.add(lambda r: ReplayResponse(500, b"") if r.path == "/robots.txt" else None)
    with PoliteClient(FAST) as client, pytest.raises(RobotsDisallowed, match="unreachable"):
        client.get(list_url(server.base_url, 2294, 1))


def _redirect(to: str) -> ReplayResponse:
    return ReplayResponse(302, b"", headers={"Location": to})


def test_redirects_are_followed_through_the_delay_gate(
    server: ReplayServer, site: SyntheticSite, faults: Faults
):
    post = site.visible(2294)[0].post_id
    old = f"/board/powerbbs.php?come_idx=2294&l={post}"
    new = f"/board/maple/2294/{post}"
    faults.add(lambda r: _redirect(new) if r.path == "/board/powerbbs.php" else None)
    with PoliteClient(replace(FAST, delay_s=0.2)) as client:
        page = client.get(server.base_url + old)
    assert page.url.endswith(f"/board/maple/2294/{post}") and "articleTitle" in page.text
    hop, landing = server.served[-2:]
    assert hop.status == 302 and landing.at - hop.at >= 0.2


def test_redirect_loops_and_redirects_into_disallowed_paths_fail(
    server: ReplayServer, site: SyntheticSite, faults: Faults
):
    site.robots_txt = "User-agent: *\nDisallow: /staff/\n"
    faults.add(lambda r: _redirect("/loop") if r.path == "/loop" else None)
    faults.add(lambda r: _redirect("/staff/secret") if r.path == "/moved" else None)
    with PoliteClient(FAST) as client:
        with pytest.raises(FetchError, match="more than 5 redirects"):
            client.get(server.base_url + "/loop")
        with pytest.raises(RobotsDisallowed):
            client.get(server.base_url + "/moved")
    assert len(server.served_matching("/loop")) == 6
    assert server.served_matching("/staff") == []


def test_robots_txt_behind_a_redirect_is_read(server: ReplayServer, faults: Faults):
    faults.add(lambda r: _redirect("/real-robots.txt") if r.path == "/robots.txt" else None)
    faults.add(
        lambda r: (
            ReplayResponse(200, b"User-agent: *\nDisallow: /board/maple/2295\n", "text/plain")
            if r.path == "/real-robots.txt"
            else None
        )
    )
    with PoliteClient(FAST) as client:
        assert not client.allowed(list_url(server.base_url, 2295, 1))
        assert client.allowed(list_url(server.base_url, 2294, 1))
