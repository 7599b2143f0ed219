"""What every ensemble member shares: the label set, the member interface, versioned artifacts.

A member is anything that maps texts to class probabilities over `LABELS` and can be saved to
and loaded from a directory. Artifacts are written to a temporary sibling directory and renamed
into place, so a crash mid-save never leaves a half-written version where a loader can find it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, Self

import numpy as np

LABELS: tuple[str, ...] = ("부정", "중립", "긍정")
"""Class order of every probability matrix: index 0 negative, 1 neutral, 2 positive."""
LABEL_INDEX = {label: i for i, label in enumerate(LABELS)}
MANIFEST = "manifest.json"


class ModelLoadError(RuntimeError):
    """A model directory is missing, incomplete or corrupt; the message names the directory."""


class Member(Protocol):
    """One ensemble member."""

    name: str

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of shape (len(texts), len(LABELS)), rows summing to 1."""
        ...

    def save(self, directory: Path) -> None:
        """Write every file needed by `load` into an existing, empty `directory`."""
        ...

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Rebuild the member from `directory`; raise ModelLoadError when it cannot."""
        ...


@dataclass(frozen=True)
class LabeledTexts:
    """Texts with class indices into LABELS and optional per-example loss weights."""

    texts: list[str]
    labels: np.ndarray
    weights: np.ndarray | None = None
    """Final loss weights, class balance included; None lets each trainer balance the classes."""

    def __post_init__(self) -> None:
        """Reject mismatched lengths and labels outside the label set up front."""
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels")
        if len(self.labels) and not set(np.unique(self.labels)) <= set(range(len(LABELS))):
            raise ValueError(f"labels must be class indices 0..{len(LABELS) - 1}")
        if self.weights is not None and len(self.weights) != len(self.texts):
            raise ValueError("weights must have one entry per text")


@dataclass(frozen=True)
class TrainSettings:
    """Knobs every member's trainer honours; member-specific hyperparameters stay inside it."""

    epochs: int = 3
    batch_size: int = 64
    device: Literal["auto", "cpu", "cuda"] = "auto"
    seed: int = 13
    max_len: int = 64
    """Tokens per text for the sequence models."""
    init_from: Path | None = None
    """A saved version to continue from (partial retraining); None trains from scratch."""


class Trainer(Protocol):
    """Trains one member; `dev` is for early stopping and model selection, never `test`."""

    def __call__(self, train: LabeledTexts, dev: LabeledTexts, settings: TrainSettings) -> Member:
        """Return the trained member."""
        ...


@dataclass(frozen=True)
class MemberSpec:
    """How the pipeline trains and loads one member."""

    name: str
    train: Trainer
    load: Any
    """`Callable[[Path], Member]`, usually the member class's `load`."""
    initial_weight: float
    """Ensemble weight before fitting on dev (design: 0.10 / 0.20 / 0.35 / 0.35)."""
    gpu: bool = False
    """Whether its training asset asks for a GPU (pool `gpu`, k8s GPU request)."""


@dataclass
class Manifest:
    """What a saved model version is and where it came from."""

    member: str
    version: str
    vocabulary_hash: str = ""
    training_snapshot_id: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def write(self, directory: Path) -> None:
        """Store as `manifest.json` in `directory`."""
        (directory / MANIFEST).write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2))

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """Read `manifest.json` from `directory`."""
        path = directory / MANIFEST
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise ModelLoadError(f"{path} is missing or unreadable: {exc}") from exc


def new_version() -> str:
    """A sortable, unique version name: UTC timestamp with microseconds."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def save_version(member: Member, root: Path, manifest: Manifest) -> Path:
    """Save `member` with `manifest` as `root/<member>/<version>/`, atomically.

    Returns the final directory. Nothing is visible under the final name until every file is
    written and flushed.
    """
    parent = root / manifest.member
    parent.mkdir(parents=True, exist_ok=True)
    final = parent / manifest.version
    staging = Path(tempfile.mkdtemp(prefix=f".{manifest.version}.", dir=parent))
    try:
        member.save(staging)
        manifest.write(staging)
        for path in staging.rglob("*"):
            if path.is_file():
                with path.open("rb") as handle:
                    os.fsync(handle.fileno())
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def versions(root: Path, member: str) -> list[Path]:
    """Saved versions of `member`, oldest first (staging directories excluded)."""
    parent = root / member
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if p.is_dir() and not p.name.startswith("."))


def check_proba(proba: np.ndarray, n: int) -> np.ndarray:
    """Validate a member's output shape and normalisation; raise ValueError otherwise."""
    if proba.shape != (n, len(LABELS)):
        raise ValueError(f"expected probabilities of shape {(n, len(LABELS))}, got {proba.shape}")
    if n and not np.allclose(proba.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError("probability rows must sum to 1")
    return proba
