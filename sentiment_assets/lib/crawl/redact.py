"""Nicknames and user ids out of every page copy we keep, replaced by the salted author hash.

raw_posts only ever holds `author_hash`; the copies of pages kept for debugging (failed pages
under `crawl_pages/`) and for offline replay (`--save-pages`) would otherwise keep the names in
plain text. A copy keeps its structure so it still parses and replays: each name becomes
`anon-<author hash>`, which `author_hash` maps back to the same hash, so a replayed crawl
stores the same author hashes as the original one.

Pages that failed to parse are damaged by definition, so names are found with tolerant patterns
(an author cell cut off mid-way still matches) rather than a parser, and every place a found
name occurs elsewhere in the page (a title attribute, a script, a mention) is replaced too.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any

from sentiment_assets.lib.crawl.decoding import decode_page
from sentiment_assets.lib.crawl.hashing import ANON_PREFIX, author_hash

# Elements whose text is an author: the list's user cell, the nickname layer, the article's
# writer block. The closing tag is optional: a page cut short may end inside one.
_AUTHOR_ELEMENTS = (
    re.compile(r"(<td\b[^>]*\bclass=\"[^\"]*\buser\b[^\"]*\"[^>]*>)(.*?)(</td\s*>|$)", re.I | re.S),
    re.compile(
        r"(<div\b[^>]*\bclass=\"[^\"]*\barticleWriter\b[^\"]*\"[^>]*>)(.*?)(</div\s*>|$)",
        re.I | re.S,
    ),
    re.compile(
        r"(<(\w+)\b[^>]*\bclass=\"[^\"]*\b(?:layerNickName|nickname|writer)\b[^\"]*\"[^>]*>)"
        r"(.*?)(</\2\s*>|$)",
        re.I | re.S,
    ),
)
_TEXT_NODE = re.compile(r"(^|>)([^<]+)")
_TAG = re.compile(r"<[^>]*>?")
# Attributes and query parameters that carry a member's id or name on community sites.
_ID_ATTRIBUTE = re.compile(
    r"""\s(?:onclick|data-(?:\w+-)*(?:uid|userid|user|nick|nickname|member|memberid|mb|mbid)"""
    r"""(?:-\w+)*)\s*=\s*("[^"]*"|'[^']*')""",
    re.I,
)
_ID_PARAMETER = re.compile(
    r"([?&](?:amp;)?(?:uid|userid|user_id|mb_id|mem_id|member_id|memberid|nick|nickname)=)"
    r"([^&\"'#\s>]*)",
    re.I,
)
# Comment answers: JSON keys for the author's name and id.
_PERSON_KEY = re.compile(r"^(?:o_)?(?:name|nick\w*|uid|user\w*|mb_?id|mem\w*|id)$", re.I)
_JSON_PERSON = re.compile(
    r"(\"(?:o_)?(?:name|nick\w*|uid|user\w*|mb_?id|mem\w*)\"\s*:\s*\")((?:[^\"\\]|\\.)*)(\"?)",
    re.I,
)
_MIN_SWEEP_LENGTH = 2
"""Names shorter than this are replaced inside author fields only, not wherever they occur."""


def anonymize(name: str, salt: str) -> str:
    """The stand-in for a nickname or user id in a kept page: `anon-<author hash>`."""
    digest = author_hash(name, salt)
    return f"{ANON_PREFIX}{digest}" if digest else ""


def redact_page(content: bytes, kind: str, salt: str, content_type: str | None = None) -> bytes:
    """A copy of a fetched page with every nickname and user id replaced by its hash.

    Args:
        content: the page as received.
        kind: list, article or comments (comments are JSON; anything else is HTML).
        salt: the installation's author salt.
        content_type: the Content-Type header, if known (for the charset).
    """
    text, codec = decode_page(content, content_type)
    codec = codec.removesuffix("+replace")
    if kind == "comments":
        redacted = _redact_comment_answer(text, salt)
        if redacted is not None:
            return redacted.encode("utf-8")
    names: set[str] = set()
    redacted_text = _redact_html(text, salt, names)
    redacted_text = _redact_json_fields(redacted_text, salt, names)
    redacted_text = _sweep(redacted_text, names, salt)
    return redacted_text.encode(codec, "xmlcharrefreplace")


def _name_of(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def _redact_html(text: str, salt: str, names: set[str]) -> str:
    for pattern in _AUTHOR_ELEMENTS:
        text = pattern.sub(lambda m: _redacted_element(m, salt, names), text)
    text = _ID_ATTRIBUTE.sub(lambda m: _redacted_attribute(m, salt), text)
    return _ID_PARAMETER.sub(lambda m: m.group(1) + anonymize(m.group(2), salt), text)


def _redacted_element(match: re.Match[str], salt: str, names: set[str]) -> str:
    """An author element with its text nodes replaced; groups: opening, [tag], inner, closing."""
    groups = match.re.groups
    opening, inner, closing = match.group(1), match.group(groups - 1), match.group(groups)
    name = _name_of(inner)
    if not name or name.startswith(ANON_PREFIX):
        return match.group(0)
    names.add(name)
    token = html.escape(anonymize(name, salt))
    inner = _TEXT_NODE.sub(
        lambda m: m.group(1) + (token if m.group(2).strip() else m.group(2)), inner
    )
    return _ID_ATTRIBUTE.sub("", opening) + inner + closing


def _redacted_attribute(match: re.Match[str], salt: str) -> str:
    value = match.group(1)
    name = match.group(0).split("=", 1)[0]
    return f'{name}="{anonymize(html.unescape(value[1:-1]), salt)}"'


def _redact_json_fields(text: str, salt: str, names: set[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        raw = match.group(2)
        try:
            value = json.loads(f'"{raw}"')
        except json.JSONDecodeError:
            value = raw
        name = _name_of(value)
        if not name or name.startswith(ANON_PREFIX):
            return match.group(0)
        names.add(name)
        return match.group(1) + anonymize(name, salt) + match.group(3)

    return _JSON_PERSON.sub(replace, text)


def _redact_comment_answer(text: str, salt: str) -> str | None:
    """The comment JSON with its people replaced; None when it is not JSON.

    A comment answer cut short is no JSON; the tolerant text patterns handle it then.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    names: set[str] = set()

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if isinstance(value, str | int) and _PERSON_KEY.match(str(key)):
                    name = _name_of(str(value))
                    if name and not name.startswith(ANON_PREFIX):
                        names.add(name)
                        value = anonymize(name, salt)
                out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    redacted = json.dumps(walk(data), ensure_ascii=False)
    return _sweep(redacted, names, salt)


def _sweep(text: str, names: set[str], salt: str) -> str:
    """Replace every other occurrence of a found name (as written, HTML- or JSON-escaped)."""
    for name in sorted(names, key=len, reverse=True):
        if len(name) < _MIN_SWEEP_LENGTH:
            continue
        token = anonymize(name, salt)
        forms = {name, html.escape(name), json.dumps(name)[1:-1], html.escape(html.escape(name))}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, token)
    return text


def redact_saved_pages(root: Path, salt: str) -> int:
    """Anonymize the page copies kept under `root/crawl_pages` (from before redaction existed).

    Returns how many files changed. A copy's kind is the first part of its file name.
    """
    changed = 0
    for path in sorted((root / "crawl_pages").rglob("*.html")):
        kind = path.name.split("-", 1)[0]
        before = path.read_bytes()
        after = redact_page(before, kind, salt)
        if after != before:
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(after)
            os.replace(tmp, path)
            changed += 1
    return changed
