"""Train members and fit the ensemble as saved, tracked versions.

Shared by the Dagster training assets and `sentiment train`, so both produce identical
artifacts: `models/<member>/<version>/` with a manifest (version, vocabulary hash, dev metrics,
the lakehouse snapshot of the training data, the training configuration) and one MLflow run
per saved version.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_assets.lib.models.ablation import member_contributions
from sentiment_assets.lib.models.base import (
    MANIFEST,
    LabeledTexts,
    Manifest,
    Member,
    MemberSpec,
    TrainSettings,
    new_version,
    save_version,
    versions,
)
from sentiment_assets.lib.models.ensemble import NAME as ENSEMBLE
from sentiment_assets.lib.models.ensemble import Ensemble, fit_ensemble, prepare_texts
from sentiment_assets.lib.models.evaluation import classification_metrics
from sentiment_assets.lib.models.members import available_members
from sentiment_assets.lib.models.tracking import log_run

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SavedVersion:
    """A version written to the models folder, with its MLflow run."""

    path: Path
    manifest: Manifest
    run_id: str


def _vocabulary_hash(member: Member) -> str:
    found = getattr(member, "vocabulary_hash", "")
    return str(found() if callable(found) else found or "")


def _screened(data: LabeledTexts) -> LabeledTexts:
    """Drop texts the ensemble would reject, so members train on what they will be asked."""
    prepared, status = prepare_texts(data.texts)
    keep = [i for i, s in enumerate(status) if s == "ok"]
    return LabeledTexts(
        texts=[prepared[i] for i in keep],
        labels=data.labels[keep],
        weights=data.weights[keep] if data.weights is not None else None,
    )


def _settings_record(settings: TrainSettings) -> dict[str, Any]:
    record = asdict(settings)
    record["init_from"] = str(settings.init_from) if settings.init_from else None
    return record


def train_member(
    spec: MemberSpec,
    train: LabeledTexts,
    dev: LabeledTexts,
    settings: TrainSettings,
    *,
    models_root: Path,
    tracking_uri: str,
    snapshot_id: int | None,
    data: dict[str, Any] | None = None,
) -> SavedVersion:
    """Train `spec` on `train` (early stopping on `dev`), save it as a new version, log it."""
    train, dev = _screened(train), _screened(dev)
    started = time.perf_counter()
    member = spec.train(train, dev, settings)
    seconds = time.perf_counter() - started
    dev_figures = (
        classification_metrics(np.asarray(member.predict_proba(dev.texts)), dev.labels)
        if dev.texts
        else {}
    )
    metrics = {
        "train_seconds": seconds,
        "train_rows": float(len(train.texts)),
        **{f"dev_{k}": float(v) for k, v in dev_figures.items() if k in ("accuracy", "macro_f1")},
    }
    manifest = Manifest(
        member=spec.name,
        version=new_version(),
        vocabulary_hash=_vocabulary_hash(member),
        training_snapshot_id=snapshot_id,
        metrics=metrics,
        config={"settings": _settings_record(settings), "data": data or {}},
    )
    path = save_version(member, models_root, manifest)
    run_id = log_run(
        tracking_uri,
        models_root,
        run_name=f"{spec.name} {manifest.version}",
        params={**_settings_record(settings), **(data or {}), "snapshot_id": snapshot_id},
        metrics=metrics,
        tags={"member": spec.name, "version": manifest.version, "path": str(path)},
        artifacts=(path / MANIFEST,),
    )
    return SavedVersion(path=path, manifest=manifest, run_id=run_id)


def newest_member_versions(models_root: Path, names: list[str] | None = None) -> dict[str, Path]:
    """The newest saved version of each available member that has one."""
    found = {}
    for name in available_members(names):
        saved = versions(models_root, name)
        if saved:
            found[name] = saved[-1]
    return found


def build_ensemble(
    dev: LabeledTexts,
    *,
    models_root: Path,
    tracking_uri: str,
    snapshot_id: int | None,
    names: list[str] | None = None,
    data: dict[str, Any] | None = None,
    member_dirs: dict[str, Path] | None = None,
    log: logging.Logger | None = None,
) -> tuple[Ensemble, SavedVersion]:
    """Fit weights and temperatures on `dev` over member versions, measure contributions, save.

    The members are `member_dirs` when given (retraining names the versions it just trained),
    else the newest version of every available member (or of `names`). Each member's
    contribution (dev macro-F1 drop when it is left out) is stored in the manifest's metrics as
    `contribution_<member>`; a dominance warning goes to `log` and the manifest config.
    """
    dev = _screened(dev)
    if not dev.texts:
        raise ValueError("the ensemble needs dev texts to fit its weights and temperatures")
    if member_dirs is None:
        member_dirs = newest_member_versions(models_root, names)
    if not member_dirs:
        raise ValueError(f"no trained member under {models_root}; train the members first")
    specs = available_members(list(member_dirs))
    members: dict[str, Member] = {}
    manifests: dict[str, Manifest] = {}
    probs: dict[str, np.ndarray] = {}
    for name, directory in member_dirs.items():
        manifests[name] = Manifest.read(directory)
        members[name] = specs[name].load(directory)
        probs[name] = np.asarray(members[name].predict_proba(dev.texts), dtype=np.float64)
    fit = fit_ensemble(
        probs,
        dev.labels,
        initial_weights={n: specs[n].initial_weight for n in probs},
        vocabulary_hashes={n: m.vocabulary_hash for n, m in manifests.items()},
        member_versions={n: m.version for n, m in manifests.items()},
        sample_weights=dev.weights,
    )
    contributions = member_contributions(probs, dev.labels, fit.refs, fit.temperature)
    if contributions.warning:
        (log or _log).warning("ensemble contributions: %s", contributions.warning)
    metrics = {
        **fit.metrics,
        "dev_macro_f1": contributions.full_macro_f1,
        **{f"contribution_{n}": d for n, d in contributions.drops.items()},
    }
    manifest = Manifest(
        member=ENSEMBLE,
        version=new_version(),
        vocabulary_hash="",
        training_snapshot_id=snapshot_id,
        metrics=metrics,
        config={
            "members": {n: m.version for n, m in manifests.items()},
            "data": data or {},
            "contribution_warning": contributions.warning,
        },
    )
    ensemble = Ensemble(members, fit.refs, fit.temperature, version=manifest.version)
    path = save_version(ensemble, models_root, manifest)
    run_id = log_run(
        tracking_uri,
        models_root,
        run_name=f"{ENSEMBLE} {manifest.version}",
        params={
            **{f"member_{n}": m.version for n, m in manifests.items()},
            **(data or {}),
            "snapshot_id": snapshot_id,
        },
        metrics=metrics,
        tags={"member": ENSEMBLE, "version": manifest.version, "path": str(path)},
        artifacts=(path / MANIFEST, path / "ensemble.json"),
    )
    return ensemble, SavedVersion(path=path, manifest=manifest, run_id=run_id)
