"""The LSTM member in Keras 3 on TensorFlow: embedding, one LSTM layer, dropout, softmax.

Retraining is always a full retrain from scratch (the seeds' advice for this member): a single
unidirectional LSTM is cheap to train, so a fresh vocabulary and fresh weights track new slang
better than nudging an old model, and it stays the simple baseline the other members are judged
against. Exponential learning-rate decay and dropout keep the short training stable.

It reads syllables by default (`LstmConfig.unit`), where the lexicon and the BiLSTM read Kiwi
morphemes: a member that sees the raw characters keeps what the analyser breaks (typos, slang
spellings, missing spaces), and its mistakes differ from theirs. On NSMC a morpheme LSTM added
nothing to lexicon + BiLSTM (0.887 binary accuracy with or without it), a syllable LSTM lifted
them to 0.893, although alone it scores lower (0.862 vs 0.879).

TensorFlow here is the `tensorflow-cpu` build, so this member trains on the CPU even where a GPU
is present; the PyTorch members are the ones that use CUDA.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Self, cast

import keras
import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from sentiment_assets.lib.models.base import (
    LABELS,
    LabeledTexts,
    ModelLoadError,
    TrainSettings,
    check_proba,
)
from sentiment_assets.lib.models.recurrent import (
    example_weights,
    length_batches,
    read_saved,
    require_trainable,
    trim,
    write_config,
)
from sentiment_assets.lib.models.vocab import Unit, Vocabulary, lengths

log = logging.getLogger(__name__)

NAME = "lstm"
WEIGHTS_FILE = "model.keras"
_FORMAT = 1
_PREDICT_BATCH = 256


@dataclass(frozen=True)
class LstmConfig:
    """Hyperparameters of the LSTM member."""

    vocab_size: int = 20_000
    min_count: int = 2
    embedding_dim: int = 128
    hidden: int = 128
    dropout: float = 0.3
    learning_rate: float = 3e-3
    decay_rate: float = 0.8
    """Learning-rate factor per epoch: big steps first, then settle before early stopping."""
    patience: int = 2
    unit: Unit = "syllable"
    """Tokens the LSTM reads: syllables (characters, spaces marked) or Kiwi morphemes."""

    @property
    def length_factor(self) -> int:
        """Sequence steps per morpheme step: a Korean morpheme averages about two syllables."""
        return 2 if self.unit == "syllable" else 1

    @classmethod
    def saved(cls, **fields: Any) -> LstmConfig:
        """The config of a saved member; members saved before `unit` existed read morphemes."""
        return cls(**{"unit": "morpheme", **fields})


class _Batches(keras.utils.PyDataset):
    """Length-bucketed (ids, label, weight) batches; reshuffled every epoch when seeded."""

    def __init__(
        self,
        ids: np.ndarray,
        labels: np.ndarray,
        weights: np.ndarray,
        batch_size: int,
        seed: int | None,
    ):
        super().__init__()
        self._ids, self._labels, self._weights = ids, labels, weights
        self._lengths = lengths(ids)
        self._batch_size = batch_size
        self._rng = None if seed is None else np.random.default_rng(seed)
        self._batches = length_batches(self._lengths, batch_size, self._rng)

    def __len__(self) -> int:
        return len(self._batches)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = self._batches[index]
        return trim(self._ids, rows, self._lengths), self._labels[rows], self._weights[rows]

    def on_epoch_end(self) -> None:
        if self._rng is not None:
            self._batches = length_batches(self._lengths, self._batch_size, self._rng)


def _build(config: LstmConfig, vocab_size: int) -> keras.Model:
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    # mask_zero makes the LSTM skip PAD steps, so trailing padding never dilutes the state.
    x = keras.layers.Embedding(vocab_size, config.embedding_dim, mask_zero=True, name="embedding")(
        ids
    )
    x = keras.layers.Dropout(config.dropout)(x)
    x = keras.layers.LSTM(config.hidden, name="lstm")(x)
    x = keras.layers.Dropout(config.dropout)(x)
    out = keras.layers.Dense(len(LABELS), activation="softmax", name="proba")(x)
    return keras.Model(ids, out, name=NAME)


class LstmMember:
    """A trained Keras LSTM with its vocabulary."""

    name = NAME

    def __init__(
        self,
        model: keras.Model,
        vocab: Vocabulary,
        config: LstmConfig,
        max_len: int,
        metrics: dict[str, float] | None = None,
    ):
        self.model = model
        self.vocab = vocab
        self.config = config
        self.max_len = max_len
        self.metrics = dict(metrics or {})

    @property
    def vocabulary_hash(self) -> str:
        """The vocabulary's hash, for the version manifest."""
        return self.vocab.hash

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, rows in LABELS order, in the order of `texts`."""
        ids = self.vocab.encode_texts(texts, self.max_len, self.config.unit)
        return self._predict_ids(ids)

    def _predict_ids(self, ids: np.ndarray) -> np.ndarray:
        out = np.zeros((len(ids), len(LABELS)), dtype=np.float64)
        row_lengths = lengths(ids)
        for rows in length_batches(row_lengths, _PREDICT_BATCH):
            batch = np.asarray(self.model.predict_on_batch(trim(ids, rows, row_lengths)))
            out[rows] = batch
        # Softmax in float32 can sum to 1 ± 1e-7; renormalise in float64 for the callers.
        out /= out.sum(axis=1, keepdims=True).clip(min=1e-12)
        return check_proba(out, len(ids))

    def save(self, directory: Path) -> None:
        """Write the Keras model, the vocabulary and `config.json` into `directory`."""
        self.model.save(directory / WEIGHTS_FILE)
        self.vocab.save(directory)
        write_config(
            directory,
            {
                "member": NAME,
                "format": _FORMAT,
                "max_len": self.max_len,
                "vocab_size": len(self.vocab),
                "config": asdict(self.config),
                "metrics": self.metrics,
            },
        )

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Rebuild from `directory`; ModelLoadError naming the file when anything is off."""
        saved = read_saved(Path(directory), NAME, LstmConfig.saved, WEIGHTS_FILE)
        weights = saved.weights
        try:
            model = keras.saving.load_model(weights, compile=False)
        except Exception as exc:  # Keras raises many types for a bad archive; all mean unusable.
            raise ModelLoadError(f"{weights} is corrupt or unreadable: {exc}") from exc
        if not isinstance(model, keras.Model):
            raise ModelLoadError(f"{weights} holds a {type(model).__name__}, not a Keras model")
        _check_shapes(model, len(saved.vocab), weights)
        return cls(model, saved.vocab, saved.config, saved.max_len, saved.metrics)


def _check_shapes(model: Any, vocab_size: int, weights: Path) -> None:
    try:
        rows = int(model.get_layer("embedding").input_dim)
        classes = int(model.output_shape[-1])
    except (ValueError, AttributeError) as exc:
        raise ModelLoadError(f"{weights} is not an LSTM member model: {exc}") from exc
    if rows != vocab_size:
        raise ModelLoadError(
            f"{weights} has {rows} embedding rows but the vocabulary beside it has {vocab_size}"
        )
    if classes != len(LABELS):
        raise ModelLoadError(f"{weights} predicts {classes} classes, expected {len(LABELS)}")


def train(
    train: LabeledTexts,
    dev: LabeledTexts,
    settings: TrainSettings,
    config: LstmConfig | None = None,
) -> LstmMember:
    """Train from scratch with early stopping on dev loss; the best epoch's weights are kept.

    `settings.init_from` is ignored on purpose: this member always retrains fully (see the
    module docstring).
    """
    config = config or LstmConfig()
    require_trainable(train, dev)
    if settings.device == "cuda":
        log.warning("the LSTM member runs on tensorflow-cpu; training on the CPU")
    keras.utils.set_random_seed(settings.seed)
    vocab = Vocabulary.from_texts(
        train.texts, max_size=config.vocab_size, min_count=config.min_count, unit=config.unit
    )
    max_len = settings.max_len * config.length_factor
    train_ids = vocab.encode_texts(train.texts, max_len, config.unit)
    dev_ids = vocab.encode_texts(dev.texts, max_len, config.unit)
    batches = _Batches(
        train_ids,
        np.asarray(train.labels, dtype=np.int32),
        example_weights(train),
        settings.batch_size,
        settings.seed,
    )
    dev_batches = _Batches(
        dev_ids, np.asarray(dev.labels, dtype=np.int32), example_weights(dev), 256, None
    )
    schedule = keras.optimizers.schedules.ExponentialDecay(
        config.learning_rate, decay_steps=len(batches), decay_rate=config.decay_rate
    )
    model = _build(config, len(vocab))
    model.compile(
        # Keras annotates learning_rate as float although it documents and accepts schedules.
        optimizer=keras.optimizers.Adam(cast(Any, schedule)),
        loss="sparse_categorical_crossentropy",
    )
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience, restore_best_weights=True
    )
    history = model.fit(
        batches,
        validation_data=dev_batches,
        epochs=settings.epochs,
        callbacks=[stop],
        verbose=cast(Any, 0),  # Keras annotates verbose as str; 0 is its documented "silent".
    )
    member = LstmMember(model, vocab, config, max_len)
    member.metrics = _dev_metrics(member, dev_ids, dev.labels, history.history)
    return member


def _dev_metrics(
    member: LstmMember, dev_ids: np.ndarray, labels: np.ndarray, history: dict[str, list[float]]
) -> dict[str, float]:
    predicted = member._predict_ids(dev_ids).argmax(axis=1)
    val_loss = history.get("val_loss") or [float("nan")]
    return {
        "dev_accuracy": float(accuracy_score(labels, predicted)),
        "dev_macro_f1": float(f1_score(labels, predicted, average="macro")),
        "dev_loss": float(min(val_loss)),
        "epochs": float(len(val_loss)),
    }
