"""Every selector the crawler uses, in one place: Inven's markup drifts, and this is what changes.

Each parser either returns a complete record or raises `ParseError` saying what was missing; it
never returns a half-filled post. Pages cut short are refused too (a list page missing its tail
would silently lose posts), recognised by the missing `</html>`.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parsel import Selector

# ---- list page ---------------------------------------------------------------------------------
LIST_TABLE = ".board-list table"
LIST_ROWS = ".board-list table tbody tr"
NOTICE_CLASS = "notice"
ROW_NUMBER = "td.num span::text, td.num::text"
ROW_LINK = "td.tit a.subject-link"
ROW_CATEGORY = "td.tit .category::text"
# ---- article page ------------------------------------------------------------------------------
ARTICLE_TITLE = "div.articleTitle"
ARTICLE_TITLE_H1 = "div.articleTitle h1"
ARTICLE_WRITER = "div.articleWriter"
ARTICLE_DATE = "div.articleDate"
ARTICLE_HIT = "div.articleHit"
ARTICLE_CATEGORY = "div.articleCategory"
ARTICLE_BODY = "div#powerbbsContent"
BODY_MEDIA = "img, video, iframe, embed"
# ---- text inside blocks ------------------------------------------------------------------------
_VIEWS = re.compile(r"(?<=조회)\s*:?\s*([\d,]+)")
_RECOMMENDS = re.compile(r"(?<=추천)\s*:?\s*([\d,]+)")
_DATE = re.compile(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})\.?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?")
_HREF_IDS = re.compile(r"/board/maple/(\d+)/(\d+)")
_CLOSING_HTML = re.compile(r"</html\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
# Control characters (terminal escapes and the like), bidi overrides (they reorder what a reader
# of the review app or the dashboards sees) and invisible zero-width spaces (hidden inside a word
# they split it: 너\u200b프). Newlines and tabs are whitespace, handled above; zero-width joiners
# stay, emoji sequences need them (models drop them in `normalize`).
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2060\u2066-\u2069\ufeff]")

_BLOCK_TAGS = {
    "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre",
    "section", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_SKIPPED_TAGS = {"script", "style", "noscript", "template"}


class ParseError(ValueError):
    """A page does not have the structure we expect; the message says what is missing."""


@dataclass(frozen=True)
class ListRow:
    """One post row of a list page."""

    board_id: int | None
    post_id: int
    title: str
    href: str
    category: str | None


@dataclass(frozen=True)
class ListPage:
    """The post rows of one list page, notices removed."""

    rows: tuple[ListRow, ...]
    notices: int
    unreadable_rows: int


@dataclass(frozen=True)
class Article:
    """The fields of an article page."""

    title: str
    author: str | None
    posted_at: datetime
    views: int
    recommends: int | None
    category: str | None
    body: str
    has_media: bool


@dataclass(frozen=True)
class Comment:
    """One comment from the comment endpoint."""

    comment_id: int
    parent_id: int | None
    author: str | None
    posted_at: datetime | None
    body: str
    recommends: int | None


def _require_complete(page: str, what: str) -> None:
    if not _CLOSING_HTML.search(page[-4096:]):
        raise ParseError(f"{what} is truncated: no closing </html>")


def _clean(text: str) -> str:
    return _SPACES.sub(" ", _CONTROLS.sub("", text)).strip()


def _text(selection: Selector | None) -> str:
    if selection is None:
        return ""
    return _clean(" ".join(selection.css("::text").getall()))


def parse_datetime(text: str) -> datetime | None:
    """`2024-05-01 12:34[:56]` (also with dots or slashes) as a naive datetime, else None."""
    match = _DATE.search(text)
    if not match:
        return None
    year, month, day, hour, minute, second = match.groups()
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return None


def _block_text(element: Any) -> str:
    """Text of an element with a line break at every block boundary, scripts left out."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        # Comments and processing instructions have a non-string tag: skip them.
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if tag in _SKIPPED_TAGS or not tag:
            return
        block = tag in _BLOCK_TAGS
        if block:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n")

    walk(element)
    lines = (_clean(line) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def parse_list_page(page: str) -> ListPage:
    """Rows of a board list page.

    An empty table is a valid page (past the last page). Rows whose number or link cannot be
    read are counted, not returned; a page where no non-notice row can be read is an error.

    Raises:
        ParseError: no board list table, a truncated page, or no readable row.
    """
    _require_complete(page, "list page")
    sel = Selector(text=page)
    if not sel.css(LIST_TABLE):
        raise ParseError(f"list page has no board list table ({LIST_TABLE})")
    rows: list[ListRow] = []
    notices = unreadable = 0
    for tr in sel.css(LIST_ROWS):
        if NOTICE_CLASS in (tr.attrib.get("class") or "").split():
            notices += 1
            continue
        if not tr.css("td"):
            continue  # spacer rows carry no cells
        link = tr.css(ROW_LINK)
        href = (link.attrib.get("href") or "").strip() if link else ""
        numbers = [t.strip().replace(",", "") for t in tr.css(ROW_NUMBER).getall()]
        number = next((int(t) for t in numbers if t.isdigit()), None)
        ids = _HREF_IDS.search(href)
        # The link is what gets fetched, so its id wins over the displayed number.
        post_id = int(ids.group(2)) if ids else number
        if not href or post_id is None:
            unreadable += 1
            continue
        category = _clean(" ".join(tr.css(ROW_CATEGORY).getall())) or None
        rows.append(
            ListRow(
                board_id=int(ids.group(1)) if ids else None,
                post_id=post_id,
                title=_text(link[0]),
                href=href,
                category=category,
            )
        )
    if unreadable and not rows:
        raise ParseError(f"list page has {unreadable} rows and none could be read")
    return ListPage(rows=tuple(rows), notices=notices, unreadable_rows=unreadable)


def parse_article(page: str) -> Article:
    """The fields of an article page.

    A body holding only images or video is kept with empty text and `has_media`; a body with
    neither text nor media is an error, never an empty post.

    Raises:
        ParseError: naming the first required part that is missing or unreadable.
    """
    _require_complete(page, "article page")
    sel = Selector(text=page)
    title_node = sel.css(ARTICLE_TITLE_H1) or sel.css(ARTICLE_TITLE)
    title = _text(title_node[0]) if title_node else ""
    if not title:
        raise ParseError(f"article has no title ({ARTICLE_TITLE})")
    date_node = sel.css(ARTICLE_DATE)
    posted_at = parse_datetime(_text(date_node[0])) if date_node else None
    if posted_at is None:
        raise ParseError(f"article has no readable date ({ARTICLE_DATE})")
    hit_node = sel.css(ARTICLE_HIT)
    hit = _text(hit_node[0]) if hit_node else ""
    views = _VIEWS.search(hit)
    if views is None:
        raise ParseError(f"article has no view count ({ARTICLE_HIT} '조회: N')")
    recommends = _RECOMMENDS.search(hit)
    bodies = sel.css(ARTICLE_BODY)
    if not bodies:
        raise ParseError(f"article has no body ({ARTICLE_BODY})")
    # Old powerbbs pages repeat the container; the last one holds the article.
    body_node = bodies[-1]
    body = _block_text(body_node.root)
    has_media = bool(body_node.css(BODY_MEDIA))
    if not body and not has_media:
        raise ParseError(f"article body is empty ({ARTICLE_BODY} has no text and no media)")
    writer = sel.css(ARTICLE_WRITER)
    category = sel.css(ARTICLE_CATEGORY)
    return Article(
        title=title,
        author=(_text(writer[0]) or None) if writer else None,
        posted_at=posted_at,
        views=int(views.group(1).replace(",", "")),
        recommends=int(recommends.group(1).replace(",", "")) if recommends else None,
        category=(_text(category[0]) or None) if category else None,
        body=body,
        has_media=has_media,
    )


def _comment_text(raw: str) -> str:
    # The endpoint sometimes entity-encodes comments more than once.
    text = raw
    for _ in range(3):
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)
    return "\n".join(_clean(line) for line in _TAG.sub(" ", text).split("\n") if _clean(line))


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value).replace(",", "").strip())
    except (TypeError, ValueError):
        return None


def parse_comments(payload: str) -> list[Comment]:
    """Comments from one answer of the comment JSON endpoint, oldest block first.

    A post without comments answers without a `commentlist` key; that is an empty list.

    Raises:
        ParseError: the answer is not JSON, or a comment lacks its id.
    """
    try:
        data = json.loads(payload.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise ParseError(f"comment answer is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ParseError("comment answer is not a JSON object")
    blocks = data.get("commentlist") or []
    if not isinstance(blocks, list):
        raise ParseError("comment answer's commentlist is not a list")
    comments: list[Comment] = []
    for block in blocks:
        for item in (block or {}).get("list") or []:
            attrs = item.get("__attr__") or {}
            comment_id = _int_or_none(attrs.get("cmtidx"))
            if comment_id is None:
                raise ParseError("a comment has no __attr__.cmtidx")
            parent = _int_or_none(attrs.get("cmtpidx"))
            comments.append(
                Comment(
                    comment_id=comment_id,
                    parent_id=parent if parent not in (None, comment_id) else None,
                    author=_clean(html.unescape(str(item.get("o_name") or ""))) or None,
                    posted_at=parse_datetime(str(item.get("o_date") or "")),
                    body=_comment_text(str(item.get("o_comment") or "")),
                    recommends=_int_or_none(item.get("o_recommend")),
                )
            )
    return comments
