"""From star ratings to labels, and class weights for the imbalance.

Three classes (the ensemble's `LABELS`): ratings 1–4 are 부정, 5–8 중립, 9–10 긍정. Ratings 5–8
are a weak proxy for "neutral" in a game community, where neutral mostly means informational
posts, but they are the only neutral-ish signal a general corpus offers.

NSMC's binary convention: ratings 1–4 negative, 9–10 positive, 5–8 left out as ambiguous. We keep
it beside the three-class label (`nsmc_binary`: 0 negative, 1 positive, missing for 5–8) so
models can be compared with published NSMC figures on balanced binary data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sentiment_assets.lib.models.base import LABELS

NEGATIVE, NEUTRAL, POSITIVE = 0, 1, 2
_NAME_ALIASES = {
    **{label: i for i, label in enumerate(LABELS)},
    "negative": NEGATIVE,
    "neg": NEGATIVE,
    "neutral": NEUTRAL,
    "neu": NEUTRAL,
    "positive": POSITIVE,
    "pos": POSITIVE,
}


def label_from_rating(rating: int) -> int:
    """The three-class index of a 1–10 star rating."""
    if not 1 <= rating <= 10:
        raise ValueError(f"ratings run from 1 to 10, got {rating}")
    if rating <= 4:
        return NEGATIVE
    return NEUTRAL if rating <= 8 else POSITIVE


def labels_from_ratings(ratings: pd.Series) -> np.ndarray:
    """Three-class indices for a column of 1–10 ratings."""
    values = ratings.to_numpy(dtype=np.int64)
    if len(values) and (values.min() < 1 or values.max() > 10):
        raise ValueError("ratings run from 1 to 10")
    return np.where(values <= 4, NEGATIVE, np.where(values <= 8, NEUTRAL, POSITIVE))


def nsmc_binary_from_ratings(ratings: pd.Series) -> pd.Series:
    """NSMC's binary label: 0 for ratings 1–4, 1 for 9–10, missing for 5–8."""
    values = ratings.astype("Int64")
    binary = pd.Series(pd.NA, index=ratings.index, dtype="Int64")
    binary[values <= 4] = 0
    binary[values >= 9] = 1
    return binary


def labels_from_names(names: pd.Series) -> np.ndarray:
    """Three-class indices from label names (부정/중립/긍정 or negative/neutral/positive)."""
    lowered = names.astype(str).str.strip().str.lower()
    unknown = sorted(set(lowered) - set(_NAME_ALIASES))
    if unknown:
        raise ValueError(f"unknown label names {unknown[:5]}; use {list(LABELS)}")
    return lowered.map(_NAME_ALIASES).to_numpy(dtype=np.int64)


def class_weights(labels: np.ndarray, n_classes: int = len(LABELS)) -> np.ndarray:
    """Inverse-frequency weights that make every present class weigh the same in total.

    A class absent from `labels` gets weight 0 (there is nothing to weigh).
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes).astype(float)
    present = counts > 0
    weights = np.zeros(n_classes)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def example_weights(labels: np.ndarray) -> np.ndarray:
    """Per-example weights from `class_weights`, for losses that take sample weights."""
    labels = np.asarray(labels, dtype=np.int64)
    return class_weights(labels)[labels]


def balanced_binary(frame: pd.DataFrame, *, seed: int = 13) -> pd.DataFrame:
    """Rows with an NSMC-binary label, the larger class down-sampled to the smaller one's size."""
    binary = pd.DataFrame(frame.loc[frame["nsmc_binary"].notna()])
    if binary.empty:
        return binary
    n = int(pd.Series(binary["nsmc_binary"]).value_counts().min())
    parts = [group.sample(n=n, random_state=seed) for _, group in binary.groupby("nsmc_binary")]
    return pd.DataFrame(pd.concat(parts).sort_index())
