"""The BERT ensemble member: fine-tuned encoder + tokenizer, saved as safetensors.

A saved member is a directory that also loads as a plain Hugging Face checkpoint
(config.json, model.safetensors, tokenizer files) plus `bert_member.json` with the maximum
length and the vocabulary fingerprint. Loading checks every piece against the others and fails
with ModelLoadError naming the file, so prediction never runs on a half-loaded model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from sentiment_assets.lib.models.base import LABELS, ModelLoadError, check_proba
from sentiment_assets.lib.models.bert.finetune import batched_logits
from sentiment_assets.lib.models.bert.runtime import pick_device
from sentiment_assets.lib.models.bert.tokenizer import encode, special_id, vocabulary_hash

MEMBER_FILE = "bert_member.json"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.json"


class BertMember:
    """A fine-tuned BERT classifier over `LABELS`."""

    name = "bert"

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        max_len: int,
        info: dict[str, Any] | None = None,
        batch_size: int = 128,
    ):
        """Wrap a model with `len(LABELS)` outputs and its tokenizer."""
        if model.config.num_labels != len(LABELS):
            raise ValueError(f"model has {model.config.num_labels} outputs, not {len(LABELS)}")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_len = max_len
        self.info = info or {}
        self.batch_size = batch_size

    @property
    def vocabulary_hash(self) -> str:
        """Fingerprint of the tokenizer's vocabulary."""
        return vocabulary_hash(self.tokenizer)

    @property
    def metrics(self) -> dict[str, float]:
        """Dev metrics of the chosen epoch, as recorded at training time."""
        return dict(self.info.get("metrics", {}))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities per text; texts are cut to `max_len` tokens (the head kept)."""
        rows = encode(self.tokenizer, list(texts), self.max_len)
        pad_id = special_id(self.tokenizer, "pad")
        logits = batched_logits(self.model, rows, pad_id, self.batch_size).astype(np.float64)
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        return check_proba(proba / proba.sum(axis=1, keepdims=True), len(texts))

    def save(self, directory: Path) -> None:
        """Write weights (safetensors), config, tokenizer and `bert_member.json`."""
        directory = Path(directory)
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        save_file(state, directory / WEIGHTS_FILE, metadata={"format": "pt"})
        self.model.config.to_json_file(directory / CONFIG_FILE)
        self.tokenizer.save_pretrained(directory)
        meta = {
            "labels": list(LABELS),
            "max_len": self.max_len,
            "vocab_size": len(self.tokenizer),
            "vocabulary_hash": self.vocabulary_hash,
            "info": self.info,
        }
        (directory / MEMBER_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2))

    @classmethod
    def load(cls, directory: Path, *, device: str = "auto") -> Self:
        """Rebuild a saved member; raise ModelLoadError naming the file that is wrong."""
        directory = Path(directory)
        if not directory.is_dir():
            raise ModelLoadError(f"BERT model directory {directory} does not exist")
        meta_path = directory / MEMBER_FILE
        try:
            meta = json.loads(meta_path.read_text())
            max_len, vocab_hash = int(meta["max_len"]), str(meta["vocabulary_hash"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelLoadError(f"{meta_path} is missing or unreadable: {exc}") from exc
        if meta.get("labels") != list(LABELS):
            raise ModelLoadError(f"{meta_path} was trained for labels {meta.get('labels')}")
        config = _read_config(directory / CONFIG_FILE)
        tokenizer = _read_tokenizer(directory)
        if len(tokenizer) > config.vocab_size or vocabulary_hash(tokenizer) != vocab_hash:
            raise ModelLoadError(
                f"{directory / TOKENIZER_FILE} does not match the model: {len(tokenizer)} tokens "
                f"for an embedding of {config.vocab_size} rows in {directory / CONFIG_FILE}, "
                f"vocabulary hash {vocabulary_hash(tokenizer)} vs {vocab_hash} recorded"
            )
        model = AutoModelForSequenceClassification.from_config(config)
        _load_weights(model, directory / WEIGHTS_FILE)
        model.to(pick_device(device))
        return cls(model, tokenizer, max_len=max_len, info=meta.get("info") or {})


def _read_config(path: Path) -> Any:
    if not path.is_file():
        raise ModelLoadError(f"{path} is missing")
    try:
        config = AutoConfig.from_pretrained(path.parent, local_files_only=True)
    except Exception as exc:
        raise ModelLoadError(f"{path} is unreadable: {exc}") from exc
    if config.num_labels != len(LABELS):
        raise ModelLoadError(f"{path} describes {config.num_labels} classes, not {len(LABELS)}")
    return config


def _read_tokenizer(directory: Path) -> PreTrainedTokenizerBase:
    path = directory / TOKENIZER_FILE
    if not path.is_file():
        raise ModelLoadError(f"{path} is missing")
    try:
        return AutoTokenizer.from_pretrained(directory, local_files_only=True)
    except Exception as exc:
        raise ModelLoadError(f"{path} is unreadable: {exc}") from exc


def _load_weights(model: PreTrainedModel, path: Path) -> None:
    if not path.is_file():
        raise ModelLoadError(f"{path} is missing")
    try:
        state = load_file(path)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} is corrupt or truncated: {exc}") from exc
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(f"{path} does not fit {CONFIG_FILE}: {exc}") from exc
