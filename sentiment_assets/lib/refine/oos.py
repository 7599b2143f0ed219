"""Out-of-sample probabilities and confident-learning scores for the labels being refined.

Why out-of-sample: the ensemble was trained on many of the very labels we are judging, so it
tends to repeat their mistakes back (a memorised wrong label looks "confident"). A model that
never saw a post's label while predicting it — k-fold cross-validation — cannot echo it, and
its disagreement with the label is real evidence (the confident-learning premise).

The cheap model is TF-IDF over character 1–3-grams within word boundaries plus word unigrams
and bigrams, with a class-balanced logistic regression. Characters suit Korean: agglutinated
endings (좋았, 좋네, 좋아요) share their stems without a morpheme analyser, and the whole k-fold
pass over a few thousand posts takes seconds. The TF-IDF vocabulary is fitted once on all
texts: it never sees a label, so it leaks nothing into the folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from sentiment_assets.lib.models.base import LABELS

MIN_PER_CLASS = 2
"""A class needs this many examples to be held out in one fold and learned from in the others."""


class NotEnoughLabels(ValueError):
    """Too few labeled posts (or too few of some class) for cross-validated predictions."""


@dataclass(frozen=True)
class OosResult:
    """Cross-validated probabilities over LABELS and the confident-learning verdicts."""

    proba: np.ndarray
    """(n, len(LABELS)); classes absent from the labels get probability 0."""
    is_label_issue: np.ndarray
    """cleanlab.filter.find_label_issues: the label is likely wrong."""
    label_error_score: np.ndarray
    """1 - self-confidence (the out-of-sample probability of the given label), in [0, 1]."""
    folds: int
    classes: tuple[int, ...]


def vectorize(texts: Sequence[str]) -> sp.csr_matrix:
    """TF-IDF features (character 1–3-grams in words, word 1–2-grams) of `texts`."""
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True, max_features=200_000
    )
    words = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        min_df=2,
        sublinear_tf=True,
        token_pattern=r"(?u)\S+",
        max_features=200_000,
    )
    texts = list(texts)
    try:
        char_x = chars.fit_transform(texts)
    except ValueError:
        # Every n-gram occurs once (a tiny or degenerate corpus): keep them all.
        char_x = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3)).fit_transform(texts)
    try:
        word_x = words.fit_transform(texts)
    except ValueError:
        return sp.csr_matrix(char_x)
    return sp.csr_matrix(sp.hstack([char_x, word_x]))


def classifier(c: float = 2.0, seed: int = 13) -> LogisticRegression:
    """The cheap model: class-balanced logistic regression."""
    return LogisticRegression(C=c, class_weight="balanced", max_iter=1000, random_state=seed)


def out_of_sample(
    texts: Sequence[str], labels: np.ndarray, *, folds: int = 5, seed: int = 13
) -> OosResult:
    """k-fold out-of-sample probabilities of `labels` (class indices into LABELS) and flags.

    Raises:
        NotEnoughLabels: fewer than two classes, or a class with fewer than MIN_PER_CLASS posts.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise NotEnoughLabels(f"need at least two classes, got {len(classes)}")
    if counts.min() < MIN_PER_CLASS:
        rare = [LABELS[c] for c, n in zip(classes, counts, strict=True) if n < MIN_PER_CLASS]
        raise NotEnoughLabels(f"classes {rare} have fewer than {MIN_PER_CLASS} posts")
    k = int(min(folds, counts.min()))
    x = vectorize(texts)
    # Work in the present classes only (0..m-1): cleanlab expects every column to be a class
    # that occurs in the labels.
    local = np.searchsorted(classes, labels)
    proba_local = np.zeros((len(labels), len(classes)))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(x, local):
        model = classifier(seed=seed).fit(x[train_idx], local[train_idx])
        proba_local[test_idx] = model.predict_proba(x[test_idx])
    # n_jobs=1: with more, cleanlab forks a multiprocessing pool, and a fork of a process that
    # holds DuckDB's (or any library's) threads mid-lock can hang forever; one class-pruning
    # pass over a round's posts takes milliseconds anyway.
    issues = find_label_issues(local, proba_local, filter_by="prune_by_noise_rate", n_jobs=1)
    quality = get_label_quality_scores(local, proba_local, method="self_confidence")
    proba = np.zeros((len(labels), len(LABELS)))
    proba[:, classes] = proba_local
    return OosResult(
        proba=proba,
        is_label_issue=np.asarray(issues, dtype=bool),
        label_error_score=np.clip(1.0 - np.asarray(quality, dtype=np.float64), 0.0, 1.0),
        folds=k,
        classes=tuple(int(c) for c in classes),
    )
