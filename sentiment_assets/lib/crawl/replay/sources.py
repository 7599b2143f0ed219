"""What the replay server serves: the synthetic site, or a folder of saved real pages.

The saved-pages layout is the one `PageArchive` writes when a crawl is run with `--save-pages`,
so a real crawl can be replayed offline, byte for byte, later:

    robots.txt
    board/maple/<board>/list-p<page>[-<view>].html
    board/maple/<board>/<post>.html
    comments/<board>/<post>.json
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sentiment_assets.lib.crawl.archive import PageArchive
from sentiment_assets.lib.crawl.boards import BOARDS
from sentiment_assets.lib.crawl.replay.corpus import SiteClock, SyntheticCorpus, SyntheticPost
from sentiment_assets.lib.crawl.replay.render import (
    ROBOTS_TXT,
    article_html,
    comments_json,
    index_html,
    list_page_html,
)

HTML = "text/html"
JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Rendered:
    """A response body and its Content-Type."""

    body: bytes
    content_type: str


class SiteSource(Protocol):
    """Pages by meaning; the server maps URLs to these calls. None means 404."""

    def robots(self) -> Rendered | None:
        """robots.txt."""
        ...

    def index(self) -> Rendered:
        """The landing page."""
        ...

    def list_page(self, board_id: int, page: int, view: str | None) -> Rendered | None:
        """A board list page."""
        ...

    def article(self, board_id: int, post_id: int) -> Rendered | None:
        """An article page."""
        ...

    def comments(self, board_id: int, post_id: int) -> Rendered | None:
        """The comment endpoint's answer for a post."""
        ...


VIEW_MIN_RECOMMENDS = {"chu": 10, "chuchu": 30}


@dataclass
class SyntheticSite:
    """The synthetic corpus as an Inven-shaped site.

    Args:
        corpus: the posts.
        clock: site time; posts appear when it passes their time.
        page_size: rows per list page.
        encodings: per-board charset (e.g. `{2297: "euc-kr"}`): those pages are encoded so and
            declare it only in `<meta>`, as older Korean sites do.
        robots_txt: the robots.txt body, or None to answer 404.
    """

    corpus: SyntheticCorpus
    clock: SiteClock
    page_size: int = 25
    encodings: dict[int, str] = field(default_factory=dict)
    robots_txt: str | None = ROBOTS_TXT
    deleted: set[tuple[int, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        """Guard the deleted set; the server is multi-threaded."""
        self._lock = threading.Lock()

    def delete(self, board_id: int, post_id: int) -> None:
        """Take a post down: it leaves the lists and its page answers 404."""
        with self._lock:
            self.deleted.add((board_id, post_id))

    def visible(self, board_id: int, view: str | None = None) -> list[SyntheticPost]:
        """A board's posts as its list shows them now, newest first."""
        with self._lock:
            deleted = set(self.deleted)
        least = VIEW_MIN_RECOMMENDS.get(view or "", 0)
        posts = [
            p
            for p in self.corpus.board_posts_at(board_id, self.clock.now())
            if (board_id, p.post_id) not in deleted and p.recommends >= least
        ]
        return posts[::-1]

    def find(self, board_id: int, post_id: int) -> SyntheticPost | None:
        """A visible post by id."""
        with self._lock:
            if (board_id, post_id) in self.deleted:
                return None
        return self.corpus.lookup(board_id, post_id, self.clock.now())

    def _encode(self, board_id: int, text: str) -> Rendered:
        charset = self.encodings.get(board_id, "utf-8")
        if charset.lower() == "utf-8":
            return Rendered(text.encode("utf-8"), f"{HTML}; charset=utf-8")
        return Rendered(text.encode("cp949"), HTML)

    def robots(self) -> Rendered | None:
        """The configured robots.txt."""
        if self.robots_txt is None:
            return None
        return Rendered(self.robots_txt.encode("utf-8"), TEXT)

    def index(self) -> Rendered:
        """Links to the boards."""
        boards = sorted({p.board_id for p in self.corpus.posts_at(self.clock.now())})
        return Rendered(index_html(boards).encode("utf-8"), f"{HTML}; charset=utf-8")

    def list_page(self, board_id: int, page: int, view: str | None) -> Rendered | None:
        """Page `page`; past the last page, an empty table (as Inven shows)."""
        if board_id not in BOARDS or page < 1:
            return None
        posts = self.visible(board_id, view)
        last = max(1, math.ceil(len(posts) / self.page_size))
        rows = posts[(page - 1) * self.page_size : page * self.page_size]
        charset = self.encodings.get(board_id, "utf-8")
        html = list_page_html(board_id, page, rows, last_page=last, view=view, charset=charset)
        return self._encode(board_id, html)

    def article(self, board_id: int, post_id: int) -> Rendered | None:
        """The article, or None when it does not exist (yet) or was deleted."""
        post = self.find(board_id, post_id)
        if post is None:
            return None
        charset = self.encodings.get(board_id, "utf-8")
        return self._encode(board_id, article_html(post, charset=charset))

    def comments(self, board_id: int, post_id: int) -> Rendered | None:
        """Comment JSON (an empty answer for unknown posts, as Inven does)."""
        return Rendered(comments_json(self.find(board_id, post_id)).encode("utf-8"), JSON)


@dataclass
class SavedPages:
    """Serve a `PageArchive` folder: bytes as saved, charset left for the client to find."""

    archive: PageArchive

    @staticmethod
    def _read(path: Path, content_type: str) -> Rendered | None:
        return Rendered(path.read_bytes(), content_type) if path.is_file() else None

    def robots(self) -> Rendered | None:
        """The saved robots.txt, if any."""
        return self._read(self.archive.robots_path(), TEXT)

    def index(self) -> Rendered:
        """Links to the saved boards."""
        folder = self.archive.root / "board" / "maple"
        found = sorted(int(p.name) for p in folder.glob("*") if p.name.isdigit())
        boards = [b for b in found if b in BOARDS]
        return Rendered(index_html(boards).encode("utf-8"), f"{HTML}; charset=utf-8")

    def list_page(self, board_id: int, page: int, view: str | None) -> Rendered | None:
        """A saved list page."""
        return self._read(self.archive.list_path(board_id, page, view), HTML)

    def article(self, board_id: int, post_id: int) -> Rendered | None:
        """A saved article page."""
        return self._read(self.archive.article_path(board_id, post_id), HTML)

    def comments(self, board_id: int, post_id: int) -> Rendered | None:
        """A saved comment answer."""
        return self._read(self.archive.comments_path(board_id, post_id), JSON)
