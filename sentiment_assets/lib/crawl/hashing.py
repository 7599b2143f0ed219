"""Hashes stored instead of personal data, and the fingerprint of a post's content."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from sentiment_assets.lib.text.normalize import text_hash


def author_hash(author: str | None, salt: str) -> str | None:
    """A keyed hash of a nickname: the same author links across posts, the name is not stored.

    HMAC with a secret salt, not a bare hash: nicknames are short and guessable, so an unsalted
    hash could be reversed by hashing a list of known names.
    """
    if author is None or not author.strip():
        return None
    digest = hmac.new(salt.encode("utf-8"), author.strip().encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]


def content_hash(title: str, body: str) -> str:
    """Fingerprint of what a post says, to spot edits and cross-board copies."""
    return text_hash(f"{title}\n{body}")


def load_or_create_salt(path: Path) -> str:
    """The installation's author salt: read from `path`, created (mode 600) on first use.

    Keeping the salt with the warehouse rather than in the repository means hashes are stable for
    one installation and cannot be recomputed by anyone who only has the code.
    """
    if path.is_file():
        salt = path.read_text(encoding="utf-8").strip()
        if salt:
            return salt
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_hex(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(salt + "\n")
    try:
        # Link, not rename: if another process created the salt meanwhile, keep theirs.
        os.link(tmp, path)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    finally:
        tmp.unlink(missing_ok=True)
    return salt
