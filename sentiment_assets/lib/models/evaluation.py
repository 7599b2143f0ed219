"""Quality figures for members and the ensemble: accuracy, macro-F1, confusion, NSMC-binary.

NSMC-binary accuracy follows NSMC's own convention so figures compare with published ones:
only texts rated 1–4 or 9–10, the larger side down-sampled to a 50/50 balance, and the
prediction is the argmax over negative vs positive (neutral ignored).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from sentiment_assets.lib.corpus.labels import balanced_binary
from sentiment_assets.lib.models.base import LABELS
from sentiment_assets.lib.models.calibration import expected_calibration_error, log_loss
from sentiment_assets.lib.models.ensemble import STATUS_OK, EnsemblePrediction


def _macro_f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    # A class never predicted nor present scores 0 rather than warning; sklearn's stub types
    # `zero_division` as str only.
    score = f1_score(
        labels,
        predicted,
        labels=list(range(len(LABELS))),
        average="macro",
        zero_division=0.0,  # type: ignore[arg-type]
    )
    return float(score)


def classification_metrics(proba: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Three-class accuracy, macro-F1, confusion matrix (rows true, columns predicted), ECE."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = proba.argmax(axis=1)
    classes = list(range(len(LABELS)))
    return {
        "n": len(labels),
        "accuracy": float(accuracy_score(labels, predicted)) if len(labels) else 0.0,
        "macro_f1": _macro_f1(labels, predicted) if len(labels) else 0.0,
        "ece": expected_calibration_error(proba, labels),
        "log_loss": log_loss(proba, labels) if len(labels) else 0.0,
        "confusion": confusion_matrix(labels, predicted, labels=classes).tolist(),
    }


def nsmc_binary_accuracy(proba: np.ndarray, binary: np.ndarray) -> float:
    """Accuracy of argmax(p_neg, p_pos) against NSMC binary labels (0 negative, 1 positive)."""
    if not len(binary):
        return 0.0
    predicted = (proba[:, 2] > proba[:, 0]).astype(np.int64)
    return float((predicted == np.asarray(binary, dtype=np.int64)).mean())


def evaluate_prediction(
    prediction: EnsemblePrediction, frame: pd.DataFrame, *, seed: int = 13
) -> dict[str, dict[str, Any]]:
    """Figures for every member and the ensemble on the rows of `frame` (same order).

    `frame` needs `label` and `nsmc_binary` columns (as the corpus loader gives). Rejected
    (empty) texts are left out and counted as `rejected`.
    """
    ok = np.array([s == STATUS_OK for s in prediction.status])
    scored = frame.reset_index(drop=True).loc[ok]
    labels = scored["label"].to_numpy(dtype=np.int64)
    balanced = balanced_binary(scored, seed=seed)
    rows = scored.index.get_indexer(balanced.index)
    binary = balanced["nsmc_binary"].to_numpy(dtype=np.int64)
    results: dict[str, dict[str, Any]] = {}
    for name, proba in {**prediction.members, "ensemble": prediction.proba}.items():
        kept = proba[ok]
        figures = classification_metrics(kept, labels)
        figures["nsmc_binary_accuracy"] = nsmc_binary_accuracy(kept[rows], binary)
        figures["nsmc_binary_n"] = len(binary)
        figures["rejected"] = int((~ok).sum())
        results[name] = figures
    return results
