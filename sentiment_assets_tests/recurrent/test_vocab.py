from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sentiment_assets.lib.models.base import LabeledTexts, ModelLoadError
from sentiment_assets.lib.models.recurrent import (
    example_weights,
    length_batches,
    require_trainable,
    trim,
)
from sentiment_assets.lib.models.vocab import PAD, UNK, VOCAB_FILE, Vocabulary, lengths

CORPUS = [
    ["좋/VA", "영화/NNG"],
    ["좋/VA", "최악/NNG"],
    ["좋/VA", "영화/NNG", "ㅋㅋ/SW"],
    ["별로/MAG"],
]


def test_build_keeps_the_most_frequent_tokens_above_min_count() -> None:
    vocab = Vocabulary.build(CORPUS, max_size=10, min_count=2)
    assert vocab.tokens == ("<pad>", "<unk>", "좋/VA", "영화/NNG")
    capped = Vocabulary.build(CORPUS, max_size=3, min_count=1)
    assert capped.tokens == ("<pad>", "<unk>", "좋/VA")


def test_ids_and_hash_do_not_depend_on_text_order() -> None:
    forward = Vocabulary.build(CORPUS, min_count=1)
    backward = Vocabulary.build(list(reversed(CORPUS)), min_count=1)
    assert forward.tokens == backward.tokens
    assert forward.hash == backward.hash
    assert Vocabulary.build(CORPUS, min_count=2).hash != forward.hash


def test_encode_truncates_the_tail_pads_and_maps_unknown_and_empty_to_unk() -> None:
    vocab = Vocabulary.build(CORPUS, min_count=1)
    good, film = vocab.ids(["좋/VA", "영화/NNG"], 5)
    matrix = vocab.encode([["좋/VA", "영화/NNG", "좋/VA"], ["없는/NNG"], []], max_len=2)
    assert matrix.dtype == np.int32
    assert matrix.tolist() == [[good, film], [UNK, PAD], [UNK, PAD]]
    assert lengths(matrix).tolist() == [2, 1, 1]
    with pytest.raises(ValueError, match="max_len"):
        vocab.encode([["좋/VA"]], max_len=0)


def test_encode_texts_handles_hostile_text() -> None:
    vocab = Vocabulary.from_texts(["정말 재밌는 영화", "정말 지루한 영화"], min_count=1)
    matrix = vocab.encode_texts(["", "   ", "😀😀", "영화 " * 5000, "great movie"], max_len=8)
    assert matrix.shape == (5, 8)
    assert (lengths(matrix) >= 1).all()
    assert matrix[0].tolist() == matrix[1].tolist() == [UNK] + [PAD] * 7


def test_save_load_round_trip_and_errors_name_the_file(tmp_path: Path) -> None:
    vocab = Vocabulary.build(CORPUS, min_count=1)
    vocab.save(tmp_path)
    assert Vocabulary.load(tmp_path) == vocab
    path = tmp_path / VOCAB_FILE
    payload = json.loads(path.read_text())
    payload["tokens"][2], payload["tokens"][3] = payload["tokens"][3], payload["tokens"][2]
    path.write_text(json.dumps(payload))
    with pytest.raises(ModelLoadError, match=r"vocab\.json is corrupt"):
        Vocabulary.load(tmp_path)
    path.write_text(path.read_text()[:20])
    with pytest.raises(ModelLoadError, match=r"vocab\.json"):
        Vocabulary.load(tmp_path)
    path.unlink()
    with pytest.raises(ModelLoadError, match=r"vocab\.json"):
        Vocabulary.load(tmp_path)


def test_reserved_tokens_and_uniqueness_are_enforced() -> None:
    with pytest.raises(ValueError, match="first two"):
        Vocabulary(("좋/VA", "<unk>"))
    with pytest.raises(ValueError, match="unique"):
        Vocabulary(("<pad>", "<unk>", "좋/VA", "좋/VA"))


def test_example_weights_balance_bare_labels_and_keep_given_weights() -> None:
    bare = LabeledTexts(["a"] * 4, np.array([0, 0, 0, 2]))
    # Two classes present: 0 gets 4 / (2 × 3), 2 gets 4 / (2 × 1).
    np.testing.assert_allclose(example_weights(bare), [2 / 3, 2 / 3, 2 / 3, 2.0], rtol=1e-6)
    # Given weights already hold the class balance (labeled(), the retraining mix): balancing
    # them again would square the correction.
    given = LabeledTexts(["a"] * 4, np.array([0, 0, 0, 2]), np.array([2 / 3, 2 / 3, 2 / 3, 6.0]))
    np.testing.assert_allclose(example_weights(given), [2 / 3, 2 / 3, 2 / 3, 6.0], rtol=1e-6)


def test_length_batches_cover_every_row_once_and_group_similar_lengths() -> None:
    row_lengths = np.array([5, 1, 9, 2, 8, 1, 3])
    batches = length_batches(row_lengths, 3)
    assert [b.tolist() for b in batches] == [[1, 5, 3], [6, 0, 4], [2]]
    shuffled = length_batches(row_lengths, 3, np.random.default_rng(0))
    assert sorted(np.concatenate(shuffled).tolist()) == list(range(7))
    matrix = np.array([[4, 5, 0], [6, 0, 0]])
    assert trim(matrix, np.array([1]), lengths(matrix)).tolist() == [[6]]


@pytest.mark.parametrize(
    ("train_labels", "dev_size", "message"),
    [([], 1, "training set is empty"), ([0, 0], 1, "two classes"), ([0, 2], 0, "dev set")],
)
def test_require_trainable_refuses_unusable_data(
    train_labels: list[int], dev_size: int, message: str
) -> None:
    train = LabeledTexts(["x"] * len(train_labels), np.array(train_labels, dtype=np.int64))
    dev = LabeledTexts(["x"] * dev_size, np.zeros(dev_size, dtype=np.int64))
    with pytest.raises(ValueError, match=message):
        require_trainable(train, dev)
