"""The weak labeler: with no LLM configured, the current ensemble labels and its rows say so.

Its labels are the model's own predictions, so training on them only reinforces what the model
already believes; every row is marked `is_weak` for refinement to weigh (or send to people), and
an LLM run later relabels posts that only have weak labels. The ensemble is reached through
the small `Predictor` protocol, so this module does not import the models.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, cast

import numpy as np

from sentiment_assets.lib.labeling.errors import LabelingConfigError
from sentiment_assets.lib.labeling.labeler import LabelingResult
from sentiment_assets.lib.labeling.prompt import looks_like_instruction
from sentiment_assets.lib.labeling.records import LabelAttempt, PostToLabel, UsageSummary
from sentiment_assets.lib.models.base import LABELS, ModelLoadError
from sentiment_assets.lib.text.normalize import text_hash

DEFAULT_LOADER = "sentiment_assets.lib.registry:load_champion"
"""`module:function` taking the models folder. The registry champion, so weak labels never come
from a challenger the gate refused; the newest ensemble serves while none is registered."""


class Predictor(Protocol):
    """What the weak labeler needs from a model."""

    @property
    def version(self) -> str:
        """The model version recorded on every row."""
        ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of shape (len(texts), len(LABELS))."""
        ...


def load_predictor(models_root: Path, loader: str = DEFAULT_LOADER) -> Predictor:
    """Load the current model with `loader` ("module:function"), or say clearly why not.

    Raises:
        LabelingConfigError: the loader cannot be imported, or no trained model exists yet.
    """
    module_name, _, func_name = loader.partition(":")
    if not func_name:
        raise LabelingConfigError(f"weak loader must look like 'module:function', got {loader!r}")
    try:
        func = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise LabelingConfigError(
            f"weak labeling needs the ensemble, but {loader} cannot be imported ({exc}). "
            "Configure an LLM (provider openai or gemini) or install the ensemble code."
        ) from exc
    try:
        return cast(Callable[[Path], Predictor], func)(models_root)
    except ModelLoadError as exc:
        raise LabelingConfigError(
            f"weak labeling needs a trained ensemble, and none could be loaded from "
            f"{models_root}: {exc}. Train one first (`sentiment train`, or materialize "
            "`ensemble_model`), or configure an LLM (provider openai or gemini)."
        ) from exc


class WeakLabeler:
    """Labels with the ensemble's argmax; confidence is its (calibrated) top probability."""

    @property
    def provider_name(self) -> str:
        """Always "weak"."""
        return "weak"

    @property
    def prompt_version(self) -> str | None:
        """None: the ensemble reads no prompt."""
        return None

    def __init__(self, predictor: Predictor, *, batch_size: int = 256):
        """Wrap `predictor`; `batch_size` texts go to `predict_proba` at a time."""
        self.predictor = predictor
        self.batch_size = batch_size

    @property
    def model(self) -> str:
        """The model version, e.g. `ensemble@20260101T000000Z`."""
        return f"ensemble@{self.predictor.version}"

    def _attempt(self, post: PostToLabel, **fields: object) -> LabelAttempt:
        base: dict[str, object] = {
            "key": post.key,
            "attempt": 1,
            "provider": self.provider_name,
            "model": self.model,
            "prompt_version": None,
            "text_hash": text_hash(post.text),
            "is_weak": True,
            "cost_usd": 0.0,
            "batch_size": 0,
            "injection_suspected": looks_like_instruction(post.text),
            "label": None,
            "confidence": None,
            "rationale": None,
        }
        base.update(fields)
        return LabelAttempt(**base)  # type: ignore[arg-type]

    def label(self, posts: Sequence[PostToLabel]) -> LabelingResult:
        """One attempt per post: `ok` with the ensemble's label, or `failed` if it raised."""
        started = time.perf_counter()
        attempts: list[LabelAttempt] = []
        for start in range(0, len(posts), self.batch_size):
            batch = posts[start : start + self.batch_size]
            t0 = time.perf_counter()
            try:
                proba = np.asarray(
                    self.predictor.predict_proba([p.text for p in batch]), dtype=np.float64
                )
                if proba.shape != (len(batch), len(LABELS)):
                    raise ValueError(
                        f"expected probabilities of shape {(len(batch), len(LABELS))}, "
                        f"got {proba.shape}"
                    )
            except (ValueError, RuntimeError) as exc:
                attempts += [
                    self._attempt(p, status="failed", error=f"ensemble failed: {exc}")
                    for p in batch
                ]
                continue
            latency_ms = round((time.perf_counter() - t0) * 1000.0, 1)
            for post, row in zip(batch, proba, strict=True):
                # The ensemble answers NaN for texts it rejects (empty after normalisation).
                if not np.all(np.isfinite(row)) or not np.isclose(row.sum(), 1.0, atol=1e-4):
                    attempts.append(
                        self._attempt(
                            post,
                            status="failed",
                            error="ensemble gave no probabilities for this text "
                            f"({np.round(row, 4).tolist()})",
                            latency_ms=latency_ms,
                            batch_size=len(batch),
                        )
                    )
                    continue
                best = int(np.argmax(row))
                probs = {label: round(float(p), 4) for label, p in zip(LABELS, row, strict=True)}
                attempts.append(
                    self._attempt(
                        post,
                        status="ok",
                        label=LABELS[best],
                        confidence=float(row[best]),
                        rationale="앙상블 예측 "
                        + ", ".join(f"{k} {v:.2f}" for k, v in probs.items()),
                        raw_response=json.dumps(probs, ensure_ascii=False),
                        latency_ms=latency_ms,
                        batch_size=len(batch),
                    )
                )
        summary = UsageSummary.of(
            attempts,
            provider=self.provider_name,
            model=self.model,
            prompt_version=None,
            requests=0,
            http_retries=0,
            elapsed_s=time.perf_counter() - started,
        )
        return LabelingResult(attempts=attempts, summary=summary)

    def close(self) -> None:
        """Nothing to release."""
