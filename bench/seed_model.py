"""The seed project's model, rebuilt from its description, as a baseline for the benchmarks.

Seed: Okt tokens, max length 60, vocabulary 20k, embedding 128, BiLSTM 128 then BiLSTM 64,
dense 64, dropout 0.3, three classes, early stopping. Okt needs KoNLPy and a JVM, neither of
which this project installs, so the tokens here come from Kiwi (same morpheme granularity;
Kiwi is the faster analyser, so the seed's real end-to-end speed is lower than measured here).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras
import numpy as np

from sentiment_assets.lib.text.morphemes import morphemes

MAX_LEN = 60
VOCAB = 20_000


@dataclass
class SeedModel:
    vocab: dict[str, int]
    model: keras.Model
    train_seconds: float = 0.0
    epochs_run: int = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        ids = np.zeros((len(texts), MAX_LEN), dtype=np.int32)
        for i, tokens in enumerate(morphemes(texts)):
            row = [self.vocab.get(t, 1) for t in tokens[:MAX_LEN]]
            ids[i, : len(row)] = row
        return ids

    def predict_proba(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        return np.asarray(self.model.predict(self.encode(texts), batch_size=batch_size, verbose=0))


def _network() -> keras.Model:
    inputs = keras.Input(shape=(MAX_LEN,), dtype="int32")
    x = keras.layers.Embedding(VOCAB, 128, mask_zero=True)(inputs)
    x = keras.layers.Bidirectional(keras.layers.LSTM(128, return_sequences=True))(x)
    x = keras.layers.Bidirectional(keras.layers.LSTM(64))(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_seed(
    texts: Sequence[str],
    labels: np.ndarray,
    dev_texts: Sequence[str],
    dev_labels: np.ndarray,
    *,
    epochs: int = 3,
    batch_size: int = 128,
) -> SeedModel:
    keras.utils.set_random_seed(13)
    started = time.perf_counter()
    counts = Counter(t for tokens in morphemes(texts) for t in tokens)
    vocab = {t: i + 2 for i, (t, _) in enumerate(counts.most_common(VOCAB - 2))}
    seed = SeedModel(vocab=vocab, model=_network())
    history = seed.model.fit(
        seed.encode(texts),
        labels,
        validation_data=(seed.encode(dev_texts), dev_labels),
        epochs=epochs,
        batch_size=batch_size,
        callbacks=[keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True)],
        verbose=0,
    )
    seed.train_seconds = time.perf_counter() - started
    seed.epochs_run = len(history.history["loss"])
    return seed
