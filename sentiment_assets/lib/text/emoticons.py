"""Emoticons: text faces that carry sentiment but that a morpheme analyser splits into noise.

Kiwi cuts `:)` into a colon and a bracket and `-_-` into three symbols, and the stop-tag filter
then drops most of the pieces. We find emoticons first and hand their spans to Kiwi as
pre-tokenized morphemes, so each one survives as a single `form/EMO` token.
"""

from __future__ import annotations

import re

EMOTICON_TAG = "EMO"

# Western faces need a non-letter on both sides, or "xD" would match inside "boxDrop".
_PATTERNS = (
    r"\^[_\-.oO]?\^;*",  # ^^ ^_^ ^-^ ^^;
    r"[Tㅜㅠ][_.][Tㅜㅠ]",  # T_T ㅠ_ㅠ ㅜ.ㅜ
    r"[-=ㅡ][_.][-=ㅡ];*",  # -_- =_= ㅡ_ㅡ -.-;
    r"ㅡㅡ;*",  # ㅡㅡ ㅡㅡ;
    r"[><][_.][<>]",  # >_< >.<
    r"[oO0@][_.][oO0@]",  # o_o O.O @_@
    r"(?<![A-Za-z0-9])[:;=]['\-]?[)(DPpOo/\]\[|](?![A-Za-z0-9])",  # :) :-( ;) :P :'(
    r"(?<![A-Za-z0-9])[xX]D(?![A-Za-z0-9])",  # xD XD
    r"<3",
    r";;+",  # cold sweat
)
_EMOTICON = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))


def emoticon_spans(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the emoticons in `text`, left to right, non-overlapping."""
    return [(m.start(), m.end()) for m in _EMOTICON.finditer(text)]


def emoticons(text: str) -> list[str]:
    """The emoticons of `text` in order of appearance."""
    return [text[start:end] for start, end in emoticon_spans(text)]
