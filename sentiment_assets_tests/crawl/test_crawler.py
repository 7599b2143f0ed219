"""The crawler against a real replay server: completeness, increments and every failure mode."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sentiment_assets.lib.crawl.boards import job_for
from sentiment_assets.lib.crawl.crawler import CrawlReport
from sentiment_assets.lib.crawl.hashing import author_hash, content_hash
from sentiment_assets.lib.crawl.records import RAW_POSTS_COLUMNS, to_json_record, utc_now
from sentiment_assets.lib.crawl.replay.server import ReplayRequest, ReplayResponse, ReplayServer
from sentiment_assets.lib.crawl.replay.sources import SyntheticSite
from sentiment_assets.lib.crawl.sinks import JsonlSink
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets_tests.crawl.conftest import (
    FAST,
    SALT,
    Faults,
    crawl_jsonl,
    crawl_lake,
    lake_rows,
    make_site,
)


class Store:
    """A JSON Lines sink in a temp folder: the same crawler code path, without lake latency."""

    def __init__(self, root: Path):
        self.root = root
        self.output = root / "posts.jsonl"

    def crawl(self, server: ReplayServer, boards: str = "2294", **kw: Any) -> CrawlReport:
        return crawl_jsonl(server, self.output, boards, **kw)

    def _lines(self, path: Path) -> list[dict]:
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def stored(self) -> list[tuple[int, int]]:
        return sorted((r["board_id"], r["post_id"]) for r in self._lines(self.output))

    def errors(self) -> list[dict]:
        return self._lines(self.root / "posts.errors.jsonl")

    def failures(self) -> list[dict]:
        """The newest crawl_failures row per page, as the sink reads them."""
        rows = JsonlSink(self.output).failures()
        return [to_json_record(r) for r in rows]

    def posts(self) -> list[dict]:
        return self._lines(self.output)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "crawl")


def _expected(site: SyntheticSite, *boards: int) -> set[tuple[int, int]]:
    return {(b, p.post_id) for b in boards for p in site.visible(b)}


def _stored(lakehouse: Lakehouse) -> list[tuple[int, int]]:
    return sorted(lake_rows(lakehouse, "select board_id, post_id from lake.raw_posts"))


def _errors(lakehouse: Lakehouse) -> list[dict]:
    with lakehouse.session() as session:
        return session.query("select * from lake.crawl_errors order by occurred_at").to_dict(
            "records"
        )


def _article_requests(server: ReplayServer, board: int, since: int = 0) -> list[int]:
    pattern = re.compile(rf"^/board/maple/{board}/(\d+)$")
    return [
        int(m.group(1)) for r in server.served[since:] if (m := pattern.match(r.target)) is not None
    ]


def test_crawl_stores_every_post_once_with_the_contract_columns(
    server: ReplayServer, site: SyntheticSite, lakehouse: Lakehouse
) -> None:
    report = crawl_lake(server, lakehouse, "2294,5974")
    expected = _expected(site, 2294, 5974)
    assert _stored(lakehouse) == sorted(expected)
    assert report.new_posts == len(expected) and report.errors == 0
    assert {b.stop for b in report.boards} == {"end_of_list"}
    with lakehouse.session() as session:
        types = dict(
            session.con.execute(
                "select column_name, data_type from duckdb_columns() "
                "where database_name = 'lake' and table_name = 'raw_posts'"
            ).fetchall()
        )
        post = site.visible(2294)[3]
        row = session.query(
            "select * from lake.raw_posts where board_id = 2294 and post_id = ?", [post.post_id]
        ).to_dict("records")[0]
        free = session.query(
            "select distinct job_group, job from lake.raw_posts where board_id = 5974"
        )
        cursors = session.query("select * from lake.crawl_cursors order by board_key")
    assert types == {k: v.upper() for k, v in RAW_POSTS_COLUMNS.items()}
    assert row["board_name"] == "전사 직업게시판" and row["job_group"] == "전사"
    assert row["category"] == post.category and row["job"] == job_for(post.category)
    assert row["title"] == post.title and row["body"] == "\n".join(post.paragraphs)
    assert row["posted_at"] == post.posted_at - timedelta(hours=9)  # KST -> UTC
    assert (row["views"], row["recommends"]) == (post.views, post.recommends)
    assert row["author_hash"] == author_hash(post.author, SALT)
    assert row["content_hash"] == content_hash(post.title, row["body"])
    assert row["url"] == f"{server.base_url}/board/maple/2294/{post.post_id}"
    assert abs((utc_now() - row["crawled_at"].to_pydatetime()).total_seconds()) < 120
    assert bool(free["job_group"].isna().all()) and bool(free["job"].isna().all())
    assert cursors["high_water_post_id"].tolist() == [
        max(p.post_id for p in site.visible(b)) for b in (2294, 5974)
    ]


def test_reruns_walk_each_stretch_twice_and_fetch_only_new_posts(
    server: ReplayServer, site: SyntheticSite, store: Store
) -> None:
    store.crawl(server, "2294,5974")
    before = _expected(site, 2294, 5974)
    mark = len(server.served)
    second = store.crawl(server, "2294,5974")  # the confirming walk: list pages only
    assert second.new_posts == 0 and _article_requests(server, 2294, mark) == []
    assert [b.stop for b in second.boards] == ["end_of_list", "end_of_list"]
    third = store.crawl(server, "2294,5974")  # now it stops at the first page
    assert [(b.list_pages, b.article_pages, b.stop) for b in third.boards] == [
        (1, 0, "reached_cursor")
    ] * 2
    site.clock.advance(60 * 30)  # thirty more posts across the site
    fresh = _expected(site, 2294, 5974) - before
    assert fresh
    mark = len(server.served)
    later = store.crawl(server, "2294,5974")
    assert later.new_posts == len(fresh)
    fetched = {(b, p) for b in (2294, 5974) for p in _article_requests(server, b, mark)}
    assert fetched == fresh
    assert store.stored() == sorted(before | fresh)


def test_same_post_on_two_list_pages_is_stored_once(
    server: ReplayServer, site: SyntheticSite, faults: Faults, store: Store
) -> None:
    def publish_before_page_two(request: ReplayRequest) -> None:
        is_page_two = request.path == "/board/maple/2294" and request.query.get("p") == "2"
        if is_page_two and request.seen == 1:
            site.clock.advance(60 * 25)  # new posts push page 1's tail onto page 2

    faults.add(lambda r: publish_before_page_two(r))
    before = _expected(site, 2294)
    report = store.crawl(server, "2294")
    assert report.boards[0].repeated_rows >= 1
    stored = store.stored()
    assert len(stored) == len(set(stored)) and set(stored) == before
    requested = _article_requests(server, 2294)
    assert len(requested) == len(set(requested))  # no article fetched twice
    store.crawl(server, "2294")  # the posts published mid-crawl come next time
    assert set(store.stored()) == _expected(site, 2294)


def test_post_deleted_between_list_and_fetch_is_recorded_and_nothing_is_lost(
    server: ReplayServer, site: SyntheticSite, faults: Faults, lakehouse: Lakehouse
) -> None:
    victim = site.visible(2294)[2].post_id

    def delete_on_fetch(request: ReplayRequest) -> None:
        if request.path == f"/board/maple/2294/{victim}":
            site.delete(2294, victim)

    faults.add(lambda r: delete_on_fetch(r))
    expected = _expected(site, 2294) - {(2294, victim)}
    report = crawl_lake(server, lakehouse, "2294")
    assert report.errors == 1
    (error,) = _errors(lakehouse)
    assert error["page_kind"] == "article" and error["http_status"] == 404
    assert "deleted" in error["error"] and error["url"].endswith(f"/{victim}")
    assert error["board_id"] == 2294 and error["occurred_at"] is not None
    assert (lakehouse.root / error["saved_path"]).is_file()
    # The deletion pulled page 2's first post onto page 1 after page 1 was read; the
    # confirming walk of the next run finds it.
    crawl_lake(server, lakehouse, "2294")
    assert set(_stored(lakehouse)) == expected


def test_broken_articles_are_refetched_then_recorded_as_failures_and_stored_later(
    server: ReplayServer, site: SyntheticSite, faults: Faults, store: Store
) -> None:
    posts = site.visible(2294)
    no_body, cut, garbage = posts[1].post_id, posts[4].post_id, posts[6].post_id
    broken_now = {"on": True}

    def broken(request: ReplayRequest) -> ReplayResponse | None:
        ids = re.match(r"^/board/maple/2294/(\d+)$", request.path)
        if not broken_now["on"] or not ids or int(ids.group(1)) not in (no_body, cut, garbage):
            return None
        post_id = int(ids.group(1))
        page = site.article(2294, post_id)
        assert page is not None
        html = page.body.decode()
        if post_id == no_body:
            html = re.sub(r'<div id="powerbbsContent">.*?</div></div>', "</div>", html)
        elif post_id == cut:
            html = html[: len(html) // 2]
        else:
            html = "<html><body><p>점검 중입니다 <b>잠시만</p></i></body></html>"
        return ReplayResponse(200, html.encode())

    faults.add(broken)
    report = store.crawl(server, "2294")
    assert report.errors == 3 and report.boards[0].failed_posts == 3
    broken_ids = {(2294, no_body), (2294, cut), (2294, garbage)}
    assert set(store.stored()) == _expected(site, 2294) - broken_ids
    for post_id in (no_body, cut, garbage):  # the first fetch and two refetches
        assert len(server.served_matching(f"/board/maple/2294/{post_id}")) == 3
    by_url = {e["url"].rsplit("/", 1)[1]: e for e in store.errors()}
    assert "no body" in by_url[str(no_body)]["error"]
    assert "truncated" in by_url[str(cut)]["error"]
    assert "no title" in by_url[str(garbage)]["error"]
    for error in by_url.values():
        assert error["page_kind"] == "article" and error["retryable"]
        assert "after 3 fetches" in error["error"]
        assert (store.root / error["saved_path"]).read_bytes().startswith(b"<")
    failures = {f["post_id"]: f for f in store.failures()}
    assert set(failures) == {no_body, cut, garbage}
    assert {(f["state"], f["attempts"]) for f in failures.values()} == {("open", 1)}
    assert "truncated" in failures[cut]["error"]
    # Recorded as failed, so the cursor may pass them; the next run fetches them by their rows.
    assert report.boards[0].cursor_after == max(p.post_id for p in posts)
    assert all(p["body"] for p in store.posts())  # never a silently empty post
    broken_now["on"] = False
    again = store.crawl(server, "2294")
    assert again.new_posts == 3 and again.boards[0].recovered == 3
    assert set(store.stored()) == _expected(site, 2294)
    assert {f["state"] for f in store.failures()} == {"resolved"}


def test_page_cut_short_once_is_refetched_in_the_same_run(
    server: ReplayServer, site: SyntheticSite, faults: Faults, store: Store
) -> None:
    flaky = site.visible(2294)[2].post_id
    page = site.article(2294, flaky)
    assert page is not None

    def cut_once(request: ReplayRequest) -> ReplayResponse | None:
        if request.path == f"/board/maple/2294/{flaky}" and request.seen == 1:
            return ReplayResponse(200, page.body[: len(page.body) // 3])
        return None

    faults.add(cut_once)
    report = store.crawl(server, "2294")
    assert report.errors == 0 and report.boards[0].failed_posts == 0
    assert set(store.stored()) == _expected(site, 2294) and not store.failures()
    assert len(server.served_matching(f"/board/maple/2294/{flaky}")) == 2


def test_failed_article_is_recorded_and_fetched_next_run_from_its_row(
    server: ReplayServer, site: SyntheticSite, faults: Faults, store: Store
) -> None:
    store.crawl(server, "2294")
    store.crawl(server, "2294")  # cursor now stops at the first page
    site.clock.advance(60 * 60)
    fresh = sorted(_expected(site, 2294) - set(store.stored()))
    assert len(fresh) >= 2
    flaky = fresh[0][1]
    down = {"on": True}
    faults.add(
        lambda r: (
            ReplayResponse(500, b"<html>db error</html>")
            if down["on"] and r.path == f"/board/maple/2294/{flaky}"
            else None
        )
    )
    first = store.crawl(server, "2294")
    (error,) = store.errors()
    assert error["http_status"] == 500 and error["retryable"]
    assert (store.root / error["saved_path"]).read_bytes() == b"<html>db error</html>"
    (failure,) = store.failures()
    assert (failure["post_id"], failure["state"], failure["http_status"]) == (flaky, "open", 500)
    assert first.boards[0].cursor_after == max(p for _, p in fresh)
    down["on"] = False
    mark = len(server.served)
    second = store.crawl(server, "2294")
    assert second.new_posts == 1 and set(store.stored()) == _expected(site, 2294)
    assert _article_requests(server, 2294, mark) == [flaky]  # by its row, no list walk needed
    assert [f["state"] for f in store.failures()] == ["resolved"]


def test_a_post_that_keeps_failing_is_tried_up_to_the_limit_then_waits_for_retry_failed(
    server: ReplayServer, site: SyntheticSite, faults: Faults, store: Store
) -> None:
    bad = site.visible(2294)[0].post_id
    down = {"on": True}
    faults.add(
        lambda r: (
            ReplayResponse(503, b"<html>busy</html>")
            if down["on"] and r.path == f"/board/maple/2294/{bad}"
            else None
        )
    )
    for _ in range(4):
        store.crawl(server, "2294", failure_retry_limit=3)
    (failure,) = store.failures()
    assert (failure["state"], failure["attempts"]) == ("gave_up", 3)
    fetches = len(server.served_matching(f"/board/maple/2294/{bad}"))
    assert fetches == 3 * (FAST.max_retries + 1), "the fourth run left it alone"
    down["on"] = False
    report = store.crawl(server, "2294", failure_retry_limit=3, retry_failed_only=True)
    assert report.new_posts == 1 and report.boards[0].stop == "retried_failures"
    assert set(store.stored()) == _expected(site, 2294)
    assert store.failures()[0]["state"] == "resolved"


def test_a_post_answering_404_gets_a_final_row_that_only_retry_failed_revisits(
    server: ReplayServer, site: SyntheticSite, faults: Faults, store: Store
) -> None:
    gone = site.visible(2294)[1].post_id
    path = f"/board/maple/2294/{gone}"
    faults.add(lambda r: ReplayResponse(404, b"<html>gone</html>") if r.path == path else None)
    store.crawl(server, "2294")
    (failure,) = store.failures()
    assert (failure["state"], failure["http_status"]) == ("final", 404)
    site.clock.advance(60 * 60)
    store.crawl(server, "2294")
    assert len(server.served_matching(path)) == 1, "a 404 is not asked again every run"
    store.crawl(server, "2294", retry_failed_only=True)
    assert len(server.served_matching(path)) == 2
    assert (store.failures()[0]["state"], store.failures()[0]["attempts"]) == ("final", 2)


def test_timeouts_and_429_in_a_crawl_cost_time_not_posts(
    server: ReplayServer, site: SyntheticSite, faults: Faults, store: Store
) -> None:
    slow = site.visible(2294)[0].post_id
    faults.add(
        lambda r: (
            ReplayResponse(429, b"", headers={"Retry-After": "1"})
            if r.path == "/board/maple/2294" and r.seen == 1
            else None
        )
    )
    faults.add(
        lambda r: (
            ReplayResponse(200, b"", delay_s=1.0)
            if r.path == f"/board/maple/2294/{slow}" and r.seen == 1
            else None
        )
    )
    report = store.crawl(server, "2294", politeness=replace(FAST, timeout_s=0.3))
    assert report.errors == 0 and set(store.stored()) == _expected(site, 2294)
    assert len(server.served_matching(f"/board/maple/2294/{slow}")) == 2


def test_unreadable_list_page_stops_the_board_and_the_next_run_resumes(
    server: ReplayServer, site: SyntheticSite, faults: Faults, store: Store
) -> None:
    maintenance = {"on": True}
    faults.add(
        lambda r: (
            ReplayResponse(200, b"<html><body>maintenance</body></html>")
            if maintenance["on"] and r.path == "/board/maple/5974" and r.query.get("p") == "2"
            else None
        )
    )
    first = store.crawl(server, "5974")
    assert first.boards[0].stop == "list_error" and first.boards[0].cursor_after is None
    assert len(server.served_matching("/board/maple/5974?p=2")) == 3  # fetch + 2 refetches
    (error,) = store.errors()
    assert error["page_kind"] == "list" and "no board list table" in error["error"]
    assert (store.root / error["saved_path"]).read_bytes() == (
        b"<html><body>maintenance</body></html>"
    )
    assert len(store.stored()) == 10  # page 1 was committed
    maintenance["on"] = False
    second = store.crawl(server, "5974")
    assert second.boards[0].stop == "end_of_list"
    assert second.boards[0].already_stored == 10
    assert store.stored() == sorted(_expected(site, 5974))


def test_euc_kr_board_is_decoded(store: Store) -> None:
    site = make_site(encodings={2297: "euc-kr"})
    raw = site.list_page(2297, 1, None)
    assert raw is not None and "charset" not in raw.content_type
    with pytest.raises(UnicodeDecodeError):
        raw.body.decode("utf-8")
    with ReplayServer(site) as server:
        store.crawl(server, "2297")
    stored = {p["post_id"]: (p["title"], p["body"]) for p in store.posts()}
    assert stored == {p.post_id: (p.title, "\n".join(p.paragraphs)) for p in site.visible(2297)}


def test_robots_disallow_is_honoured_and_recorded(
    server: ReplayServer, site: SyntheticSite, store: Store
) -> None:
    site.robots_txt = (
        "User-agent: *\nDisallow: /board/maple/2294/*3$\nDisallow: /board/maple/2296\n"
    )
    report = store.crawl(server, "2294,2296")
    blocked = {(2294, p.post_id) for p in site.visible(2294) if str(p.post_id).endswith("3")}
    assert blocked
    assert set(store.stored()) == _expected(site, 2294) - blocked
    assert not any(r.target.startswith("/board/maple/2296") for r in server.served)
    assert not {p for _, p in blocked} & set(_article_requests(server, 2294))
    errors = store.errors()
    assert len(errors) == len(blocked) + 1
    assert all("disallowed by robots.txt" in e["error"] for e in errors)
    assert report.boards[1].stop == "list_error"


def test_page_budget_stops_early_and_the_next_run_finishes(
    server: ReplayServer, site: SyntheticSite, store: Store
) -> None:
    first = store.crawl(server, "2294", page_budget=6)
    assert first.boards[0].stop == "budget" and first.boards[0].cursor_after is None
    assert first.pages == 6 and first.new_posts == 5
    mark = len(server.served)
    store.crawl(server, "2294")
    assert len(_article_requests(server, 2294, mark)) == len(_expected(site, 2294)) - 5
    assert store.stored() == sorted(_expected(site, 2294))


def test_budget_is_shared_fairly_between_boards(
    server: ReplayServer, site: SyntheticSite, store: Store
) -> None:
    report = store.crawl(server, "5974,2294", page_budget=20)
    assert [b.list_pages + b.article_pages for b in report.boards] == [10, 10]


def test_recommended_view_adds_no_duplicates(
    server: ReplayServer, site: SyntheticSite, store: Store
) -> None:
    report = store.crawl(server, "5974:chu,5974")
    chu = {p.post_id for p in site.visible(5974, "chu")}
    assert chu and report.boards[0].new_posts == len(chu)
    assert report.boards[1].already_stored == len(chu)
    assert server.served_matching("my=chu")
    stored = store.stored()
    assert len(stored) == len(set(stored)) == len(site.visible(5974))


def test_comments_are_stored_once(
    server: ReplayServer, site: SyntheticSite, lakehouse: Lakehouse
) -> None:
    crawl_lake(server, lakehouse, "2294", comments=True)
    site.clock.advance(60 * 20)
    crawl_lake(server, lakehouse, "2294", comments=True)
    expected = sorted((p.post_id, c.comment_id) for p in site.visible(2294) for c in p.comments)
    got = lake_rows(lakehouse, "select post_id, comment_id from lake.raw_comments order by 1, 2")
    assert got == expected and expected


def test_jsonl_output_is_incremental_and_survives_a_torn_last_line(
    server: ReplayServer, site: SyntheticSite, store: Store
) -> None:
    store.crawl(server, "2294")
    lines = store.output.read_text(encoding="utf-8").splitlines()
    assert [p for _, p in store.stored()] == sorted(p.post_id for p in site.visible(2294))
    assert set(json.loads(lines[0])) == set(RAW_POSTS_COLUMNS)
    assert store.crawl(server, "2294").new_posts == 0
    # A crash while writing the last batch: half a line on disk, cursor never saved.
    text = store.output.read_text(encoding="utf-8")
    store.output.write_text(text[: len(text) - len(lines[-1]) // 2 - 1], encoding="utf-8")
    (store.root / "posts.cursors.json").unlink()
    assert store.crawl(server, "2294").new_posts == 1
    assert [p for _, p in store.stored()] == sorted(p.post_id for p in site.visible(2294))


def test_jsonl_with_a_damaged_middle_line_is_refused_untouched(tmp_path: Path) -> None:
    output = tmp_path / "posts.jsonl"
    content = '{"board_id": 1, "post_id": 1}\nnot json\n{"board_id": 1, "post_id": 2}\n'
    output.write_text(content)
    with pytest.raises(ValueError, match="line 2 is not valid JSON"):
        JsonlSink(output)
    assert output.read_text() == content


def test_a_parser_bug_on_one_page_is_recorded_not_raised(
    server: ReplayServer, site: SyntheticSite, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentiment_assets.lib.crawl import crawler, parser

    odd = site.visible(2294)[3]
    marker = f'articleDate">{odd.posted_at:%Y-%m-%d %H:%M}<'  # unique: posts are minutes apart

    def parse_with_a_bug(page: str) -> parser.Article:
        if marker in page:
            raise IndexError("list index out of range")
        return parser.parse_article(page)

    monkeypatch.setattr(crawler, "parse_article", parse_with_a_bug)
    report = store.crawl(server, "2294")
    (error,) = store.errors()
    assert error["error"] == (
        "parser failure: IndexError: list index out of range (after 3 fetches)"
    )
    assert marker.encode() in (store.root / error["saved_path"]).read_bytes()
    assert report.new_posts == len(site.visible(2294)) - 1
    assert [f["post_id"] for f in store.failures()] == [odd.post_id]


def test_failed_comments_get_a_row_and_are_fetched_again_next_run(
    server: ReplayServer, site: SyntheticSite, faults: Faults, lakehouse: Lakehouse
) -> None:
    chatty = next(p for p in site.visible(2294) if p.comments)
    down = {"on": True}
    faults.add(
        lambda r: (
            ReplayResponse(502, b"bad gateway")
            if down["on"]
            and r.method == "POST"
            and r.form.get("articlecode") == str(chatty.post_id)
            else None
        )
    )
    first = crawl_lake(server, lakehouse, "2294", comments=True)
    assert first.boards[0].failed_posts == 1
    stored = lake_rows(
        lakehouse, "select count(*) from lake.raw_comments where post_id = ?", [chatty.post_id]
    )
    assert stored == [(0,)]
    ((kind, state),) = lake_rows(lakehouse, "select page_kind, state from lake.crawl_failures")
    assert (kind, state) == ("comments", "open")
    down["on"] = False
    second = crawl_lake(server, lakehouse, "2294", comments=True)
    assert second.boards[0].recovered == 1
    got = lake_rows(
        lakehouse,
        "select comment_id from lake.raw_comments where post_id = ? order by 1",
        [chatty.post_id],
    )
    assert [c for (c,) in got] == sorted(c.comment_id for c in chatty.comments)
    states = lake_rows(lakehouse, "select state from lake.crawl_failures order by occurred_at")
    assert [s for (s,) in states] == ["open", "resolved"]
