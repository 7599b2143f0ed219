"""Inven's URL scheme, shared by the crawler and the replay site so the two cannot drift apart."""

from __future__ import annotations

import re
from urllib.parse import urlencode

LIST_PATH = re.compile(r"^/board/maple/(\d+)/?$")
ARTICLE_PATH = re.compile(r"^/board/maple/(\d+)/(\d+)/?$")
COMMENTS_PATH = "/common/board/comment.json.php"
ROBOTS_PATH = "/robots.txt"


def site_root(base_url: str) -> str:
    """`https://www.inven.co.kr/` style base without the trailing slash."""
    return base_url.rstrip("/")


def list_url(base_url: str, board_id: int, page: int, view: str | None = None) -> str:
    """List page `page` (1-based) of a board, optionally a recommended view (`my=chu`)."""
    query = {"p": page} if view is None else {"my": view, "p": page}
    return f"{site_root(base_url)}/board/maple/{board_id}?{urlencode(query)}"


def article_url(base_url: str, board_id: int, post_id: int) -> str:
    """The canonical article URL; extra query parameters on Inven do not change the post."""
    return f"{site_root(base_url)}/board/maple/{board_id}/{post_id}"


def comments_url(base_url: str) -> str:
    """The comment JSON endpoint (POST)."""
    return f"{site_root(base_url)}{COMMENTS_PATH}"


def comments_form(board_id: int, post_id: int) -> dict[str, str]:
    """Form fields the comment endpoint expects for the newest block of a post's comments."""
    return {
        "comeidx": str(board_id),
        "articlecode": str(post_id),
        "sortorder": "date",
        "act": "list",
        "out": "json",
        "replynick": "",
        "replyidx": "0",
        "uploadurl": "",
        "imageposition": "",
    }


def robots_url(base_url: str) -> str:
    """robots.txt of the site."""
    return f"{site_root(base_url)}{ROBOTS_PATH}"
