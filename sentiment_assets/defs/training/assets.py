"""One training asset per registered ensemble member, and the fitted ensemble over them.

Generated from the member registry (`lib/models/members.py`): adding a member there adds its
`<member>_model` asset here. Members flagged `gpu` run in the `gpu` pool and ask Kubernetes for
a GPU; the others need no pool because training only reads the lakehouse.
"""

from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from sentiment_assets.defs.corpus.assets import BASE_CORPUS_TABLE, base_corpus
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.defs.training.gpu import GPU_OP_TAGS, GPU_POOL
from sentiment_assets.defs.training.resources import ModelStoreResource
from sentiment_assets.lib.corpus.load import CorpusSample, labeled, sample_corpus
from sentiment_assets.lib.models.base import MemberSpec, TrainSettings
from sentiment_assets.lib.models.members import available_members
from sentiment_assets.lib.models.pipeline import build_ensemble, train_member
from sentiment_assets.lib.registry.evalset import (
    EvaluationSet,
    frozen_evaluation_set,
    in_gate_half,
)
from sentiment_assets.lib.registry.gate import DEFAULT_MARGIN, GateResult, register_and_gate

_KINDS = {
    "lexicon": {"python"},
    "lstm": {"keras", "tensorflow"},
    "bilstm": {"pytorch"},
    "bert": {"pytorch"},
}


class TrainKnobs(dg.Config):
    """Run-length knobs every training asset takes; defaults are tiny (the demo)."""

    epochs: int = 1
    batch_size: int = 64
    device: str = Field(default="auto", description="auto, cpu or cuda.")
    max_len: int = 48
    seed: int = 13

    def train_settings(self) -> TrainSettings:
        """The members' TrainSettings; a Failure for a device name they would not know."""
        if self.device not in ("auto", "cpu", "cuda"):
            raise dg.Failure(f"device must be auto, cpu or cuda, not {self.device!r}")
        return TrainSettings(
            epochs=self.epochs,
            batch_size=self.batch_size,
            device=self.device,  # type: ignore[arg-type]
            seed=self.seed,
            max_len=self.max_len,
        )


class TrainingConfig(TrainKnobs):
    """Sample and knobs for one member's training run; defaults are tiny (the demo)."""

    train_rows: int | None = Field(
        default=2000, description="Train-split rows sampled from base_corpus (None: all)."
    )
    dev_rows: int | None = Field(
        default=400, description="Dev rows for early stopping and calibration (None: all)."
    )


def read_corpus(lakehouse: LakehouseResource, sample: CorpusSample) -> tuple[pd.DataFrame, int]:
    """The sampled base corpus at the current snapshot, and that snapshot's id."""
    with lakehouse.get().session() as lake:
        if not lake.table_exists(BASE_CORPUS_TABLE):
            raise dg.Failure(f"lake table {BASE_CORPUS_TABLE} is missing: materialize base_corpus")
        snapshot_id = lake.current_snapshot_id()
        frame = lake.read_table(BASE_CORPUS_TABLE, snapshot_id=snapshot_id)
    return sample_corpus(frame, sample), snapshot_id


def without_gate_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` minus the dev rows the promotion gate scores on (see `registry/evalset.py`).

    Early stopping and ensemble fitting use the other dev half, so the gate never judges a
    model on rows it was tuned on.
    """
    is_dev = (frame["split"] == "dev").to_numpy()
    reserved = is_dev & in_gate_half(frame["sentence_id"])
    return pd.DataFrame(frame.loc[~reserved])


def read_evaluation_set(lakehouse: LakehouseResource, corpus_rows: int | None) -> EvaluationSet:
    """The gate's frozen evaluation set from the lake; dg.Failure when it is empty."""
    with lakehouse.get().session() as lake:
        try:
            return frozen_evaluation_set(lake, corpus_rows=corpus_rows)
        except ValueError as exc:
            raise dg.Failure(str(exc)) from exc


def gate_metadata(gate: GateResult) -> dict[str, Any]:
    """Materialization metadata of a registered, gated ensemble version."""
    return {
        **gate.metadata(),
        "gate_eval_parts": dg.MetadataValue.json(gate.evaluation_parts),
    }


def _split_counts(frame: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in frame["split"].value_counts().items()}


def member_model_asset(spec: MemberSpec) -> dg.AssetsDefinition:
    """The `<member>_model` asset that trains `spec` on the base corpus."""

    @dg.asset(
        name=f"{spec.name}_model",
        group_name="training",
        deps=[base_corpus],
        pool=GPU_POOL if spec.gpu else None,
        op_tags=GPU_OP_TAGS if spec.gpu else None,
        kinds=_KINDS.get(spec.name, {"python"}),
        description=f"One saved version of the {spec.name} member per materialization "
        f"(models/{spec.name}/<version>/ with manifest and MLflow run), trained on the train "
        "split of base_corpus with early stopping on dev.",
    )
    def _train(
        context: dg.AssetExecutionContext,
        config: TrainingConfig,
        lakehouse: LakehouseResource,
        model_store: ModelStoreResource,
    ) -> dg.MaterializeResult:
        frame, snapshot_id = read_corpus(
            lakehouse,
            CorpusSample(train=config.train_rows, evaluation=config.dev_rows, seed=config.seed),
        )
        frame = without_gate_rows(frame)
        saved = train_member(
            spec,
            labeled(frame, "train"),
            labeled(frame, "dev"),
            config.train_settings(),
            models_root=model_store.root(),
            tracking_uri=model_store.tracking_uri(),
            snapshot_id=snapshot_id,
            data={"table": BASE_CORPUS_TABLE, "rows": _split_counts(frame)},
        )
        context.log.info("saved %s %s at %s", spec.name, saved.manifest.version, saved.path)
        return dg.MaterializeResult(metadata=_version_metadata(saved.manifest, saved.run_id))

    return _train


def _version_metadata(manifest: Any, run_id: str) -> dict[str, Any]:
    return {
        "version": manifest.version,
        "training_snapshot_id": manifest.training_snapshot_id or 0,
        "mlflow_run_id": run_id,
        **{k: float(v) for k, v in manifest.metrics.items() if isinstance(v, int | float)},
    }


MEMBER_ASSETS = [member_model_asset(spec) for spec in available_members().values()]


class EnsembleConfig(dg.Config):
    """Dev sample used to fit the ensemble's weights and temperatures, and the gate."""

    dev_rows: int | None = Field(default=400, description="Dev rows (None: all).")
    seed: int = 13
    gate_margin: float = Field(
        default=DEFAULT_MARGIN,
        description="Macro-F1 a new version must gain over the champion to replace it.",
    )
    gate_corpus_rows: int | None = Field(
        default=1000, description="Base-corpus dev rows in the frozen evaluation set."
    )


@dg.asset(
    group_name="training",
    deps=MEMBER_ASSETS,
    kinds={"python"},
    description="One saved, registered ensemble version per materialization: the newest "
    "version of every member, weights and temperatures fitted on half of base_corpus's dev "
    "split (never test), then the promotion gate against the champion on the frozen evaluation "
    "set (the other dev half plus held-out human corrections).",
)
def ensemble_model(
    context: dg.AssetExecutionContext,
    config: EnsembleConfig,
    lakehouse: LakehouseResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Fit and save the ensemble over the newest member versions, register it, run the gate."""
    frame, snapshot_id = read_corpus(
        lakehouse, CorpusSample(train=0, evaluation=config.dev_rows, seed=config.seed)
    )
    frame = without_gate_rows(frame)
    ensemble, saved = build_ensemble(
        labeled(frame, "dev"),
        models_root=model_store.root(),
        tracking_uri=model_store.tracking_uri(),
        snapshot_id=snapshot_id,
        data={"table": BASE_CORPUS_TABLE, "rows": _split_counts(frame)},
        log=context.log,
    )
    context.log.info(
        "ensemble %s: weights %s",
        saved.manifest.version,
        {n: round(r.weight, 3) for n, r in ensemble.refs.items()},
    )
    gate = register_and_gate(
        ensemble,
        models_root=model_store.root(),
        run_id=saved.run_id,
        evaluation=read_evaluation_set(lakehouse, config.gate_corpus_rows),
        snapshot_id=snapshot_id,
        metrics=saved.manifest.metrics,
        margin=config.gate_margin,
        tags={"trained_by": "ensemble_model", "dagster_run_id": context.run_id},
    )
    context.log.info("registry v%d: %s", gate.registered.number, gate.reason)
    metadata = _version_metadata(saved.manifest, saved.run_id)
    metadata["members"] = dg.MetadataValue.json({n: r.version for n, r in ensemble.refs.items()})
    metadata.update(gate_metadata(gate))
    if saved.manifest.config.get("contribution_warning"):
        metadata["contribution_warning"] = saved.manifest.config["contribution_warning"]
    return dg.MaterializeResult(metadata=metadata)
