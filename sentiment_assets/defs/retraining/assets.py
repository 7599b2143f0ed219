"""`challenger_model`: retrain every member from the refined labels and feedback, then gate it.

The asset is thin: it reads the lake once at one snapshot, builds the training mix
(`lib/retraining/data.py`), retrains each member by its strategy and registers the refitted
ensemble through the promotion gate (`lib/retraining/run.py`), then marks the corrections it
trained on as consumed by this run. It runs in the `gpu` pool because the BiLSTM and BERT
members train there; it only reads the lake, so it needs no lakehouse slot.
"""

from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from sentiment_assets.defs.corpus.assets import BASE_CORPUS_TABLE, base_corpus
from sentiment_assets.defs.feedback.resources import FeedbackStoreResource
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.defs.training.assets import (
    TrainKnobs,
    ensemble_model,
    gate_metadata,
    without_gate_rows,
)
from sentiment_assets.defs.training.gpu import GPU_OP_TAGS, GPU_POOL
from sentiment_assets.defs.training.resources import ModelStoreResource
from sentiment_assets.lib.corpus.load import labeled
from sentiment_assets.lib.feedback.store import FeedbackStore
from sentiment_assets.lib.lakehouse.lake import LakeSession
from sentiment_assets.lib.models.base import ModelLoadError
from sentiment_assets.lib.registry.evalset import (
    EvaluationSet,
    frozen_evaluation_set,
    read_feedback,
)
from sentiment_assets.lib.registry.gate import DEFAULT_MARGIN
from sentiment_assets.lib.retraining.data import (
    FEEDBACK_WEIGHT,
    REFINED_TABLE,
    RefinedLabelsMissing,
    RetrainingDataError,
    TrainingMix,
    mix_training_data,
    no_labels,
    read_current_labels,
    usable_feedback,
)
from sentiment_assets.lib.retraining.run import retrain

CHALLENGER_ASSET = "challenger_model"


class RetrainingConfig(TrainKnobs):
    """The training mix, the gate and the shared training knobs; defaults suit the demo."""

    members: list[str] | None = Field(
        default=None, description="Members to retrain (None: the champion's members)."
    )
    base_ratio: float = Field(default=1.0, description="Base-corpus rows per new row (1:1).")
    feedback_weight: float = Field(
        default=FEEDBACK_WEIGHT, description="Weight of a human correction vs a machine label."
    )
    dev_rows: int | None = Field(
        default=400, description="Base-corpus dev rows (outside the gate half) for early stopping."
    )
    gate_corpus_rows: int | None = Field(
        default=1000, description="Base-corpus dev rows in the frozen evaluation set."
    )
    gate_margin: float = Field(
        default=DEFAULT_MARGIN, description="Macro-F1 the challenger must gain over the champion."
    )


def _unconsumed_ids(feedback_store: FeedbackStoreResource) -> set[int]:
    if not feedback_store.file().exists():
        return set()
    return {row.id for row in feedback_store.get().rows_after(0) if row.consumed_by is None}


def _read_inputs(
    lake: LakeSession, config: RetrainingConfig, unconsumed: set[int], log: Any
) -> tuple[TrainingMix, pd.DataFrame, EvaluationSet, int]:
    """Mix, dev rows, evaluation set and the snapshot they were all read at."""
    if not lake.table_exists(BASE_CORPUS_TABLE):
        raise dg.Failure(f"lake table {BASE_CORPUS_TABLE} is missing: materialize base_corpus")
    snapshot_id = lake.current_snapshot_id()
    try:
        new = read_current_labels(lake, snapshot_id=snapshot_id)
    except RefinedLabelsMissing as exc:
        # Before refinement's first run only corrections are new; with none either, the
        # round is skipped below rather than failed, so a fresh checkout's demo stays green.
        log.warning("%s; retraining on corrections only", exc)
        new = no_labels()
    except RetrainingDataError as exc:
        raise dg.Failure(str(exc)) from exc
    corrections = usable_feedback(read_feedback(lake), unconsumed)
    corpus = lake.query(
        f"select sentence_id, text, label, split from lake.{BASE_CORPUS_TABLE} "
        "where split in ('train', 'dev') order by sentence_id"
    )
    try:
        evaluation = frozen_evaluation_set(lake, corpus_rows=config.gate_corpus_rows)
    except ValueError as exc:
        raise dg.Failure(str(exc)) from exc
    mix = mix_training_data(
        new,
        corrections,
        pd.DataFrame(corpus.loc[corpus["split"] == "train"]),
        base_ratio=config.base_ratio,
        feedback_weight=config.feedback_weight,
        seed=config.seed,
    )
    dev = without_gate_rows(pd.DataFrame(corpus.loc[corpus["split"] == "dev"]))
    if config.dev_rows is not None and len(dev) > config.dev_rows:
        dev = dev.sample(n=config.dev_rows, random_state=config.seed)
    return mix, dev, evaluation, snapshot_id


@dg.asset(
    name=CHALLENGER_ASSET,
    group_name="retraining",
    deps=[dg.AssetKey(REFINED_TABLE), dg.AssetKey("feedback"), base_corpus, ensemble_model],
    pool=GPU_POOL,
    op_tags=GPU_OP_TAGS,
    kinds={"pytorch", "keras", "python"},
    description="One retrained, registered ensemble version per materialization: each member "
    "retrained by its strategy (lexicon incremental, LSTM full, BiLSTM partial, BERT "
    "fine-tune) on the current refined labels, unconsumed human corrections (weighted 3x) and "
    "a 1:1 base-corpus sample, weights refitted, contributions measured by ablation, then the "
    "promotion gate. The corrections used are marked consumed by this run.",
)
def challenger_model(
    context: dg.AssetExecutionContext,
    config: RetrainingConfig,
    lakehouse: LakehouseResource,
    model_store: ModelStoreResource,
    feedback_store: FeedbackStoreResource,
) -> dg.MaterializeResult:
    """Retrain, register, gate; mark the corrections used as consumed."""
    unconsumed = _unconsumed_ids(feedback_store)
    with lakehouse.get().session() as lake:
        try:
            mix, dev, evaluation, snapshot_id = _read_inputs(lake, config, unconsumed, context.log)
        except RetrainingDataError as exc:
            # An empty chunk is a normal state (nothing refined since the last round), not an
            # error: the champion keeps serving and the run stays green.
            context.log.info("nothing to retrain: %s", exc)
            return dg.MaterializeResult(metadata={"retrained": False, "reason": str(exc)})
    context.log.info("training mix %s (snapshot %d)", mix.counts, snapshot_id)
    try:
        result = retrain(
            mix,
            labeled(dev, "dev"),
            evaluation,
            models_root=model_store.root(),
            tracking_uri=model_store.tracking_uri(),
            snapshot_id=snapshot_id,
            settings=config.train_settings(),
            names=config.members,
            margin=config.gate_margin,
            tags={"trained_by": CHALLENGER_ASSET, "dagster_run_id": context.run_id},
            log=context.log,
        )
    except (ModelLoadError, KeyError, ValueError) as exc:
        raise dg.Failure(str(exc)) from exc
    consumed = 0
    if mix.feedback_ids:
        # Marked only after the version is registered: a run that dies before this point leaves
        # the corrections unconsumed, so the next round trains on them again (at least once);
        # `mark_consumed` never overwrites an earlier run id (at most once per correction).
        consumed = FeedbackStore(feedback_store.file()).mark_consumed(
            mix.feedback_ids, context.run_id
        )
    metadata: dict[str, Any] = {
        "retrained": True,
        "version": result.ensemble.version,
        "mlflow_run_id": result.saved.run_id,
        "training_snapshot_id": snapshot_id,
        "training_mix": dg.MetadataValue.json(mix.counts),
        "class_weights": dg.MetadataValue.json(mix.class_weights),
        "strategies": dg.MetadataValue.json(result.modes),
        "member_versions": dg.MetadataValue.json(
            {n: s.manifest.version for n, s in result.members.items()}
        ),
        "member_train_seconds": dg.MetadataValue.json(result.member_seconds),
        "gate_seconds": round(result.gate_seconds, 3),
        "weights": dg.MetadataValue.json(
            {n: round(r.weight, 4) for n, r in result.ensemble.refs.items()}
        ),
        "contributions": dg.MetadataValue.json(
            {
                k.removeprefix("contribution_"): round(float(v), 4)
                for k, v in result.saved.manifest.metrics.items()
                if k.startswith("contribution_")
            }
        ),
        "feedback_consumed": consumed,
        **gate_metadata(result.gate),
    }
    warning = result.saved.manifest.config.get("contribution_warning")
    if warning:
        metadata["contribution_warning"] = warning
    return dg.MaterializeResult(metadata=metadata)
