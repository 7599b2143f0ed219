"""Inven-shaped HTML and JSON for synthetic posts: the structure `parser.py` reads, nothing more.

Every page carries a banner saying it is synthetic, so a copy found elsewhere cannot pass for
real community text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from urllib.parse import quote

from sentiment_assets.lib.crawl.boards import BOARDS
from sentiment_assets.lib.crawl.replay.corpus import SyntheticPost

BANNER = (
    '<div class="replay-banner">maple-sentiment 리플레이 사이트: 합성 데이터로 만든 '
    "오프라인 게시판입니다. 실제 인벤 게시글이 아닙니다.</div>"
)
ROBOTS_TXT = """# maple-sentiment replay site (synthetic data)
User-agent: *
Disallow: /board/*/prevnext.php
Disallow: /*?*iskin=
Disallow: /staff/
Allow: /board/
"""
NOTICES = ((1, "게시판 이용 규칙 안내"), (2, "직업 말머리 사용 안내"))


def _head(title: str, charset: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="ko">\n<head>\n<meta charset="{charset}">\n'
        f"<title>{escape(title)} - 메이플스토리 인벤 (리플레이)</title>\n"
        f"</head>\n<body>\n{BANNER}\n"
    )


def list_page_html(
    board_id: int,
    page: int,
    posts: Sequence[SyntheticPost],
    *,
    last_page: int,
    view: str | None = None,
    charset: str = "utf-8",
) -> str:
    """A list page: notice rows first, then post rows newest first, then pagination."""
    name = BOARDS[board_id].name
    rows = []
    for number, title in NOTICES:
        rows.append(
            f'<tr class="notice"><td class="num"><span>공지</span></td>'
            f'<td class="tit"><a class="subject-link" href="/board/maple/{board_id}/{number}">'
            f'{escape(title)}</a></td><td class="user">운영자</td>'
            f'<td class="date">공지</td><td class="view">-</td><td class="reco">-</td></tr>'
        )
    for post in posts:
        href = (
            f"/board/maple/{board_id}/{post.post_id}?p={page}"
            f"&amp;category={quote(post.category)}" + (f"&amp;my={view}" if view else "")
        )
        comment_count = (
            f' <span class="con-comment">[{len(post.comments)}]</span>' if post.comments else ""
        )
        rows.append(
            f'<tr><td class="num"><span>{post.post_id}</span></td>'
            f'<td class="tit"><div class="text-wrap"><div>'
            f'<span class="category">[{escape(post.category)}]</span> '
            f'<a class="subject-link" href="{href}">{escape(post.title)}</a>{comment_count}'
            f'</div></div></td><td class="user"><span class="layerNickName">'
            f"{escape(post.author)}</span></td>"
            f'<td class="date">{post.posted_at:%m-%d}</td><td class="view">{post.views:,}</td>'
            f'<td class="reco">{post.recommends}</td></tr>'
        )
    pages = " ".join(
        f'<a href="/board/maple/{board_id}?p={n}">{n}</a>' for n in range(1, last_page + 1)
    )
    return (
        _head(name, charset)
        + f'<div class="board-title"><h2>{escape(name)}</h2></div>\n'
        + '<form name="board_list1" method="get"><div class="board-list"><table>\n'
        + "<thead><tr><th>번호</th><th>제목</th><th>글쓴이</th><th>등록일</th><th>조회</th>"
        + "<th>추천</th></tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table></div></form>\n"
        + f'<div class="board-bottom"><div class="pagination">{pages}</div></div>\n'
        + "</body>\n</html>\n"
    )


def article_html(post: SyntheticPost, *, charset: str = "utf-8") -> str:
    """An article page with the header blocks and the body container Inven uses."""
    paragraphs = "".join(f"<div>{escape(p)}</div>" for p in post.paragraphs)
    return (
        _head(post.title, charset)
        + '<div id="tbArticle"><div class="articleHead hC">\n'
        + '<div class="articleSubject">'
        + f'<div class="articleCategory">[{escape(post.category)}]</div>'
        + f'<div class="articleTitle"><h1>{escape(post.title)}</h1></div></div>\n'
        + '<div class="articleInfo">'
        + f'<div class="articleWriter"><span>{escape(post.author)}</span></div>'
        + f'<div class="articleDate">{post.posted_at:%Y-%m-%d %H:%M}</div>'
        + f'<div class="articleHit">조회: {post.views:,} <span class="split">|</span> '
        + f"추천: {post.recommends}</div></div></div>\n"
        + '<div class="articleMain"><div class="articleContent">'
        + f'<div id="powerbbsContent">{paragraphs}</div></div></div>\n'
        + '<div class="articleFile">첨부파일 없음</div>\n</div>\n'
        + '<script>var articleState = "script text is not body text";</script>\n'
        + "</body>\n</html>\n"
    )


def comments_json(post: SyntheticPost | None) -> str:
    """The comment endpoint's answer: one block of comments, or no `commentlist` when none."""
    if post is None or not post.comments:
        return json.dumps({"message": 1, "cmtcount": 0})
    items = [
        {
            "__attr__": {"cmtidx": str(c.comment_id), "cmtpidx": str(c.parent_id)},
            "o_name": escape(c.author),
            "o_date": f"{c.posted_at:%Y-%m-%d %H:%M:%S}",
            # Inven sometimes entity-encodes comments twice; so do we.
            "o_comment": escape(escape(c.text)),
            "o_recommend": str(c.recommends),
        }
        for c in post.comments
    ]
    return json.dumps(
        {
            "commentlist": [{"__attr__": {"titlenum": 0}, "list": items}],
            "lastblock": 0,
            "cmtcount": len(items),
            "message": 1,
        },
        ensure_ascii=False,
    )


def index_html(boards: Sequence[int]) -> str:
    """A landing page linking every board."""
    links = "".join(
        f'<li><a href="/board/maple/{b}?p=1">{escape(BOARDS[b].name)}</a></li>' for b in boards
    )
    return _head("메이플스토리 인벤", "utf-8") + f"<ul>{links}</ul>\n</body>\n</html>\n"
