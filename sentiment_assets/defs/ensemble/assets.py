"""Ensemble scores for every crawled post, per model version, always by the registry's champion."""

from typing import Any

import dagster as dg
from pydantic import Field

from sentiment_assets.defs.lakehouse.resources import (
    LAKEHOUSE_POOL,
    LAKEHOUSE_RETRY,
    LakehouseResource,
)
from sentiment_assets.defs.training.assets import ensemble_model
from sentiment_assets.defs.training.resources import ModelStoreResource
from sentiment_assets.lib.marts.serving import (
    ServingChampion,
    load_serving,
    score_for_serving,
    serving_model,
)
from sentiment_assets.lib.models.base import ModelLoadError
from sentiment_assets.lib.models.scoring import POSTS_TABLE


class EnsemblePredictionsConfig(dg.Config):
    """How many posts to score per commit and per run."""

    batch_size: int = Field(default=512, description="Posts scored and committed together.")
    max_posts: int | None = Field(
        default=None, description="Stop after this many posts (None: every pending post)."
    )


def serving_champion(model_store: ModelStoreResource) -> ServingChampion:
    """The registry's champion (newest save while nothing is registered); dg.Failure if none."""
    try:
        return load_serving(model_store.root())
    except ModelLoadError as exc:
        raise dg.Failure(str(exc)) from exc


def score_pending(
    context: dg.AssetExecutionContext,
    config: EnsemblePredictionsConfig,
    lakehouse: LakehouseResource,
    champion: ServingChampion,
    *,
    reason: str,
) -> dict[str, Any]:
    """Append rows for the posts the champion has not scored; returns materialization metadata.

    Once every post is scored, the champion becomes the marts' model (`lib/marts/serving.py`).
    """
    with lakehouse.get().session() as lake:
        if not lake.table_exists(POSTS_TABLE):
            context.log.warning("lake table %s does not exist yet: nothing to score", POSTS_TABLE)
        try:
            report = score_for_serving(
                lake,
                champion,
                reason=reason,
                batch_size=config.batch_size,
                max_posts=config.max_posts,
                log=context.log.info,
            )
        except ModelLoadError as exc:
            raise dg.Failure(str(exc)) from exc
        marts_model = serving_model(lake)
    if report.recorded:
        context.log.info("the marts now show %s", report.model_version)
    return {
        "model_version": champion.version,
        "registry_version": champion.registry_version or 0,
        "posts_scored": report.posts_scored,
        "posts_empty": report.posts_empty,
        "posts_pending": report.posts_pending,
        "snapshot_id": report.snapshot_id or 0,
        "marts_model_version": marts_model or "none yet",
        "marts_model_changed": report.recorded,
        "members": dg.MetadataValue.json(champion.weights()),
    }


@dg.asset(
    group_name="ensemble",
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    deps=[ensemble_model, dg.AssetKey(POSTS_TABLE)],
    kinds={"duckdb", "python"},
    description="One row per post per model version: each member's calibrated probabilities "
    "(JSON), the ensemble's p_neg/p_neu/p_pos, label, confidence and member disagreement, "
    "scored by the registry's champion. Empty posts get status `empty` and no label. Only "
    "posts the champion has not scored are read, in batches, each batch its own commit.",
)
def ensemble_predictions(
    context: dg.AssetExecutionContext,
    config: EnsemblePredictionsConfig,
    lakehouse: LakehouseResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Score the posts the champion has not scored yet."""
    champion = serving_champion(model_store)
    metadata = score_pending(context, config, lakehouse, champion, reason="new posts scored")
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    group_name="ensemble",
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    deps=[dg.AssetKey("challenger_model")],
    kinds={"duckdb", "python"},
    description="After retraining (or a rollback): rows appended to the ensemble_predictions "
    "lake table (same grain and columns) for the posts the champion has not scored, so a "
    "promoted challenger scores every post; then the champion becomes the marts' model "
    "(lake table serving_models, one row per change). A separate asset because refinement "
    "reads ensemble_predictions and retraining reads refinement: one asset for both would be "
    "a cycle.",
)
def champion_predictions(
    context: dg.AssetExecutionContext,
    config: EnsemblePredictionsConfig,
    lakehouse: LakehouseResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Score the posts the champion (after the gate) has not scored yet."""
    champion = serving_champion(model_store)
    metadata = score_pending(context, config, lakehouse, champion, reason="champion after the gate")
    return dg.MaterializeResult(metadata=metadata)
