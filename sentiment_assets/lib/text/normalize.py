"""Normalisation that keeps sentiment signals while shrinking the vocabulary.

Community posts stretch laughter and crying (ㅋㅋㅋㅋㅋ, ㅠㅠㅠㅠ) and punctuation (!!!!) to any
length; the length carries little meaning beyond "a lot", so runs are capped at two. Jamo
laughter/crying and emoticons are kept as tokens because they are among the strongest cues.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_CHARS = 512
"""Longest text handed to a tokenizer. Title + body are joined and the head is kept: on Inven the
title and first lines carry the opinion, and the tail is often quotes, signatures or images."""

_REPEAT = re.compile(r"(.)\1{2,}")
_SPACES = re.compile(r"\s+")
_URL = re.compile(r"https?://\S+")
INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
"""Control and format characters that show nothing: terminal escapes, zero-width spaces and
joiners, bidi overrides, the BOM. Hidden inside a word they split it for the tokenizer (너\u200b프
is not 너프, the trick spam filters are dodged with), so they go before anything else."""


def normalize(text: str) -> str:
    """NFC-normalise, drop invisible characters and URLs, cap repeats at two, collapse spaces."""
    text = unicodedata.normalize("NFC", INVISIBLE.sub("", text or ""))
    text = _URL.sub(" ", text)
    text = _REPEAT.sub(r"\1\1", text)
    return _SPACES.sub(" ", text).strip()


def post_text(title: str | None, body: str | None, *, max_chars: int = MAX_CHARS) -> str:
    """The text a model sees for a post: title, then body, normalised and cut to `max_chars`."""
    joined = normalize(" . ".join(part for part in (title, body) if part))
    return joined[:max_chars]


def text_hash(text: str) -> str:
    """Stable id of a text, used as a cache key across processes and runs."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
