"""A folder of pages kept as fetched, laid out by what they are.

    robots.txt
    board/maple/<board>/list-p<page>[-<view>].html
    board/maple/<board>/<post>.html
    comments/<board>/<post>.json

`sentiment crawl --save-pages DIR` writes it; `sentiment replay-site --pages DIR` serves it, so a
real crawl can be replayed offline. Nicknames and user ids are replaced by their salted hashes
before a page is kept (`redact.py`); everything else is kept byte for byte, and a replay stores
the same author hashes as the original crawl.
"""

from __future__ import annotations

from pathlib import Path


class PageArchive:
    """Where saved pages live under a folder; shared by the crawler (writing) and the server."""

    def __init__(self, root: Path):
        """Use `root` as the archive folder."""
        self.root = Path(root)

    def robots_path(self) -> Path:
        """robots.txt."""
        return self.root / "robots.txt"

    def list_path(self, board_id: int, page: int, view: str | None) -> Path:
        """A list page."""
        suffix = f"-{view}" if view else ""
        return self.root / "board" / "maple" / str(board_id) / f"list-p{page}{suffix}.html"

    def article_path(self, board_id: int, post_id: int) -> Path:
        """An article page."""
        return self.root / "board" / "maple" / str(board_id) / f"{post_id}.html"

    def comments_path(self, board_id: int, post_id: int) -> Path:
        """A comment answer."""
        return self.root / "comments" / str(board_id) / f"{post_id}.json"

    @staticmethod
    def save(path: Path, content: bytes) -> None:
        """Write a page (already anonymized by the crawler), creating folders."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(content)
        tmp.replace(path)
