"""The ensemble: a calibrated, weighted soft vote over the members.

Prediction, for each text:
1. every member's probabilities are temperature-scaled by that member's own temperature;
2. the weighted mean of those is the mixture (weights sum to 1);
3. the mixture is temperature-scaled once more: that is the ensemble's distribution.

Confidence is the ensemble's max probability. Disagreement is the weighted mean total-variation
distance between each calibrated member and the mixture: 0 when all members agree exactly, up
to 1 when they put all their mass on different classes.

Weights start from the members' initial weights (design: 0.10/0.20/0.35/0.35, renormalised over
the members present) and are fitted on dev by minimising the log-loss, with a small pull toward
the initial weights so a small dev set cannot zero a member out on noise. Test data never enters.

Input screening is the same for every caller: texts are normalised and cut to `MAX_CHARS`
(title + body joined first by `post_text`, head kept); a text that is empty after normalisation
(empty, whitespace-only) is rejected with status `empty` and no probabilities, never guessed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import softmax

from sentiment_assets.lib.models.base import (
    LABELS,
    Manifest,
    Member,
    ModelLoadError,
    check_proba,
    versions,
)
from sentiment_assets.lib.models.calibration import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    log_loss,
)
from sentiment_assets.lib.models.members import available_members
from sentiment_assets.lib.text.normalize import MAX_CHARS, normalize

NAME = "ensemble"
ENSEMBLE_FILE = "ensemble.json"
FORMAT_VERSION = 1
STATUS_OK = "ok"
STATUS_EMPTY = "empty"
PROB_COLUMNS = ("p_neg", "p_neu", "p_pos")
_PROBE = ("이 문장은 불러온 모델을 점검합니다", "좋아요 ^^")


def prepare_texts(texts: Sequence[str | None]) -> tuple[list[str], list[str]]:
    """Normalised texts cut to MAX_CHARS, and each one's status (`ok` or `empty`)."""
    prepared = [normalize(t or "")[:MAX_CHARS] for t in texts]
    return prepared, [STATUS_OK if t else STATUS_EMPTY for t in prepared]


@dataclass(frozen=True)
class MemberRef:
    """How the ensemble uses one saved member version."""

    version: str
    vocabulary_hash: str
    weight: float
    temperature: float


@dataclass
class EnsemblePrediction:
    """Per-text ensemble output; rejected rows hold NaN probabilities and no label."""

    proba: np.ndarray
    members: dict[str, np.ndarray]
    confidence: np.ndarray
    disagreement: np.ndarray
    status: list[str]
    model_version: str = ""

    @property
    def labels(self) -> list[str | None]:
        """The predicted class name per text, None where the text was rejected."""
        return [
            LABELS[int(row.argmax())] if status == STATUS_OK else None
            for row, status in zip(self.proba, self.status, strict=True)
        ]

    def frame(self) -> pd.DataFrame:
        """One row per text with probabilities, label, confidence, disagreement and status.

        Member columns are `<member>_p_neg`, `<member>_p_neu`, `<member>_p_pos`.
        """
        out = pd.DataFrame(self.proba, columns=pd.Index(PROB_COLUMNS))
        out["label"] = self.labels
        out["confidence"] = self.confidence
        out["disagreement"] = self.disagreement
        out["status"] = self.status
        for name, proba in self.members.items():
            for i, column in enumerate(PROB_COLUMNS):
                out[f"{name}_{column}"] = proba[:, i]
        out["model_version"] = self.model_version
        return out


def combine(
    member_probs: dict[str, np.ndarray], refs: dict[str, MemberRef], temperature: float
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Ensemble probabilities, calibrated member probabilities and disagreement."""
    calibrated = {n: apply_temperature(p, refs[n].temperature) for n, p in member_probs.items()}
    total = sum(refs[n].weight for n in calibrated)
    mixture = sum((refs[n].weight / total) * p for n, p in calibrated.items())
    mixture = np.asarray(mixture)
    disagreement = sum(
        (refs[n].weight / total) * 0.5 * np.abs(p - mixture).sum(axis=1)
        for n, p in calibrated.items()
    )
    return apply_temperature(mixture, temperature), calibrated, np.asarray(disagreement)


def fit_weights(
    member_probs: dict[str, np.ndarray],
    labels: np.ndarray,
    initial: dict[str, float],
    *,
    sample_weights: np.ndarray | None = None,
    pull: float = 0.01,
) -> dict[str, float]:
    """Mixture weights (summing to 1) minimising the dev log-loss, starting from `initial`."""
    names = list(member_probs)
    if len(names) == 1:
        return {names[0]: 1.0}
    start = np.log(np.array([initial[n] for n in names]) / sum(initial[n] for n in names))
    stacked = np.stack([member_probs[n] for n in names])

    def objective(theta: np.ndarray) -> float:
        w = softmax(theta)
        mixture = np.tensordot(w, stacked, axes=1)
        return log_loss(mixture, labels, sample_weights) + pull * float(
            ((theta - start) ** 2).sum()
        )

    result = minimize(objective, start, method="L-BFGS-B")
    fitted = softmax(result.x)
    return {n: float(w) for n, w in zip(names, fitted, strict=True)}


@dataclass
class EnsembleFit:
    """Weights, temperatures and dev metrics of a fitted ensemble."""

    refs: dict[str, MemberRef]
    temperature: float
    metrics: dict[str, float] = field(default_factory=dict)


def fit_ensemble(
    member_probs: dict[str, np.ndarray],
    labels: np.ndarray,
    *,
    initial_weights: dict[str, float],
    vocabulary_hashes: dict[str, str],
    member_versions: dict[str, str],
    sample_weights: np.ndarray | None = None,
) -> EnsembleFit:
    """Fit member temperatures, mixture weights and the final temperature on dev outputs."""
    if not member_probs:
        raise ValueError("an ensemble needs at least one member")
    labels = np.asarray(labels, dtype=np.int64)
    temps = {n: fit_temperature(p, labels, sample_weights) for n, p in member_probs.items()}
    calibrated = {n: apply_temperature(p, temps[n]) for n, p in member_probs.items()}
    weights = fit_weights(calibrated, labels, initial_weights, sample_weights=sample_weights)
    refs = {
        n: MemberRef(
            version=member_versions[n],
            vocabulary_hash=vocabulary_hashes.get(n, ""),
            weight=weights[n],
            temperature=temps[n],
        )
        for n in member_probs
    }
    initial_total = sum(initial_weights[n] for n in member_probs)
    uncalibrated = np.asarray(
        sum((initial_weights[n] / initial_total) * p for n, p in member_probs.items())
    )
    mixture, _, _ = combine(member_probs, refs, 1.0)
    temperature = fit_temperature(mixture, labels, sample_weights)
    final = apply_temperature(mixture, temperature)
    metrics = {
        "dev_ece_before": expected_calibration_error(uncalibrated, labels),
        "dev_ece_after": expected_calibration_error(final, labels),
        "dev_log_loss_before": log_loss(uncalibrated, labels),
        "dev_log_loss_after": log_loss(final, labels),
        "dev_accuracy": float((final.argmax(axis=1) == labels).mean()) if len(labels) else 0.0,
        "temperature": temperature,
        **{f"weight_{n}": r.weight for n, r in refs.items()},
    }
    return EnsembleFit(refs=refs, temperature=temperature, metrics=metrics)


class Ensemble:
    """Loaded members plus the weights and temperatures that combine them."""

    name = NAME

    def __init__(
        self,
        members: dict[str, Member],
        refs: dict[str, MemberRef],
        temperature: float,
        version: str = "",
    ):
        """Hold `members` (by name) combined as `refs` describe; `version` names the save."""
        if set(members) != set(refs):
            raise ValueError(f"members {sorted(members)} do not match refs {sorted(refs)}")
        self.members = members
        self.refs = refs
        self.temperature = temperature
        self.version = version

    def predict(self, texts: Sequence[str | None]) -> EnsemblePrediction:
        """Screen, score with every member, and combine; see the module docstring."""
        prepared, status = prepare_texts(texts)
        keep = [i for i, s in enumerate(status) if s == STATUS_OK]
        kept = [prepared[i] for i in keep]
        n = len(prepared)
        proba = np.full((n, len(LABELS)), np.nan)
        members = {name: np.full((n, len(LABELS)), np.nan) for name in self.members}
        confidence = np.full(n, np.nan)
        disagreement = np.full(n, np.nan)
        if kept:
            raw = {
                name: check_proba(np.asarray(m.predict_proba(kept), dtype=np.float64), len(kept))
                for name, m in self.members.items()
            }
            combined, calibrated, spread = combine(raw, self.refs, self.temperature)
            proba[keep] = combined
            for name, p in calibrated.items():
                members[name][keep] = p
            confidence[keep] = combined.max(axis=1)
            disagreement[keep] = spread
        return EnsemblePrediction(
            proba=proba,
            members=members,
            confidence=confidence,
            disagreement=disagreement,
            status=status,
            model_version=self.version,
        )

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Ensemble probabilities; rows of rejected (empty) texts are NaN."""
        return self.predict(texts).proba

    def describe(self) -> dict[str, Any]:
        """What `ensemble.json` holds."""
        return {
            "format_version": FORMAT_VERSION,
            "labels": list(LABELS),
            "temperature": self.temperature,
            "members": {name: asdict(ref) for name, ref in self.refs.items()},
        }

    def save(self, directory: Path) -> None:
        """Write `ensemble.json`; members are referenced by version, saved on their own."""
        text = json.dumps(self.describe(), ensure_ascii=False, indent=2)
        (directory / ENSEMBLE_FILE).write_text(text)

    @classmethod
    def load(cls, directory: Path, *, models_root: Path | None = None) -> Self:
        """Load the ensemble saved in `directory` and every member version it references.

        Members live in `models_root/<member>/<version>/` (default: two levels above
        `directory`). Each member's manifest must name the same member, version and vocabulary
        hash the ensemble was fitted with, and each member must answer a probe prediction;
        otherwise ModelLoadError names the file or directory at fault.
        """
        root = models_root or directory.parent.parent
        manifest = Manifest.read(directory)
        path = directory / ENSEMBLE_FILE
        try:
            spec = json.loads(path.read_text())
            temperature = float(spec["temperature"])
            refs = {n: MemberRef(**r) for n, r in spec["members"].items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelLoadError(f"{path} is missing or unreadable: {exc}") from exc
        if spec.get("format_version") != FORMAT_VERSION or spec.get("labels") != list(LABELS):
            raise ModelLoadError(f"{path} was written for another format or label set")
        if not refs or not temperature > 0:
            raise ModelLoadError(f"{path} names no members or a non-positive temperature")
        try:
            specs = available_members(refs)
        except KeyError as exc:
            raise ModelLoadError(f"{path} references members this checkout lacks: {exc}") from exc
        members: dict[str, Member] = {}
        for name, ref in refs.items():
            member_dir = root / name / ref.version
            if not member_dir.is_dir():
                raise ModelLoadError(f"{member_dir} (member {name} of {path}) does not exist")
            member_manifest = Manifest.read(member_dir)
            if (member_manifest.member, member_manifest.version) != (name, ref.version) or (
                member_manifest.vocabulary_hash != ref.vocabulary_hash
            ):
                raise ModelLoadError(
                    f"{member_dir / 'manifest.json'} does not match {path}: it describes "
                    f"{member_manifest.member} {member_manifest.version} with vocabulary "
                    f"{member_manifest.vocabulary_hash!r}, expected {name} {ref.version} with "
                    f"{ref.vocabulary_hash!r}"
                )
            try:
                member = specs[name].load(member_dir)
                check_proba(np.asarray(member.predict_proba(list(_PROBE))), len(_PROBE))
            except ModelLoadError:
                raise
            except Exception as exc:
                raise ModelLoadError(f"{member_dir} could not be loaded: {exc!r}") from exc
            members[name] = member
        return cls(members, refs, temperature, version=manifest.version)


def ensemble_versions(models_root: Path) -> list[Path]:
    """Saved ensemble versions, oldest first."""
    return versions(models_root, NAME)


def load_current(models_root: Path) -> Ensemble:
    """The newest trained ensemble (until the registry's champion alias exists).

    The newest version is never skipped for an older one: if it is broken, this raises.
    """
    saved = ensemble_versions(models_root)
    if not saved:
        raise ModelLoadError(
            f"{models_root / NAME} holds no trained ensemble; run `sentiment train` first"
        )
    return Ensemble.load(saved[-1], models_root=models_root)
