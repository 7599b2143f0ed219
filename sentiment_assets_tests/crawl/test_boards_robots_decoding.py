"""Pure helpers: the job table, robots.txt matching, page decoding, hashes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sentiment_assets.lib.crawl.boards import (
    JOB_GROUPS,
    job_for,
    job_group_of,
    parse_board_specs,
)
from sentiment_assets.lib.crawl.decoding import decode_page
from sentiment_assets.lib.crawl.hashing import author_hash, content_hash, load_or_create_salt
from sentiment_assets.lib.crawl.robots import RobotsRules


@pytest.mark.parametrize(
    ("category", "job"),
    [
        ("비숍", "비숍"),
        ("[비숍]", "비숍"),
        (" [ 히어로 ] ", "히어로"),
        ("불독", "아크메이지(불,독)"),
        ("아크메이지 (썬, 콜)", "아크메이지(썬,콜)"),
        ("괴도팬텀", "팬텀"),
        ("캐논마스터", "캐논슈터"),
        ("듀블", "듀얼블레이드"),
        ("공통", None),
        ("질문", None),
        ("", None),
        (None, None),
    ],
)
def test_category_maps_to_job_or_none(category: str | None, job: str | None) -> None:
    assert job_for(category) == job


def test_every_listed_job_maps_to_itself_and_xenon_is_in_two_groups() -> None:
    for jobs in JOB_GROUPS.values():
        for job in jobs:
            assert job_for(job) == job
    assert job_group_of("제논") == ("도적", "해적")
    assert job_group_of("비숍") == ("마법사",)


def test_board_specs_parse_views_and_reject_typos() -> None:
    specs = parse_board_specs("2294, 5974,5974:chu,2294")
    assert [s.key for s in specs] == ["2294", "5974", "5974:chu"]
    assert specs[0].board.job_group == "전사" and specs[1].board.job_group is None
    with pytest.raises(ValueError, match="unknown board '2999'"):
        parse_board_specs("2294,2999")
    with pytest.raises(ValueError, match="unknown view"):
        parse_board_specs("5974:best")
    with pytest.raises(ValueError, match="no boards"):
        parse_board_specs(" , ")


ROBOTS = """
# comment
User-agent: Googlebot
Disallow: /

User-agent: *
Disallow: /board/*/prevnext.php
Disallow: /*?*iskin=
Disallow: /board/maple/2296/*5$
Allow: /board/maple/2296/1005$
Disallow: /staff
Allow: /staff/public
Disallow: /*category=%EB%B9%84%EC%88%8D
Crawl-delay: 2
"""


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/board/maple/2294?p=1", True),
        ("/board/maple/2294/prevnext.php?l=3", False),  # wildcard in the middle
        ("/board/maple/2294/123?iskin=old", False),  # wildcard before the query
        ("/board/maple/2294/123?p=1", True),
        ("/board/maple/2296/10015", False),  # `$` anchors the end
        ("/board/maple/2296/10015?p=2", True),  # ...so a query string escapes it
        ("/board/maple/2296/1005", True),  # longer Allow beats the shorter Disallow
        ("/staff/x", False),
        ("/staff/public/y", True),
        ("/board/maple/2295?category=비숍", False),  # Korean matches percent-encoded rules
        ("/robots.txt", True),
    ],
)
def test_robots_wildcards_and_longest_match(path: str, allowed: bool) -> None:
    rules = RobotsRules.parse(ROBOTS, "maple-sentiment")
    assert rules.allowed("http://127.0.0.1:8000" + path) is allowed
    assert rules.crawl_delay == 2.0


def test_robots_picks_the_named_group_and_breaks_ties_for_allow() -> None:
    text = "User-agent: maple-sentiment\nDisallow: /a\nAllow: /a\n\nUser-agent: *\nDisallow: /"
    rules = RobotsRules.parse(text, "maple-sentiment/0.1 (research)")
    assert rules.allowed("/a/b") and rules.allowed("/zzz")
    assert not RobotsRules.parse(text, "otherbot").allowed("/zzz")
    assert RobotsRules.parse("User-agent: *\nDisallow:\n", "x").allowed("/anything")
    assert not RobotsRules.disallow_all("HTTP 503").allowed("/anything")
    assert RobotsRules.allow_all().allowed("/anything")


def test_stdlib_robotparser_gets_this_file_wrong() -> None:
    # Why we keep our own matcher: the stdlib ignores the `*` rule and allows the URL.
    from urllib.robotparser import RobotFileParser

    parser = RobotFileParser()
    parser.parse(ROBOTS.splitlines())
    url = "http://h/board/maple/2294/prevnext.php?l=3"
    assert parser.can_fetch("maple-sentiment", url) is True
    assert RobotsRules.parse(ROBOTS, "maple-sentiment").allowed(url) is False


KOREAN = "메이플 인벤 자유게시판 똠방각하 믜"  # 똠 and 믜 exist only in CP949, not EUC-KR


@pytest.mark.parametrize(
    ("content", "content_type", "codec"),
    [
        (KOREAN.encode("cp949"), "text/html; charset=EUC-KR", "cp949"),
        (KOREAN.encode("cp949"), "text/html; charset=ks_c_5601-1987", "cp949"),
        (f'<meta charset="euc-kr">{KOREAN}'.encode("cp949"), "text/html", "cp949"),
        (
            f'<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">{KOREAN}'.encode(
                "cp949"
            ),
            None,
            "cp949",
        ),
        (KOREAN.encode("cp949"), None, "cp949"),  # undeclared: UTF-8 fails, CP949 works
        (KOREAN.encode("utf-8"), None, "utf-8"),
        (KOREAN.encode("utf-8"), "text/html; charset=euc-kr", "utf-8"),  # lying header
        (b"\xef\xbb\xbf" + KOREAN.encode("utf-8"), None, "utf-8"),
    ],
)
def test_decode_page_handles_korean_encodings(
    content: bytes, content_type: str | None, codec: str
) -> None:
    text, used = decode_page(content, content_type)
    assert KOREAN in text
    assert used == codec


def test_undecodable_bytes_are_replaced_and_flagged() -> None:
    text, used = decode_page(b"abc \xff\xff\xff def", "text/html; charset=utf-8")
    assert used == "utf-8+replace" and "abc" in text and "\ufffd" in text


def test_author_hash_is_salted_stable_and_hides_the_name(tmp_path: Path) -> None:
    assert author_hash("단풍잎러버", "s1") == author_hash(" 단풍잎러버 ", "s1")
    assert author_hash("단풍잎러버", "s1") != author_hash("단풍잎러버", "s2")
    assert "단풍" not in (author_hash("단풍잎러버", "s1") or "")
    assert author_hash("", "s1") is None and author_hash(None, "s1") is None
    assert content_hash("t", "b") != content_hash("t", "b ")
    salt_file = tmp_path / "w" / ".salt"
    first = load_or_create_salt(salt_file)
    assert len(first) == 64 and load_or_create_salt(salt_file) == first
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
