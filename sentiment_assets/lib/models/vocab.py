"""A token vocabulary for the recurrent members, and the padding that turns texts into ids.

Tokens are Kiwi morphemes (`unit="morpheme"`) or syllables (`unit="syllable"`: each character
of the normalised text, with `▁` marking the spaces). Syllables are the unit of a model that
should see what the morpheme analyser hides or breaks: typos, slang spellings, spacing.

Ids 0 and 1 are reserved: `PAD` fills short sequences and `UNK` stands for any morpheme outside
the vocabulary. A text that yields no morphemes at all (empty, whitespace, punctuation only)
encodes as a single `UNK`, so every text reaches the network with at least one step and gets
the model's defined "nothing known" prediction instead of an empty sequence the LSTM kernels
reject. Sequences keep their head and drop the tail past `max_len`, like `post_text` does with
characters: the opinion in a review or post usually comes first.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from sentiment_assets.lib.models.base import ModelLoadError
from sentiment_assets.lib.text.morphemes import morphemes
from sentiment_assets.lib.text.normalize import MAX_CHARS, normalize

PAD = 0
UNK = 1
PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"
SPACE_TOKEN = "▁"
VOCAB_FILE = "vocab.json"
_FORMAT = 1
Unit = Literal["morpheme", "syllable"]
UNITS: tuple[str, ...] = ("morpheme", "syllable")


@dataclass(frozen=True)
class Vocabulary:
    """Token ↔ id mapping; `tokens[i]` is the morpheme with id `i`."""

    tokens: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check the reserved ids and uniqueness, then build the lookup table."""
        if self.tokens[:2] != (PAD_TOKEN, UNK_TOKEN):
            raise ValueError(f"the first two tokens must be {PAD_TOKEN!r} and {UNK_TOKEN!r}")
        index = {token: i for i, token in enumerate(self.tokens)}
        if len(index) != len(self.tokens):
            raise ValueError("vocabulary tokens must be unique")
        object.__setattr__(self, "_index", index)

    @classmethod
    def build(
        cls, token_lists: Iterable[Sequence[str]], *, max_size: int = 20_000, min_count: int = 2
    ) -> Vocabulary:
        """The `max_size` most frequent morphemes seen at least `min_count` times.

        Ties are broken by the token itself so the same corpus always gives the same ids (and
        the same hash), whatever order the texts came in.
        """
        if max_size < 3:
            raise ValueError("max_size must leave room for PAD, UNK and at least one token")
        counts = Counter(token for tokens in token_lists for token in tokens)
        ranked = sorted(
            (item for item in counts.items() if item[1] >= min_count),
            key=lambda item: (-item[1], item[0]),
        )
        kept = [token for token, _ in ranked[: max_size - 2]]
        return cls((PAD_TOKEN, UNK_TOKEN, *kept))

    @classmethod
    def from_texts(
        cls,
        texts: Sequence[str],
        *,
        max_size: int = 20_000,
        min_count: int = 2,
        unit: Unit = "morpheme",
    ) -> Vocabulary:
        """Build from raw texts, tokenized as `tokenize` does at prediction time."""
        return cls.build(tokenize(texts, unit), max_size=max_size, min_count=min_count)

    def __len__(self) -> int:
        """Number of ids, PAD and UNK included (the embedding's row count)."""
        return len(self.tokens)

    @property
    def hash(self) -> str:
        """Stable identity of the id assignment, stored as the manifest's vocabulary_hash."""
        digest = hashlib.sha256("\n".join(self.tokens).encode("utf-8"))
        return digest.hexdigest()[:16]

    def ids(self, tokens: Sequence[str], max_len: int) -> list[int]:
        """Ids of the first `max_len` tokens; unknown ones become UNK, none at all one UNK."""
        out = [self._index.get(token, UNK) for token in tokens[:max_len]]
        return out or [UNK]

    def encode(self, token_lists: Sequence[Sequence[str]], max_len: int) -> np.ndarray:
        """An (n, max_len) int32 matrix, each row's ids followed by PAD."""
        if max_len < 1:
            raise ValueError("max_len must be at least 1")
        matrix = np.full((len(token_lists), max_len), PAD, dtype=np.int32)
        for row, tokens in enumerate(token_lists):
            ids = self.ids(tokens, max_len)
            matrix[row, : len(ids)] = ids
        return matrix

    def encode_texts(
        self, texts: Sequence[str], max_len: int, unit: Unit = "morpheme"
    ) -> np.ndarray:
        """Tokenize (in the vocabulary's own `unit`) and encode raw texts."""
        return self.encode(tokenize(texts, unit), max_len)

    def save(self, directory: Path) -> None:
        """Write `vocab.json` into `directory`."""
        payload = {"format": _FORMAT, "hash": self.hash, "tokens": list(self.tokens)}
        (directory / VOCAB_FILE).write_text(json.dumps(payload, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> Vocabulary:
        """Read `vocab.json`; raise ModelLoadError naming the file when it is unusable."""
        path = directory / VOCAB_FILE
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            vocab = cls(tuple(payload["tokens"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelLoadError(f"{path} is missing or unreadable: {exc}") from exc
        if payload.get("hash") != vocab.hash:
            raise ModelLoadError(f"{path} is corrupt: its tokens do not match its stored hash")
        return vocab


def tokenize(texts: Sequence[str], unit: Unit = "morpheme") -> list[list[str]]:
    """Morphemes or syllables of each text, read no further than `MAX_CHARS` characters.

    Cutting before Kiwi keeps a 10,000-character paste from costing more than a normal post;
    `max_len` tokens come well inside that many characters.
    """
    heads = [normalize(text)[:MAX_CHARS] for text in texts]
    if unit == "syllable":
        return [list(head.replace(" ", SPACE_TOKEN)) for head in heads]
    if unit != "morpheme":
        raise ValueError(f"unit must be one of {UNITS}, not {unit!r}")
    return morphemes(heads)


def lengths(matrix: np.ndarray) -> np.ndarray:
    """Number of non-PAD ids per row (at least 1, see the module docstring)."""
    return np.maximum((matrix != PAD).sum(axis=1), 1)
