"""Screening text that arrives from outside (API clients, reviewers) before anything stores it.

Three kinds of character are refused outright, because a stored row holding them either breaks
a reader or shows a reviewer something other than what it holds: unpaired surrogates (not
encodable as UTF-8, so SQLite, Parquet and the JSON response would all fail on them), control
characters other than tab and line breaks, and the bidirectional embedding, override and
isolate controls ("Trojan Source" text that reads differently from its code points).

Invisible characters are allowed inside visible text (Korean posts carry zero-width spaces
pasted from the web, and emoji sequences need the zero-width joiner), but a text made of
nothing else is blank: zero-width spaces and joiners, the word joiner, the byte-order mark,
the soft hyphen, and the Hangul fillers a MapleStory player knows as the "blank nickname"
character (ㅤ). `normalize` drops the zero-width ones before a model reads the text.
"""

from __future__ import annotations

import unicodedata

ALLOWED_CONTROLS = frozenset("\t\n\r")
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings, pops and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u034f\u180e")
"""Format characters that take no room."""
BLANK_LETTERS = frozenset("\u3164\u115f\u1160\uffa0\u2800")
"""Letters that render as empty space (Hangul fillers, the blank braille pattern)."""


def refusal(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can.

    The reason names the first offending character by code point and position, so a client
    can find it in its input.
    """
    for position, ch in enumerate(text):
        category = unicodedata.category(ch)
        where = f"U+{ord(ch):04X} at position {position}"
        if category == "Cs":
            return f"holds an unpaired surrogate {where}; send valid Unicode"
        if category == "Cc" and ch not in ALLOWED_CONTROLS:
            return f"holds the control character {where}; only tab and line breaks are allowed"
        if ch in BIDI_CONTROLS:
            return (
                f"holds the bidirectional control {where}, which makes text display "
                "differently from what it holds"
            )
    return None


def is_blank(text: str) -> bool:
    """Whether `text` shows nothing: only whitespace and invisible characters."""
    return all(
        ch.isspace() or ch in ZERO_WIDTH or ch in BLANK_LETTERS or unicodedata.category(ch) == "Cf"
        for ch in text
    )
