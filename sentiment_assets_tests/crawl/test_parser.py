"""The parser on Inven-shaped pages: what it reads, and what it refuses."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from sentiment_assets.lib.crawl.parser import (
    ParseError,
    parse_article,
    parse_comments,
    parse_list_page,
)
from sentiment_assets.lib.crawl.replay.render import article_html, comments_json, list_page_html
from sentiment_assets.lib.crawl.replay.sources import SyntheticSite


def test_list_page_rows_skip_notices_and_use_the_link_id(site: SyntheticSite) -> None:
    posts = site.visible(2294)[:10]
    page = parse_list_page(list_page_html(2294, 1, posts, last_page=2))
    assert page.notices == 2
    assert [r.post_id for r in page.rows] == [p.post_id for p in posts]
    assert all(r.board_id == 2294 for r in page.rows)
    assert [r.title for r in page.rows] == [p.title for p in posts]
    assert page.rows[0].category == f"[{posts[0].category}]"


def test_past_the_last_page_is_an_empty_list_not_an_error() -> None:
    page = parse_list_page(list_page_html(2294, 9, [], last_page=2))
    assert page.rows == () and page.notices == 2


LIST_TEMPLATE = """<html><body><div class="board-list"><table><tbody>
{rows}
</tbody></table></div></body></html>"""


def test_list_page_reads_malformed_but_recoverable_rows() -> None:
    # Unclosed <td>/<tr>, a number with a comma and no link id, a spacer row.
    rows = (
        '<tr><td class="num"><span>12,345</span><td class="tit">'
        '<a class="subject-link" href="/board/maple/2294?x=1">제목 하나</a>\n'
        "<tr></tr>"
        '<tr><td class="num">12344</td><td class="tit">'
        '<a class="subject-link" href="https://www.inven.co.kr/board/maple/2294/12344?p=1">둘</a>'
        "</td></tr>"
    )
    page = parse_list_page(LIST_TEMPLATE.format(rows=rows))
    assert [(r.post_id, r.board_id, r.title) for r in page.rows] == [
        (12345, None, "제목 하나"),
        (12344, 2294, "둘"),
    ]


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("<html><body><p>점검 중입니다</p></body></html>", "no board list table"),
        (
            LIST_TEMPLATE.format(rows='<tr><td class="num">이벤트</td><td>링크 없음</td></tr>'),
            "none could be read",
        ),
        (LIST_TEMPLATE.format(rows="<tr><td>1</td></tr>")[:-20], "truncated"),
    ],
)
def test_list_page_refuses_pages_it_cannot_trust(html: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_list_page(html)


def test_article_page_fields(site: SyntheticSite) -> None:
    post = site.visible(2295)[0]
    article = parse_article(article_html(post))
    assert article.title == post.title
    assert article.author == post.author
    assert article.posted_at == post.posted_at.replace(second=0)
    assert (article.views, article.recommends) == (post.views, post.recommends)
    assert article.category == f"[{post.category}]"
    assert article.body == "\n".join(post.paragraphs)
    assert "script text" not in article.body and not article.has_media


ARTICLE = """<html><body><div id="tbArticle">
<div class="articleCategory">비숍</div>
<div class="articleTitle"><h1>  제목&nbsp;입니다 </h1></div>
<div class="articleWriter"><span>닉네임</span><img src="lv.gif"></div>
<div class="articleDate">2024.05.01 09:05</div>
<div class="articleHit">조회: 1,234 | 추천: 56</div>
{body}
</div></body></html>"""


def test_article_body_keeps_paragraphs_and_takes_the_last_container() -> None:
    body = (
        '<div id="powerbbsContent">예전 껍데기</div>'
        '<div id="powerbbsContent"><p>첫 줄<br>둘째 줄</p><div>셋째 <b>줄</b></div>'
        "<!-- comment --><style>.x{}</style></div>"
    )
    article = parse_article(ARTICLE.format(body=body))
    assert article.body == "첫 줄\n둘째 줄\n셋째 줄"
    assert article.title == "제목 입니다"
    assert article.posted_at == datetime(2024, 5, 1, 9, 5)
    assert (article.views, article.recommends) == (1234, 56)


def test_image_only_article_is_kept_with_has_media() -> None:
    article = parse_article(
        ARTICLE.format(body='<div id="powerbbsContent"><p><img src="a.png"></p></div>')
    )
    assert article.body == "" and article.has_media


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "no body"),
        ('<div id="powerbbsContent"> <p>&nbsp;</p> </div>', "body is empty"),
    ],
)
def test_article_without_body_is_an_error_never_an_empty_post(body: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_article(ARTICLE.format(body=body))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('<div class="articleTitle"><h1>  제목&nbsp;입니다 </h1></div>', "", "no title"),
        ("2024.05.01 09:05", "어제", "no readable date"),
        ("조회: 1,234 | ", "", "no view count"),
        ("</div></body></html>", "</div>", "truncated"),
    ],
)
def test_article_missing_parts_are_named(old: str, new: str, message: str) -> None:
    html = ARTICLE.format(body='<div id="powerbbsContent">본문</div>').replace(old, new)
    with pytest.raises(ParseError, match=message):
        parse_article(html)


def test_article_without_recommend_count_has_none() -> None:
    html = ARTICLE.format(body='<div id="powerbbsContent">본문</div>').replace("| 추천: 56", "")
    assert parse_article(html).recommends is None


def test_comments_from_the_endpoint(site: SyntheticSite) -> None:
    post = next(p for p in site.visible(5974) if len(p.comments) >= 2)
    comments = parse_comments(comments_json(post))
    assert [c.comment_id for c in comments] == [c.comment_id for c in post.comments]
    assert [c.body for c in comments] == [c.text for c in post.comments]  # double-escaped
    assert [c.author for c in comments] == [c.author for c in post.comments]
    assert comments[0].parent_id is None
    assert comments[0].posted_at == post.comments[0].posted_at


def test_comment_html_and_replies() -> None:
    payload = {
        "commentlist": [
            {
                "__attr__": {"titlenum": 0},
                "list": [
                    {
                        "__attr__": {"cmtidx": "7", "cmtpidx": "7"},
                        "o_name": "a",
                        "o_date": "2024-05-01 10:00:00",
                        "o_comment": "&amp;lt;b&amp;gt;굵게&amp;lt;/b&amp;gt;<br>둘째 &amp;amp; 셋",
                        "o_recommend": "3",
                    },
                    {"__attr__": {"cmtidx": "8", "cmtpidx": "7"}, "o_comment": '<img src="s">'},
                ],
            }
        ]
    }
    first, reply = parse_comments(json.dumps(payload))
    assert first.body == "굵게\n둘째 & 셋" and first.recommends == 3
    assert reply.parent_id == 7 and reply.body == "" and reply.posted_at is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [('{"message": 1, "cmtcount": 0}', 0), ('\ufeff{"commentlist": []}', 0)],
)
def test_post_without_comments(payload: str, expected: int) -> None:
    assert len(parse_comments(payload)) == expected


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("<html>error</html>", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"commentlist": [{"list": [{"__attr__": {}}]}]}', "no __attr__.cmtidx"),
    ],
)
def test_bad_comment_answers_raise(payload: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_comments(payload)
