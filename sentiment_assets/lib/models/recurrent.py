"""Training plumbing shared by the recurrent members (Keras LSTM and PyTorch BiLSTM).

Both feed length-bucketed batches: texts of similar length share a batch that is cut to its
longest row, so a batch of ten-morpheme reviews runs ten LSTM steps instead of `max_len`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from sentiment_assets.lib.corpus.labels import example_weights as corpus_example_weights
from sentiment_assets.lib.models.base import LabeledTexts, ModelLoadError
from sentiment_assets.lib.models.vocab import Vocabulary

C = TypeVar("C")

CONFIG_FILE = "config.json"


def require_trainable(train: LabeledTexts, dev: LabeledTexts) -> None:
    """Refuse data no recurrent member can learn from or early-stop on."""
    if len(train.texts) == 0:
        raise ValueError("the training set is empty")
    if len(np.unique(train.labels)) < 2:
        raise ValueError("the training set needs at least two classes")
    if len(dev.texts) == 0:
        raise ValueError("the dev set is empty: early stopping needs held-out rows")


def example_weights(data: LabeledTexts) -> np.ndarray:
    """Loss weight per example: the data's own weights, or balanced class weights without them.

    Whoever builds a training set with weights (`corpus.load.labeled`, the retraining mix) has
    already folded class balance into them, with human feedback weighted higher on top;
    balancing again would square the correction and tilt every prediction toward the rarest
    class (on NSMC, 부정 would weigh ten times 긍정 instead of three).
    """
    if data.weights is not None:
        return np.asarray(data.weights, dtype=np.float32)
    return corpus_example_weights(np.asarray(data.labels, dtype=np.int64)).astype(np.float32)


def length_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None = None
) -> list[np.ndarray]:
    """Row indices grouped into batches of similar length.

    Without `rng` the order is deterministic (prediction). With it, rows of equal length are
    shuffled and the batch order is shuffled too, so training still sees random batches.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if rng is None:
        order = np.argsort(lengths, kind="stable")
    else:
        order = np.lexsort((rng.random(len(lengths)), lengths))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)  # type: ignore[arg-type]
    return batches


def trim(matrix: np.ndarray, rows: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The given rows of a padded id matrix, cut to their longest sequence."""
    return matrix[rows, : int(lengths[rows].max())]


def write_config(directory: Path, payload: dict[str, Any]) -> None:
    """Store a member's own configuration next to its weights."""
    (directory / CONFIG_FILE).write_text(json.dumps(payload, ensure_ascii=False, indent=2))


def read_config(directory: Path, member: str) -> dict[str, Any]:
    """Read `config.json` and check it belongs to `member`; ModelLoadError names the file."""
    if not directory.is_dir():
        raise ModelLoadError(f"{directory} is not a model directory")
    path = directory / CONFIG_FILE
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} is missing or unreadable: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("member") != member:
        raise ModelLoadError(f"{path} does not describe a {member!r} model")
    return payload


@dataclass(frozen=True)
class SavedMember(Generic[C]):
    """What both recurrent members read back before building their network."""

    config: C
    max_len: int
    vocab: Vocabulary
    weights: Path
    metrics: dict[str, float] | None


def read_saved(
    directory: Path, member: str, config_class: Callable[..., C], weights_file: str
) -> SavedMember[C]:
    """Config, vocabulary and weights path of a saved member; ModelLoadError names the file."""
    payload = read_config(directory, member)
    try:
        config = config_class(**payload["config"])
        max_len = int(payload["max_len"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"{directory / CONFIG_FILE} is incomplete: {exc}") from exc
    vocab = Vocabulary.load(directory)
    weights = directory / weights_file
    if not weights.is_file():
        raise ModelLoadError(f"{weights} is missing")
    return SavedMember(config, max_len, vocab, weights, payload.get("metrics"))
