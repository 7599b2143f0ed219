"""Hashes stored instead of personal data, and the fingerprint of a post's content."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from sentiment_assets.lib.text.normalize import text_hash

ANON_PREFIX = "anon-"
"""What a nickname is replaced with in kept page copies: this prefix and its author hash."""
_ANON = re.compile(rf"{ANON_PREFIX}([0-9a-f]{{32}})")


def author_hash(author: str | None, salt: str) -> str | None:
    """A keyed hash of a nickname: the same author links across posts, the name is not stored.

    HMAC with a secret salt, not a bare hash: nicknames are short and guessable, so an unsalted
    hash could be reversed by hashing a list of known names. A name already replaced by its hash
    (`anon-<hash>`, in a kept page copy being replayed) gives that hash back.
    """
    if author is None or not author.strip():
        return None
    if anonymized := _ANON.fullmatch(author.strip()):
        return anonymized.group(1)
    digest = hmac.new(salt.encode("utf-8"), author.strip().encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]


def content_hash(title: str, body: str) -> str:
    """Fingerprint of what a post says, to spot edits and cross-board copies."""
    return text_hash(f"{title}\n{body}")


def load_or_create_salt(path: Path) -> str:
    """The installation's author salt: read from `path`, created (mode 600) on first use."""
    if path.is_file():
        salt = path.read_text(encoding="utf-8").strip()
        if salt:
            return salt
    return write_secret(path, secrets.token_hex(32))


def write_secret(path: Path, value: str) -> str:
    """Create `path` holding `value`, readable by its owner only; returns what the file holds.

    The file is written under a temporary name with mode 600 from the start, then linked into
    place: if another process created it meanwhile, theirs is kept and returned.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    finally:
        tmp.unlink(missing_ok=True)
    return value
