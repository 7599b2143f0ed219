"""One retraining round: every member by its strategy, the ensemble refitted, registered, gated.

Dagster-free so the `challenger_model` asset and the cost benchmark run the very same code.
Nothing here touches the champion until the gate decides: members and the ensemble are new
versions under `models/`, and only `register_and_gate` may move the `champion` alias.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from sentiment_assets.lib.models.base import LabeledTexts, ModelLoadError, TrainSettings
from sentiment_assets.lib.models.ensemble import ENSEMBLE_FILE, Ensemble
from sentiment_assets.lib.models.members import available_members
from sentiment_assets.lib.models.pipeline import SavedVersion, build_ensemble, train_member
from sentiment_assets.lib.registry.champion import champion_version
from sentiment_assets.lib.registry.evalset import EvaluationSet
from sentiment_assets.lib.registry.gate import DEFAULT_MARGIN, GateResult, register_and_gate
from sentiment_assets.lib.retraining.data import TrainingMix
from sentiment_assets.lib.retraining.strategies import retrain_settings

_log = logging.getLogger(__name__)


def champion_member_dirs(models_root: Path) -> dict[str, Path]:
    """Each member version the champion ensemble uses; empty when there is no champion.

    Raises:
        ModelLoadError: the champion's `ensemble.json` is unreadable (the message names it).
    """
    champion = champion_version(models_root)
    if champion is None:
        return {}
    path = champion.path / ENSEMBLE_FILE
    try:
        members = json.loads(path.read_text())["members"]
        return {name: models_root / name / ref["version"] for name, ref in members.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"{path} is missing or unreadable: {exc}") from exc


@dataclass
class RetrainResult:
    """What one round produced."""

    members: dict[str, SavedVersion]
    modes: dict[str, str]
    ensemble: Ensemble
    saved: SavedVersion
    gate: GateResult
    member_seconds: dict[str, float] = field(default_factory=dict)
    gate_seconds: float = 0.0
    """Registering the version and running the gate (scoring, alias moves)."""


def retrain(
    mix: TrainingMix,
    dev: LabeledTexts,
    evaluation: EvaluationSet,
    *,
    models_root: Path,
    tracking_uri: str,
    snapshot_id: int | None,
    settings: TrainSettings,
    names: list[str] | None = None,
    margin: float = DEFAULT_MARGIN,
    tags: dict[str, object] | None = None,
    log: logging.Logger | None = None,
) -> RetrainResult:
    """Retrain the members (default: the champion's, else every available one), gate the result.

    Args:
        mix: the training set (`data.mix_training_data`).
        dev: early stopping and ensemble weights; disjoint from the gate's rows.
        evaluation: the frozen evaluation set for the gate.
        models_root: the models folder (members, ensemble, MLflow backend).
        tracking_uri: MLflow tracking URI for the runs.
        snapshot_id: lakehouse snapshot the training data was read at.
        settings: shared training knobs; `init_from` is set per member by its strategy.
        names: members to retrain.
        margin: the gate's macro-F1 margin.
        tags: extra registry tags (the Dagster run id, ...).
        log: where progress goes.
    """
    log = log or _log
    champion_dirs = champion_member_dirs(models_root)
    wanted = names or (list(champion_dirs) if champion_dirs else None)
    specs = available_members(wanted)
    saved_members: dict[str, SavedVersion] = {}
    modes: dict[str, str] = {}
    data = {
        "mix": mix.counts,
        "class_weights": mix.class_weights,
        "feedback_rows": len(mix.feedback_ids),
    }
    for name, spec in specs.items():
        member_settings, strategy = retrain_settings(name, settings, champion_dirs)
        modes[name] = strategy.mode
        log.info("retraining %s (%s, from %s)", name, strategy.mode, member_settings.init_from)
        saved_members[name] = train_member(
            spec,
            mix.data,
            dev,
            member_settings,
            models_root=models_root,
            tracking_uri=tracking_uri,
            snapshot_id=snapshot_id,
            data={**data, "strategy": strategy.mode},
        )
    ensemble, saved = build_ensemble(
        dev,
        models_root=models_root,
        tracking_uri=tracking_uri,
        snapshot_id=snapshot_id,
        data={**data, "strategies": modes},
        member_dirs={n: s.path for n, s in saved_members.items()},
        log=log,
    )
    gate_started = time.perf_counter()
    gate = register_and_gate(
        ensemble,
        models_root=models_root,
        run_id=saved.run_id,
        evaluation=evaluation,
        snapshot_id=snapshot_id,
        metrics=saved.manifest.metrics,
        margin=margin,
        tags={"strategies": json.dumps(modes), **(tags or {})},
    )
    gate_seconds = time.perf_counter() - gate_started
    log.info("registry v%d: %s", gate.registered.number, gate.reason)
    return RetrainResult(
        members=saved_members,
        modes=modes,
        ensemble=ensemble,
        saved=saved,
        gate=gate,
        member_seconds={
            n: float(s.manifest.metrics.get("train_seconds", 0.0)) for n, s in saved_members.items()
        },
        gate_seconds=gate_seconds,
    )
