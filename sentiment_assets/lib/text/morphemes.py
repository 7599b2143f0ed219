"""Kiwi morpheme analysis (no JVM), cached per text hash.

Tokens are `form/TAG` strings so that homographs with different parts of speech stay apart
(이/JKS vs 이/VCP). Emoticons (`:)`, `^^`, `T_T`, `-_-`) come out whole as `form/EMO`, jamo
laughter and crying (ㅋㅋ, ㅠㅠ) as `form/SW` and emoji as `form/W_EMOJI`: they are sentiment
signals, not punctuation. Kiwi loads its model from the installed `kiwipiepy-model` package;
nothing is downloaded.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

from kiwipiepy import Kiwi, Token

from sentiment_assets.lib.text.emoticons import EMOTICON_TAG, emoticon_spans
from sentiment_assets.lib.text.normalize import normalize, text_hash

# Particles, endings and punctuation carry grammar, not sentiment; dropping them shortens
# sequences for the recurrent models. Emoticons (EMO), jamo runs (SW), emoji (W_EMOJI) and
# exclamations (SF) are kept.
_DROP_TAGS = frozenset(
    {
        "JKS",
        "JKC",
        "JKG",
        "JKO",
        "JKB",
        "JKV",
        "JKQ",
        "JX",
        "JC",
        "SP",
        "SS",
        "SSO",
        "SSC",
        "SE",
        "SO",
    }
)
_NOUN_TAGS = frozenset({"NNG", "NNP"})
CACHE_ENV = "SENTIMENT_TOKEN_CACHE"
"""Texts whose analysis is kept in memory. A training run over the whole NSMC train split wants
it above 600k, so the three morpheme members share one analysis instead of each paying Kiwi."""
_CACHE_SIZE = int(os.environ.get(CACHE_ENV) or 200_000)


@lru_cache(maxsize=1)
def _kiwi() -> Kiwi:
    return Kiwi(num_workers=2)


class _TokenCache:
    """A bounded LRU of text hash → tokens, shared by every caller in the process."""

    def __init__(self, size: int):
        self._size = size
        self._data: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, ...] | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def put(self, key: str, value: tuple[str, ...]) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)


_cache = _TokenCache(_CACHE_SIZE)


def clear_cache() -> None:
    """Forget every cached analysis (benchmarks time tokenization from cold)."""
    _cache.clear()


def _emoticon_pretokens(text: str) -> list[tuple[int, int]]:
    # Kiwi keeps each span as one morpheme (with a tag of its choosing); `_tokens` relabels
    # these spans as EMO.
    return emoticon_spans(text)


def _tokens(text: str, analysed: list[Token]) -> tuple[str, ...]:
    starts = {start for start, _ in emoticon_spans(text)}
    kept = []
    for token in analysed:
        # Interned: the cache then holds each distinct morpheme once, not once per text.
        if token.start in starts:
            kept.append(sys.intern(f"{token.form}/{EMOTICON_TAG}"))
        elif token.tag not in _DROP_TAGS:
            kept.append(sys.intern(f"{token.form}/{token.tag}"))
    return tuple(kept)


def morphemes(texts: Sequence[str]) -> list[list[str]]:
    """`form/TAG` tokens for each text, grammar-only morphemes removed, emoticons kept whole."""
    normalized = [normalize(t) for t in texts]
    keys = [text_hash(t) for t in normalized]
    out: list[tuple[str, ...] | None] = [_cache.get(k) for k in keys]
    missing = [i for i, tokens in enumerate(out) if tokens is None]
    if missing:
        # A list in gives one token list per text; Kiwi's stubs only describe the str overload.
        inputs = [normalized[i] or " " for i in missing]
        analysed: list[list[Token]] = _kiwi().tokenize(  # type: ignore[assignment]
            inputs,
            pretokenized=_emoticon_pretokens,  # type: ignore[arg-type]
        )
        for i, text, tokens in zip(missing, inputs, analysed, strict=True):
            kept = _tokens(text, tokens)
            _cache.put(keys[i], kept)
            out[i] = kept
    return [list(tokens or ()) for tokens in out]


def nouns(texts: Sequence[str]) -> list[list[str]]:
    """Common and proper nouns of each text, for keyword marts."""
    return [
        [tok.rsplit("/", 1)[0] for tok in toks if tok.rsplit("/", 1)[1] in _NOUN_TAGS]
        for toks in morphemes(texts)
    ]
