"""A WordPiece tokenizer trained on our own corpus, loadable as a standard BERT tokenizer.

In transformers 5 `BertTokenizer` is the Rust-backed fast tokenizer (`BertTokenizerFast` is an
alias of it), so what we save loads with `AutoTokenizer` and with any BERT code.

Two Korean-specific choices matter. Accent stripping is off: BERT's default decomposes text to
NFD before stripping accents, which splits every Hangul syllable into jamo and throws away the
syllable structure (KcBERT and KoELECTRA turn it off for the same reason). And jamo runs
(ㅋㅋ, ㅠㅠ) are cut away from the syllables they are glued to, so "재밌네ㅋㅋ" shares the piece
"재밌네" with "재밌네" instead of becoming a rarer whole word; the runs themselves are capped
at two by `normalize`, so laughter of any length maps to the same token.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import BertTokenizer, PreTrainedTokenizerBase

from sentiment_assets.lib.text.normalize import normalize

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

# A run of compatibility jamo (ㄱ-ㅎ, ㅏ-ㅣ) next to a Hangul syllable, in either order.
_JAMO_AFTER_SYLLABLE = re.compile(r"([가-힣])([ㄱ-ㅣ]+)")
_SYLLABLE_AFTER_JAMO = re.compile(r"([ㄱ-ㅣ]+)([가-힣])")
_WORD_START = re.compile(r"(?:^|(?<=\s))\S", re.MULTILINE)


def prepare(text: str) -> str:
    """Normalise one text the way the tokenizer was trained: `normalize`, then split jamo runs."""
    text = normalize(text)
    text = _JAMO_AFTER_SYLLABLE.sub(r"\1 \2", text)
    return _SYLLABLE_AFTER_JAMO.sub(r"\1 \2", text)


def prepare_all(texts: Iterable[str]) -> list[str]:
    """`prepare` over many texts."""
    return [prepare(text) for text in texts]


def encode(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_len: int) -> list:
    """Token ids per text, `prepare`d, with [CLS]/[SEP] and cut to `max_len` (head kept)."""
    if not texts:
        return []
    return tokenizer(prepare_all(texts), truncation=True, max_length=max_len)["input_ids"]


def train_tokenizer(
    texts: Sequence[str],
    *,
    vocab_size: int = 8000,
    min_frequency: int = 2,
    limit_alphabet: int | None = None,
) -> BertTokenizer:
    """Train a cased WordPiece vocabulary on `texts` and wrap it as a `BertTokenizer`.

    Args:
        texts: Raw texts; `prepare` is applied here.
        vocab_size: Target vocabulary size including the special tokens.
        min_frequency: Pieces seen fewer times are not merged into the vocabulary.
        limit_alphabet: Most single characters kept; a word with a rarer character becomes
            [UNK]. Defaults to a quarter of the vocabulary (each character may also need its
            "##" form), which keeps the common Hangul syllables and leaves room for longer
            pieces.

    Returns:
        A tokenizer whose `save_pretrained` directory loads with `AutoTokenizer`.
    """
    if not texts:
        raise ValueError("cannot train a tokenizer on no texts")
    if vocab_size <= len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must exceed the {len(SPECIAL_TOKENS)} special tokens")
    prepared = prepare_all(texts)
    backend = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False
    )
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    alphabet, continuing = _alphabet(prepared, limit_alphabet or vocab_size // 4)
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        # Declaring the "##x" pieces up front gives them fixed ids; the trainer would otherwise
        # number them in hash-map order, which changes its tie-breaking and so its vocabulary
        # from run to run (huggingface/tokenizers#1794). Only `vocab` below is kept, so they
        # end up as ordinary pieces, not special tokens.
        special_tokens=[*SPECIAL_TOKENS, *continuing],
        initial_alphabet=alphabet,
        limit_alphabet=len(alphabet),
        continuing_subword_prefix="##",
        show_progress=False,
    )
    backend.train_from_iterator(prepared, trainer=trainer, length=len(prepared))
    # Sorted so that ids follow from the pieces alone. Rebuilding from the vocabulary gives
    # exactly BERT's pipeline (normaliser, pre-tokenizer, [CLS] ... [SEP] template), so any BERT
    # code can load what we save.
    pieces = sorted(set(backend.get_vocab()) - set(SPECIAL_TOKENS), key=_piece_order)
    vocab = {token: i for i, token in enumerate([*SPECIAL_TOKENS, *pieces])}
    return BertTokenizer(vocab=vocab, do_lower_case=False, strip_accents=False)


def _alphabet(texts: Sequence[str], limit: int) -> tuple[list[str], list[str]]:
    """The `limit` most frequent characters (ties by code point) and their "##" forms.

    The trainer's own cut breaks ties among equally rare characters at random; choosing the
    alphabet here makes the vocabulary repeatable. A "##x" form is listed for each kept
    character that follows another inside a word, punctuation excepted (BERT's pre-tokenizer
    always splits it off on its own).
    """
    joined = "\n".join(texts)
    counts = Counter(joined)
    ranked = sorted(
        ((ch, n) for ch, n in counts.items() if not ch.isspace()),
        key=lambda item: (-item[1], item[0]),
    )
    alphabet = sorted(ch for ch, _ in ranked[:limit])
    inside = set(_WORD_START.sub(" ", joined))
    continuing = [f"##{ch}" for ch in alphabet if ch in inside and not _is_punctuation(ch)]
    return alphabet, continuing


def _is_punctuation(ch: str) -> bool:
    # BERT's definition: every ASCII symbol plus Unicode punctuation.
    return (ch.isascii() and not ch.isalnum()) or unicodedata.category(ch).startswith("P")


def _piece_order(piece: str) -> tuple[int, bool, str]:
    stem = piece.removeprefix("##")
    return len(stem), piece.startswith("##"), stem


def vocabulary_hash(tokenizer: PreTrainedTokenizerBase) -> str:
    """A stable fingerprint of the token -> id mapping, recorded in manifests."""
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    digest = hashlib.sha256("\n".join(f"{i}\t{t}" for t, i in vocab).encode("utf-8"))
    return digest.hexdigest()[:32]


def special_id(tokenizer: PreTrainedTokenizerBase, token: str) -> int:
    """The id of a special token ("pad", "mask", ...); an error if the tokenizer lacks it."""
    value = getattr(tokenizer, f"{token}_token_id", None)
    if not isinstance(value, int):
        raise ValueError(f"the tokenizer has no {token} token")
    return value
