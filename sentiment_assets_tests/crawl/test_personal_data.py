"""No nickname in any stored copy of a page, and no salt in the warehouse to undo the hashes."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import duckdb
import pytest

from sentiment_assets.lib.crawl.hashing import author_hash
from sentiment_assets.lib.crawl.parser import parse_article
from sentiment_assets.lib.crawl.redact import redact_page
from sentiment_assets.lib.crawl.replay.server import ReplayRequest, ReplayResponse, ReplayServer
from sentiment_assets.lib.crawl.replay.sources import SyntheticSite
from sentiment_assets.lib.crawl.run import CrawlOptions, crawl_into_lakehouse
from sentiment_assets.lib.crawl.salt import LEGACY_SALT_FILE, SaltError, author_salt
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets_tests.crawl.conftest import Faults

BOARDS = (2294, 2295)


def _people(site: SyntheticSite) -> set[str]:
    """Every nickname the site shows: post authors and commenters."""
    names = set()
    for board in BOARDS:
        for post in site.visible(board):
            names.add(post.author)
            names.update(c.author for c in post.comments)
    return names


def _break_some_pages(site: SyntheticSite, faults: Faults) -> None:
    """Pages that fail in ways that get them kept: cut short after the writer, 500 with the
    page as body, a comment answer cut mid-name; a list page answered with 503 and its HTML."""
    posts = site.visible(2294)
    cut, error_page = posts[2], posts[5]
    chatty = next(p for p in posts if p.comments)

    def rule(request: ReplayRequest) -> ReplayResponse | None:
        if request.path == f"/board/maple/2294/{cut.post_id}":
            page = site.article(2294, cut.post_id)
            assert page is not None
            end = page.body.index(b"articleDate")
            return ReplayResponse(200, page.body[:end])
        if request.path == f"/board/maple/2294/{error_page.post_id}":
            page = site.article(2294, error_page.post_id)
            assert page is not None
            return ReplayResponse(500, page.body)
        if request.method == "POST" and request.form.get("articlecode") == str(chatty.post_id):
            answer = site.comments(2294, chatty.post_id)
            assert answer is not None
            name = chatty.comments[0].author.encode("utf-8")
            end = answer.body.index(name) + len(name) - 1
            return ReplayResponse(200, answer.body[:end], "application/json")
        if request.path == "/board/maple/2295" and request.query.get("p") == "2":
            page = site.list_page(2295, 2, None)
            assert page is not None
            return ReplayResponse(503, page.body)
        return None

    faults.add(rule)


def _strings_in_parquet(path: Path) -> str:
    con = duckdb.connect()
    try:
        frame = con.execute(f"select * from read_parquet('{path}')").df()
    finally:
        con.close()
    return " ".join(str(v) for col in frame.columns for v in frame[col].tolist())


def test_the_warehouse_alone_does_not_reveal_a_nickname(
    server: ReplayServer,
    site: SyntheticSite,
    faults: Faults,
    lakehouse: Lakehouse,
    _author_salt_file: Path,
) -> None:
    _break_some_pages(site, faults)
    options = CrawlOptions(
        base_url=server.base_url,
        boards=",".join(map(str, BOARDS)),
        comments=True,
        delay_s=0.0,
        max_retries=0,
        backoff_s=0.01,
    )
    report = crawl_into_lakehouse(options, lakehouse)
    assert report.new_posts > 20 and report.errors >= 4
    kept = list((lakehouse.root / "crawl_pages").rglob("*.html"))
    assert len(kept) >= 4, "the failed pages were kept, so the check covers them"
    names = _people(site)
    assert len(names) > 10
    leaks = []
    for path in sorted(p for p in lakehouse.root.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            haystacks = [_strings_in_parquet(path)]
        else:
            raw = path.read_bytes()
            haystacks = [raw.decode("utf-8", "ignore"), raw.decode("cp949", "ignore")]
        leaks += [(path.name, n) for n in names for h in haystacks if n in h]
    assert not leaks, f"nicknames in the warehouse: {leaks[:5]}"
    # The hashes are there, and nothing in the warehouse can recompute them.
    assert not list(lakehouse.root.rglob("*salt*")), "no salt file in the warehouse"
    salt = _author_salt_file.read_text().strip()
    assert stat.S_IMODE(_author_salt_file.stat().st_mode) == 0o600
    assert lakehouse.root not in _author_salt_file.parents
    for path in lakehouse.root.rglob("*"):
        if path.is_file() and path.suffix != ".parquet":
            assert salt.encode() not in path.read_bytes(), path
    with lakehouse.session() as session:
        rows = session.con.execute("select author_hash from lake.raw_posts").fetchall()
    hashes = {h for (h,) in rows}
    expected = {author_hash(p.author, salt) for b in BOARDS for p in site.visible(b)}
    assert hashes <= expected and len(hashes) > 10
    # A kept copy still carries its author as the same hash (so replays keep linking authors).
    cut_copy = next(p for p in kept if p.name.startswith("article-2294"))
    assert re.search(rb"anon-[0-9a-f]{32}", cut_copy.read_bytes())


def test_a_redacted_article_still_parses_to_the_same_author_hash(site: SyntheticSite) -> None:
    post = site.visible(2294)[0]
    page = site.article(2294, post.post_id)
    assert page is not None
    redacted = redact_page(page.body, "article", "salt")
    assert post.author.encode() not in redacted
    parsed = parse_article(redacted.decode("utf-8"))
    assert author_hash(parsed.author, "salt") == author_hash(post.author, "salt")
    assert parsed.body == parse_article(page.body.decode("utf-8")).body


def test_user_ids_in_attributes_and_links_are_hashed() -> None:
    page = (
        '<html><body><table><tr><td class="user">'
        '<span class="layerNickName" onclick="layerNickName(\'단풍잎\', 77123)" '
        'data-uid="77123">단풍잎</span></td></tr></table>'
        '<a href="/member/profile.php?uid=77123&amp;nick=단풍잎">프로필</a>'
        "<p>단풍잎님 글 잘 봤어요</p></body></html>"
    ).encode()
    redacted = redact_page(page, "list", "salt").decode()
    assert "77123" not in redacted and "단풍잎" not in redacted
    assert "프로필" in redacted and "님 글 잘 봤어요" in redacted


def test_a_salt_kept_in_the_warehouse_moves_out_and_its_pages_are_anonymized(
    warehouse: Path, _author_salt_file: Path
) -> None:
    warehouse.mkdir(parents=True)
    (warehouse / LEGACY_SALT_FILE).write_text("old-salt\n")
    kept = warehouse / "crawl_pages" / "2026-01-01" / "article-2294-1-abc.html"
    kept.parent.mkdir(parents=True)
    kept.write_bytes('<html><div class="articleWriter"><span>주황버섯</span></div></html>'.encode())
    messages: list[str] = []
    assert author_salt(warehouse, log=messages.append) == "old-salt"
    assert not (warehouse / LEGACY_SALT_FILE).exists()
    assert _author_salt_file.read_text().strip() == "old-salt"
    assert stat.S_IMODE(_author_salt_file.stat().st_mode) == 0o600
    assert "주황버섯".encode() not in kept.read_bytes()
    assert f"anon-{author_hash('주황버섯', 'old-salt')}".encode() in kept.read_bytes()
    assert messages and "moved the author salt" in messages[0]
    assert author_salt(warehouse) == "old-salt"  # from its new place from now on


def test_two_different_salts_are_refused_with_what_to_do(
    warehouse: Path, _author_salt_file: Path
) -> None:
    warehouse.mkdir(parents=True)
    (warehouse / LEGACY_SALT_FILE).write_text("old-salt\n")
    _author_salt_file.write_text("new-salt\n")
    with pytest.raises(SaltError, match="Two author salts") as caught:
        author_salt(warehouse)
    assert "mv " in str(caught.value)
    assert (warehouse / LEGACY_SALT_FILE).exists(), "nothing is deleted when refusing"


def test_a_salt_file_inside_the_warehouse_is_refused(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTIMENT_AUTHOR_SALT_FILE", str(warehouse / "secrets" / "salt"))
    with pytest.raises(SaltError, match="inside the warehouse"):
        author_salt(warehouse)
