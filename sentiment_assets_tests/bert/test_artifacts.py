"""A damaged saved member never loads half-way: every case names the file that is wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from sentiment_assets.lib.models.base import ModelLoadError
from sentiment_assets.lib.models.bert import BertMember
from sentiment_assets.lib.models.bert.tokenizer import train_tokenizer


def _load_error(directory: Path) -> str:
    with pytest.raises(ModelLoadError) as caught:
        BertMember.load(directory, device="cpu")
    return str(caught.value)


def test_missing_directory(tmp_path: Path) -> None:
    assert str(tmp_path / "nowhere") in _load_error(tmp_path / "nowhere")


@pytest.mark.parametrize(
    "name", ["model.safetensors", "config.json", "tokenizer.json", "bert_member.json"]
)
def test_missing_file_is_named(saved_member: Path, name: str) -> None:
    (saved_member / name).unlink()
    assert name in _load_error(saved_member)


def test_truncated_weights_are_named(saved_member: Path) -> None:
    weights = saved_member / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    message = _load_error(saved_member)
    assert "model.safetensors" in message and "corrupt or truncated" in message


@pytest.mark.parametrize("name", ["config.json", "bert_member.json"])
def test_corrupt_json_is_named(saved_member: Path, name: str) -> None:
    (saved_member / name).write_text("{not json")
    assert name in _load_error(saved_member)


def test_weights_missing_a_tensor_are_refused(saved_member: Path) -> None:
    weights = saved_member / "model.safetensors"
    state = load_file(weights)
    del state["classifier.weight"]
    save_file(state, weights)
    message = _load_error(saved_member)
    assert "model.safetensors" in message and "classifier.weight" in message


def test_weights_of_another_shape_are_refused(saved_member: Path) -> None:
    config = json.loads((saved_member / "config.json").read_text())
    config["intermediate_size"] *= 2
    (saved_member / "config.json").write_text(json.dumps(config))
    message = _load_error(saved_member)
    assert "model.safetensors" in message and "size mismatch" in message


def test_a_tokenizer_larger_than_the_embedding_is_refused(saved_member: Path) -> None:
    syllables = [chr(c) for c in range(0xAC00, 0xB400)]  # 2,048 distinct characters
    other = train_tokenizer(syllables, vocab_size=4000, limit_alphabet=3000, min_frequency=1)
    assert len(other) > 2000
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (saved_member / name).unlink()
    other.save_pretrained(saved_member)
    message = _load_error(saved_member)
    assert "tokenizer.json" in message and "config.json" in message


def test_a_swapped_tokenizer_of_the_same_size_is_refused(
    saved_member: Path, tmp_path: Path
) -> None:
    # Same size, different pieces: only the recorded vocabulary fingerprint can tell.
    vocab_file = json.loads((saved_member / "tokenizer.json").read_text())
    vocab = vocab_file["model"]["vocab"]
    first, second = sorted(vocab, key=vocab.get)[10:12]
    vocab[first], vocab[second] = vocab[second], vocab[first]
    (saved_member / "tokenizer.json").write_text(json.dumps(vocab_file, ensure_ascii=False))
    message = _load_error(saved_member)
    assert "tokenizer.json" in message and "vocabulary hash" in message


def test_labels_of_another_model_are_refused(saved_member: Path) -> None:
    meta = json.loads((saved_member / "bert_member.json").read_text())
    meta["labels"] = ["neg", "pos"]
    (saved_member / "bert_member.json").write_text(json.dumps(meta))
    assert "bert_member.json" in _load_error(saved_member)


def test_an_intact_copy_still_loads(saved_member: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(saved_member, copy)
    assert BertMember.load(copy, device="cpu").max_len == 32
