"""The serving API: predictions, corrections, the review queue and review decisions.

Writes go to the feedback store (SQLite, WAL), never to the lakehouse, so they do not wait for a
pipeline run. Write endpoints need `Authorization: Bearer <reviewer token>` (tokens come from
`sentiment reviewers create NAME`): 401 without one, 403 with an unknown, revoked or the old
shared token. The reviewer written into the store and the audit trail is the token's owner; the
label being corrected, its model version and confidence come from the champion or the lake,
never from the request. Bodies over the configured size get 413 whether declared by
Content-Length or streamed; malformed JSON, unknown labels, empty, invisible, overlong or
unscreened text (control characters, bidirectional overrides, unpaired surrogates) get 422.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from sentiment_assets.lib.feedback.store import FeedbackStore
from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.serving import (
    feedback_routes,
    model_routes,
    review_routes,
    reviewer_routes,
)
from sentiment_assets.lib.serving.auth import reviewer_check
from sentiment_assets.lib.serving.body_limit import BodyLimitMiddleware
from sentiment_assets.lib.serving.champion import ChampionHolder
from sentiment_assets.lib.serving.context import ServingContext
from sentiment_assets.lib.serving.errors import validation_error
from sentiment_assets.lib.serving.lake_reader import LakeReader, QueueCache
from sentiment_assets.lib.serving.predictions import predictions
from sentiment_assets.lib.serving.settings import ServingSettings

__all__ = ["create_app", "predictions"]


def _load_ensemble(models_root: Any) -> Any:
    # Imported late: the ensemble pulls in the members' frameworks. The registry's champion
    # (the newest save while nothing is registered) is what every reader of the model serves.
    from sentiment_assets.lib.registry import load_champion

    return load_champion(models_root)


def _ensemble_folder(settings: ServingSettings) -> Any:
    from sentiment_assets.lib.models.ensemble import NAME

    return settings.models / NAME


def create_app(
    settings: ServingSettings,
    *,
    load_model: Callable[[Any], Any] = _load_ensemble,
) -> FastAPI:
    """Build the API for `settings`; the champion is loaded here, once.

    Args:
        settings: folders and limits.
        load_model: loads the newest model from the models folder, raising ModelLoadError when
            there is none (the registry's champion, `load_champion`, by default).
    """
    lakehouse = Lakehouse(settings.warehouse)
    ctx = ServingContext(
        settings=settings,
        store=FeedbackStore(settings.feedback_db),
        champion=ChampionHolder(
            settings.models,
            load=load_model,
            watch=_ensemble_folder(settings),
            check_interval_s=settings.model_check_interval_s,
        ),
        lakehouse=lakehouse,
        reader=LakeReader(lakehouse),
        cache=QueueCache(settings.review_cache_s),
    )
    require_reviewer = reviewer_check(ctx.store, settings.shared_token)

    app = FastAPI(
        title="maple-sentiment API",
        version="1",
        summary="Sentiment of MapleStory community posts, and the corrections people make.",
        description=__doc__ or "",
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.state.champion = ctx.champion
    app.state.store = ctx.store
    app.include_router(model_routes.router(ctx))
    app.include_router(feedback_routes.router(ctx, require_reviewer))
    app.include_router(review_routes.router(ctx, require_reviewer))
    app.include_router(reviewer_routes.router(ctx, require_reviewer))
    return app
