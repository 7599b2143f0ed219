"""Ensemble scores for every crawled post, per model version."""

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
from sentiment_assets.lib.models.ensemble import load_current
from sentiment_assets.lib.models.scoring import (
    POSTS_TABLE,
    PREDICTION_KEY,
    PREDICTIONS_TABLE,
    count_pending,
    pending_posts,
    prediction_rows,
)


class EnsemblePredictionsConfig(dg.Config):
    """How many posts to score per commit and per run."""

    batch_size: int = Field(default=512, description="Posts scored and committed together.")
    max_posts: int | None = Field(
        default=None, description="Stop after this many posts (None: every pending post)."
    )


@dg.asset(
    group_name="ensemble",
    pool=LAKEHOUSE_POOL,
    retry_policy=LAKEHOUSE_RETRY,
    deps=[ensemble_model, dg.AssetKey(POSTS_TABLE)],
    kinds={"duckdb", "python"},
    description="One row per post per model version: each member's calibrated probabilities "
    "(JSON), the ensemble's p_neg/p_neu/p_pos, label, confidence and member disagreement. "
    "Empty posts get status `empty` and no label. Only posts the current version has not "
    "scored are read, in batches, each batch its own commit.",
)
def ensemble_predictions(
    context: dg.AssetExecutionContext,
    config: EnsemblePredictionsConfig,
    lakehouse: LakehouseResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Score the posts the newest ensemble has not scored yet."""
    try:
        ensemble = load_current(model_store.root())
    except ModelLoadError as exc:
        raise dg.Failure(str(exc)) from exc
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
    return dg.MaterializeResult(
        metadata={
            "model_version": ensemble.version,
            "posts_scored": scored,
            "posts_empty": empty,
            "posts_pending": remaining,
            "snapshot_id": snapshot_id or 0,
            "members": dg.MetadataValue.json(
                {n: round(r.weight, 4) for n, r in ensemble.refs.items()}
            ),
        }
    )
