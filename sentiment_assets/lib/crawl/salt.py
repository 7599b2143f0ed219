"""Where the author-hash salt lives: outside the warehouse, so a copy of the data cannot undo it.

Author hashes are HMACs of short, guessable nicknames; whoever holds the salt can hash a list of
known names and match them. So the salt is kept apart from the warehouse: in
`SENTIMENT_AUTHOR_SALT` (the value itself, e.g. from a secret store), else in the file named by
`SENTIMENT_AUTHOR_SALT_FILE`, else in `$XDG_CONFIG_HOME/maple-sentiment/author_salt`
(`~/.config/...`), created with mode 600 on first use.

Installations from before kept it in `warehouse/.crawl_author_salt`. The first crawl after the
upgrade moves that salt out (so every stored hash stays valid), rewrites the page copies kept
in the warehouse without nicknames, and deletes the old file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from sentiment_assets.lib.crawl.hashing import load_or_create_salt, write_secret
from sentiment_assets.lib.crawl.redact import redact_saved_pages

SALT_ENV = "SENTIMENT_AUTHOR_SALT"
SALT_FILE_ENV = "SENTIMENT_AUTHOR_SALT_FILE"
LEGACY_SALT_FILE = ".crawl_author_salt"
"""The salt's old place inside the warehouse folder."""


class SaltError(RuntimeError):
    """The salt cannot be settled without a person deciding (two salts, or one in the data)."""


def salt_path(environ: Mapping[str, str] | None = None) -> Path:
    """The salt file: `SENTIMENT_AUTHOR_SALT_FILE`, else under the user's config folder."""
    env = os.environ if environ is None else environ
    if env.get(SALT_FILE_ENV):
        return Path(env[SALT_FILE_ENV]).expanduser().resolve()
    config = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config").expanduser()
    return (config / "maple-sentiment" / "author_salt").resolve()


def author_salt(
    warehouse: Path,
    *,
    explicit: str | None = None,
    environ: Mapping[str, str] | None = None,
    log: Callable[[str], None] | None = None,
) -> str:
    """The installation's salt, moving a legacy in-warehouse salt out first.

    Raises:
        SaltError: the salt file lies inside the warehouse, or the warehouse holds a legacy salt
            that differs from the one in the salt file.
    """
    if explicit:
        return explicit
    path = salt_path(environ)
    root = warehouse.resolve()
    if path == root or root in path.parents:
        raise SaltError(
            f"The author salt file {path} is inside the warehouse {root}: anyone with a copy of "
            f"the data could undo the hashing. Point {SALT_FILE_ENV} outside it."
        )
    _move_legacy_salt(root, path, log or (lambda _m: None))
    return load_or_create_salt(path)


def _move_legacy_salt(warehouse: Path, path: Path, log: Callable[[str], None]) -> None:
    legacy = warehouse / LEGACY_SALT_FILE
    if not legacy.is_file():
        return
    old = legacy.read_text(encoding="utf-8").strip()
    if path.is_file():
        current = path.read_text(encoding="utf-8").strip()
        if old and current != old:
            raise SaltError(
                f"Two author salts: {legacy} (the one this warehouse's hashes were made with) and "
                f"{path}. Keep one: `mv {legacy} {path}` to keep this warehouse's hashes, or "
                f"delete {legacy} to hash with {path} from now on (old and new hashes of one "
                "author will then differ)."
            )
    elif old:
        write_secret(path, old)
    if old:
        scrubbed = redact_saved_pages(warehouse, old)
        log(f"moved the author salt from {legacy} to {path}; {scrubbed} kept pages anonymized")
    legacy.unlink()
