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
from sentiment_assets.lib.models.base import ModelLoadError
from sentiment_assets.lib.models.ensemble import Ensemble
from sentiment_assets.lib.models.scoring import (
    POSTS_TABLE,
    PREDICTION_KEY,
    PREDICTIONS_TABLE,
    count_pending,
    pending_posts,
    prediction_rows,
)
from sentiment_assets.lib.registry.champion import load_champion


class EnsemblePredictionsConfig(dg.Config):
    """How many posts to score per commit and per run."""

    batch_size: int = Field(default=512, description="Posts scored and committed together.")
    max_posts: int | None = Field(
        default=None, description="Stop after this many posts (None: every pending post)."
    )


def serving_ensemble(model_store: ModelStoreResource) -> Ensemble:
    """The registry's champion (newest save while nothing is registered); dg.Failure if none."""
    try:
        return load_champion(model_store.root())
    except ModelLoadError as exc:
        raise dg.Failure(str(exc)) from exc


def score_pending(
    context: dg.AssetExecutionContext,
    config: EnsemblePredictionsConfig,
    lakehouse: LakehouseResource,
    ensemble: Ensemble,
) -> dict[str, Any]:
    """Append rows for the posts `ensemble` has not scored; returns materialization metadata."""
    scored = empty = 0
    snapshot_id = None
    with lakehouse.get().session() as lake:
        if not lake.table_exists(POSTS_TABLE):
            context.log.warning("lake table %s does not exist yet: nothing to score", POSTS_TABLE)
        else:
            while config.max_posts is None or scored < config.max_posts:
                limit = config.batch_size
                if config.max_posts is not None:
                    limit = min(limit, config.max_posts - scored)
                posts = pending_posts(lake, ensemble.version, limit)
                if posts.empty:
                    break
                rows = prediction_rows(ensemble, posts)
                result = lake.append(PREDICTIONS_TABLE, rows, key=PREDICTION_KEY)
                snapshot_id = result.snapshot_id or snapshot_id
                scored += len(rows)
                empty += int((rows["status"] == "empty").sum())
                context.log.info("scored %d posts (%d so far)", len(rows), scored)
        remaining = count_pending(lake, ensemble.version) if lake.table_exists(POSTS_TABLE) else 0
    return {
        "model_version": ensemble.version,
        "posts_scored": scored,
        "posts_empty": empty,
        "posts_pending": remaining,
        "snapshot_id": snapshot_id or 0,
        "members": dg.MetadataValue.json({n: round(r.weight, 4) for n, r in ensemble.refs.items()}),
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
    ensemble = serving_ensemble(model_store)
    return dg.MaterializeResult(metadata=score_pending(context, config, lakehouse, ensemble))


@dg.asset(
    group_name="ensemble",
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    deps=[dg.AssetKey("challenger_model")],
    kinds={"duckdb", "python"},
    description="After retraining: rows appended to the ensemble_predictions lake table (same "
    "grain and columns) for the posts the champion has not scored, so a promoted challenger "
    "scores every post. A separate asset because refinement reads ensemble_predictions and "
    "retraining reads refinement: one asset for both would be a cycle.",
)
def champion_predictions(
    context: dg.AssetExecutionContext,
    config: EnsemblePredictionsConfig,
    lakehouse: LakehouseResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Score the posts the champion (after the gate) has not scored yet."""
    ensemble = serving_ensemble(model_store)
    return dg.MaterializeResult(metadata=score_pending(context, config, lakehouse, ensemble))
