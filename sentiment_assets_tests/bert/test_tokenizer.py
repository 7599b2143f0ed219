from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from transformers import AutoTokenizer
from transformers.models.bert.tokenization_bert import BertTokenizerFast

from sentiment_assets.lib.models.bert.tokenizer import (
    encode,
    prepare,
    train_tokenizer,
    vocabulary_hash,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("재밌네ㅋㅋㅋㅋㅋ", "재밌네 ㅋㅋ"),
        ("ㅠㅠㅠ슬프다", "ㅠㅠ 슬프다"),
        ("최고!!!!!   진짜", "최고!! 진짜"),
        ("링크 https://inven.co.kr/x 참고", "링크 참고"),
        ("", ""),
    ],
)
def test_prepare_normalises_and_splits_jamo_runs(raw: str, expected: str) -> None:
    assert prepare(raw) == expected


def test_tokenizer_on_real_reviews_keeps_syllables_and_rarely_says_unk(
    nsmc_binary: pd.DataFrame, tmp_path: Path
) -> None:
    train = nsmc_binary.loc[nsmc_binary["split"] == "train", "text"].tolist()
    held_out = nsmc_binary.loc[nsmc_binary["split"] == "test", "text"].tolist()
    tokenizer = train_tokenizer(train, vocab_size=3000)
    assert len(tokenizer) <= 3000

    rows = encode(tokenizer, held_out, 64)
    tokens = sum(len(r) - 2 for r in rows)
    unknown = sum(r.count(tokenizer.unk_token_id) for r in rows)
    assert unknown / tokens < 0.05, unknown / tokens
    # BERT's default accent stripping would split 재 into ᄌ + ᅢ (conjoining jamo).
    pieces = tokenizer.tokenize(prepare("영화 재밌다 ㅋㅋㅋㅋ"))
    assert not any(unicodedata.name(c).startswith("HANGUL CHOSEONG") for p in pieces for c in p)
    assert "ㅋㅋ" in pieces
    assert tokenizer.tokenize(prepare("재밌네ㅋㅋㅋㅋㅋㅋ")) == tokenizer.tokenize(
        prepare("재밌네 ㅋㅋ")
    )

    tokenizer.save_pretrained(tmp_path)
    for reloaded in (
        AutoTokenizer.from_pretrained(tmp_path),
        BertTokenizerFast.from_pretrained(tmp_path),
    ):
        assert encode(reloaded, held_out[:50], 64) == rows[:50]
        assert vocabulary_hash(reloaded) == vocabulary_hash(tokenizer)


def test_tokenizer_refuses_no_texts_and_a_vocabulary_smaller_than_its_specials() -> None:
    with pytest.raises(ValueError, match="no texts"):
        train_tokenizer([])
    with pytest.raises(ValueError, match="special tokens"):
        train_tokenizer(["가나다"], vocab_size=5)
