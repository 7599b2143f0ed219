"""Temperature scaling and expected calibration error.

Temperature scaling divides log-probabilities by one scalar T fitted on held-out data (dev, never
test) by minimising the log-loss: T > 1 softens over-confident models, T < 1 sharpens timid ones.
It never changes the argmax, so accuracy is untouched and only confidence moves.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

_EPS = 1e-12
T_BOUNDS = (0.05, 20.0)


def _log(probs: np.ndarray) -> np.ndarray:
    return np.log(np.clip(probs, _EPS, 1.0))


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities re-scaled by `temperature` (rows of `probs` must sum to 1)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if not len(probs):
        return probs
    return softmax(_log(probs) / temperature, axis=1)


def log_loss(probs: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean (optionally weighted) negative log-likelihood of the true labels."""
    labels = np.asarray(labels, dtype=np.int64)
    picked = _log(probs[np.arange(len(labels)), labels])
    w = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype=np.float64)
    return float(-(w * picked).sum() / max(w.sum(), _EPS))


def fit_temperature(
    probs: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """The temperature minimising the log-loss of `probs` on `labels`; 1.0 without data."""
    if not len(labels):
        return 1.0
    logits = _log(probs)
    labels = np.asarray(labels, dtype=np.int64)
    w = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype=np.float64)

    def loss(log_t: float) -> float:
        logp = log_softmax(logits / np.exp(log_t), axis=1)
        return float(-(w * logp[np.arange(len(labels)), labels]).sum() / w.sum())

    bounds = (float(np.log(T_BOUNDS[0])), float(np.log(T_BOUNDS[1])))
    result = minimize_scalar(loss, bounds=bounds, method="bounded")
    return float(np.exp(result.x))


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, *, bins: int = 15) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins.

    Confidence is the max probability; each bin's |accuracy - mean confidence| is weighted by the
    share of predictions in it.
    """
    if not len(labels):
        return 0.0
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)
