"""Routes about the model: health and predictions."""

from __future__ import annotations

from fastapi import APIRouter

from sentiment_assets.lib.serving.auth import WRITE_ERRORS
from sentiment_assets.lib.serving.context import ServingContext
from sentiment_assets.lib.serving.predictions import predictions
from sentiment_assets.lib.serving.schemas import ErrorBody, Health, PredictRequest, PredictResponse


def router(ctx: ServingContext) -> APIRouter:
    """`GET /health` and `POST /predict`."""
    api = APIRouter()

    @api.get("/health", response_model=Health, tags=["service"])
    def health() -> Health:
        """Liveness, the model version being served, and feedback counts."""
        model = ctx.champion.current()
        return Health(
            status="ok",
            model_version=getattr(model, "version", None) if model is not None else None,
            model_error=ctx.champion.error,
            feedback_rows=ctx.store.count(),
            unconsumed_feedback=ctx.store.unconsumed_count(),
        )

    @api.post(
        "/predict",
        response_model=PredictResponse,
        tags=["model"],
        responses={
            413: WRITE_ERRORS[413],
            422: WRITE_ERRORS[422],
            503: {"model": ErrorBody, "description": "No trained model yet."},
        },
    )
    def predict(body: PredictRequest) -> PredictResponse:
        """Label one text (`text`) or up to 128 (`texts`) with the champion ensemble."""
        model = ctx.current_model()
        return PredictResponse(
            model_version=str(getattr(model, "version", "")),
            predictions=predictions(model, body.all_texts(), explain=body.explain),
        )

    return api
