"""The word-sentiment lexicon member: one polarity score per morpheme and class.

Each feature (a Kiwi morpheme `form/TAG`, or two adjacent ones such as `안/MAG 좋/VA` so that
negation is not lost) gets a smoothed log-odds score per class: the add-α log-likelihood of the
feature in the class's texts (class-balanced counts of texts containing it), centered over the
classes. A text's class logits are the sum of its features' scores, scaled by one factor fitted
on dev (summed log-odds are over-confident). It is a naive-Bayes model read as a lexicon: every
prediction is a sum over words, so `explain` can list the words that drove it.

Incremental update (self-training): scores computed on new data are blended into the old ones,
0.7 old + 0.3 new; words never seen before are added with their new score.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

from sentiment_assets.lib.models.base import LABELS, LabeledTexts, ModelLoadError, TrainSettings
from sentiment_assets.lib.text.morphemes import morphemes

NAME = "lexicon"
SCORES_FILE = "lexicon.parquet"
CONFIG_FILE = "lexicon.json"
FORMAT_VERSION = 1
OLD_SHARE = 0.7
"""Weight of the existing score when a word is seen again in new data."""
_SCORE_COLUMNS = ("s_neg", "s_neu", "s_pos")


def features(texts: Sequence[str]) -> list[set[str]]:
    """The set of lexicon features of each text: morphemes and adjacent morpheme pairs."""
    out = []
    for tokens in morphemes(texts):
        found = set(tokens)
        found.update(f"{a} {b}" for a, b in pairwise(tokens))
        out.append(found)
    return out


@dataclass
class LexiconUpdate:
    """What an incremental update changed, for the self-training loop's change-rate log."""

    added: int
    blended: int
    polarity_flips: int
    change_rate: float
    """Share of the old words whose polarity (positive minus negative score) changed sign."""


@dataclass
class Lexicon:
    """Per-feature class scores plus a class prior and a logit scale."""

    scores: pd.DataFrame
    """Index: feature; columns s_neg, s_neu, s_pos (centered log-odds) and `count` (texts)."""
    prior: np.ndarray
    scale: float = 1.0
    alpha: float = 1.0
    min_count: int = 2
    last_update: LexiconUpdate | None = None
    _index: dict[str, int] = field(init=False, repr=False)
    _matrix: np.ndarray = field(init=False, repr=False)
    name: str = NAME

    def __post_init__(self) -> None:
        """Build the feature → row lookup used for scoring."""
        self._index = {token: i for i, token in enumerate(self.scores.index)}
        self._matrix = self.scores.loc[:, list(_SCORE_COLUMNS)].to_numpy(dtype=np.float64)

    # --- training -------------------------------------------------------------------------
    @classmethod
    def fit(cls, data: LabeledTexts, *, alpha: float = 1.0, min_count: int = 2) -> Lexicon:
        """Score every feature seen in at least `min_count` texts of `data`."""
        if not len(data.texts):
            raise ValueError("cannot build a lexicon from zero texts")
        weights = data.weights if data.weights is not None else np.ones(len(data.texts))
        per_class: list[dict[str, float]] = [{} for _ in LABELS]
        seen: Counter[str] = Counter()
        for found, label, weight in zip(features(data.texts), data.labels, weights, strict=True):
            counter = per_class[int(label)]
            for token in found:
                counter[token] = counter.get(token, 0.0) + float(weight)
            seen.update(found)
        vocab = sorted(t for t, n in seen.items() if n >= min_count)
        counts = np.array([[c.get(t, 0.0) for c in per_class] for t in vocab], dtype=np.float64)
        counts = counts.reshape(len(vocab), len(LABELS))
        log_lik = np.log((counts + alpha) / (counts.sum(axis=0) + alpha * max(len(vocab), 1)))
        centered = log_lik - log_lik.mean(axis=1, keepdims=True)
        scores = pd.DataFrame(
            centered, index=pd.Index(vocab, name="token"), columns=pd.Index(_SCORE_COLUMNS)
        )
        scores["count"] = [seen[t] for t in vocab]
        class_mass = np.bincount(data.labels.astype(np.int64), weights=weights, minlength=3)
        prior = np.log((class_mass + 1.0) / (class_mass.sum() + len(LABELS)))
        return cls(scores=scores, prior=prior - prior.mean(), alpha=alpha, min_count=min_count)

    def fit_scale(self, dev: LabeledTexts) -> None:
        """Choose the logit scale that minimises the (weighted) log-loss on `dev`."""
        if not len(dev.texts):
            return
        raw = self._raw_logits(dev.texts, scale=1.0)
        labels = dev.labels.astype(np.int64)
        weights = dev.weights if dev.weights is not None else np.ones(len(labels))

        def loss(log_scale: float) -> float:
            logp = log_softmax(raw * np.exp(log_scale), axis=1)
            return float(-(weights * logp[np.arange(len(labels)), labels]).sum() / weights.sum())

        result = minimize_scalar(loss, bounds=(-5.0, 3.0), method="bounded")
        self.scale = float(np.exp(result.x))

    def updated(self, new: LabeledTexts) -> Lexicon:
        """A new lexicon: this one blended 0.7/0.3 with one fitted on `new`; new words added."""
        fresh = Lexicon.fit(new, alpha=self.alpha, min_count=self.min_count)
        old, incoming = self.scores, fresh.scores
        common = old.index.intersection(incoming.index)
        merged = pd.concat([old, incoming.loc[incoming.index.difference(old.index)]])
        cols = list(_SCORE_COLUMNS)
        merged.loc[common, cols] = (
            OLD_SHARE * old.loc[common, cols].to_numpy()
            + (1 - OLD_SHARE) * incoming.loc[common, cols].to_numpy()
        )
        merged.loc[common, "count"] = old.loc[common, "count"] + incoming.loc[common, "count"]
        merged["count"] = merged["count"].astype(np.int64)
        before = np.sign(old["s_pos"] - old["s_neg"])
        after = np.sign(merged.loc[old.index, "s_pos"] - merged.loc[old.index, "s_neg"])
        flips = int((before != after).sum())
        result = Lexicon(
            scores=merged.sort_index(),
            prior=OLD_SHARE * self.prior + (1 - OLD_SHARE) * fresh.prior,
            scale=self.scale,
            alpha=self.alpha,
            min_count=self.min_count,
        )
        result.last_update = LexiconUpdate(
            added=len(incoming.index.difference(old.index)),
            blended=len(common),
            polarity_flips=flips,
            change_rate=flips / max(len(old), 1),
        )
        return result

    # --- prediction -----------------------------------------------------------------------
    def _indicator(self, found: list[set[str]]) -> sp.csr_matrix:
        rows, cols = [], []
        for i, tokens in enumerate(found):
            for token in tokens:
                j = self._index.get(token)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
        data = np.ones(len(rows), dtype=np.float64)
        return sp.csr_matrix((data, (rows, cols)), shape=(len(found), len(self._index)))

    def _raw_logits(self, texts: Sequence[str], *, scale: float) -> np.ndarray:
        summed = np.asarray(self._indicator(features(texts)) @ self._matrix)
        return (summed + self.prior) * scale

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities; a text with no known word gets the class prior."""
        if not len(texts):
            return np.zeros((0, len(LABELS)))
        return softmax(self._raw_logits(texts, scale=self.scale), axis=1)

    def explain(self, text: str, *, top: int = 5) -> dict[str, Any]:
        """The prediction for `text` and the known words that pushed hardest toward it.

        Each word comes with its polarity (positive minus negative score) and its contribution
        to the predicted class's logit; the list is sorted by contribution, largest first.
        """
        proba = self.predict_proba([text])[0]
        predicted = int(proba.argmax())
        words = []
        for token in features([text])[0]:
            j = self._index.get(token)
            if j is None:
                continue
            row = self._matrix[j]
            words.append(
                {
                    "word": token,
                    "polarity": float(row[2] - row[0]),
                    "contribution": float(row[predicted] * self.scale),
                }
            )
        words.sort(key=lambda w: w["contribution"], reverse=True)
        return {
            "label": LABELS[predicted],
            "probabilities": dict(zip(LABELS, map(float, proba), strict=True)),
            "words": words[:top],
        }

    def vocabulary_hash(self) -> str:
        """Identity of the feature set, stored in the manifest and checked by the ensemble."""
        digest = hashlib.sha256("\n".join(self.scores.index).encode("utf-8"))
        return digest.hexdigest()[:16]

    # --- persistence ----------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write the scores as Parquet and the rest as JSON into `directory`."""
        self.scores.reset_index().to_parquet(directory / SCORES_FILE, index=False)
        config = {
            "format_version": FORMAT_VERSION,
            "labels": list(LABELS),
            "prior": [float(x) for x in self.prior],
            "scale": self.scale,
            "alpha": self.alpha,
            "min_count": self.min_count,
            "size": len(self.scores),
        }
        (directory / CONFIG_FILE).write_text(json.dumps(config, ensure_ascii=False, indent=2))

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a saved lexicon; ModelLoadError names the file that is missing or wrong."""
        config_path, scores_path = directory / CONFIG_FILE, directory / SCORES_FILE
        try:
            config = json.loads(config_path.read_text())
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"{config_path} is missing or unreadable: {exc}") from exc
        if config.get("format_version") != FORMAT_VERSION or config.get("labels") != list(LABELS):
            raise ModelLoadError(
                f"{config_path} was written for another format or label set "
                f"(format {config.get('format_version')}, labels {config.get('labels')})"
            )
        try:
            table = pd.read_parquet(scores_path)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"{scores_path} is missing or unreadable: {exc}") from exc
        expected = {"token", *_SCORE_COLUMNS, "count"}
        if not expected <= set(table.columns) or len(table) != config.get("size"):
            raise ModelLoadError(
                f"{scores_path} does not match {config_path}: columns {list(table.columns)}, "
                f"{len(table)} rows, expected {config.get('size')}"
            )
        scores = table.set_index("token")
        if not np.isfinite(scores.loc[:, list(_SCORE_COLUMNS)].to_numpy()).all():
            raise ModelLoadError(f"{scores_path} holds non-finite scores")
        try:
            return cls(
                scores=scores,
                prior=np.asarray(config["prior"], dtype=np.float64),
                scale=float(config["scale"]),
                alpha=float(config["alpha"]),
                min_count=int(config["min_count"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelLoadError(f"{config_path} is incomplete: {exc}") from exc


def train(train: LabeledTexts, dev: LabeledTexts, settings: TrainSettings) -> Lexicon:
    """Fit a lexicon on `train` (or blend `train` into `settings.init_from`), scale it on `dev`.

    Epochs, batch size and device do not apply: counting is one pass on the CPU.
    """
    if settings.init_from is not None:
        lexicon = Lexicon.load(settings.init_from).updated(train)
    else:
        lexicon = Lexicon.fit(train)
    lexicon.fit_scale(dev)
    return lexicon
