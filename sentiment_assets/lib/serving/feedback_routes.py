"""Routes that store corrections: `POST /feedback`."""

# No `from __future__ import annotations`: FastAPI must evaluate the `Depends(require_reviewer)`
# annotations, and `require_reviewer` is a local of `router`, invisible to a deferred lookup.

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status

from sentiment_assets.lib.feedback.store import (
    FeedbackError,
    FeedbackInput,
    FeedbackRow,
    IdempotencyConflict,
)
from sentiment_assets.lib.serving.auth import WRITE_ERRORS, Reviewer
from sentiment_assets.lib.serving.context import ServingContext
from sentiment_assets.lib.serving.predictions import predictions
from sentiment_assets.lib.serving.schemas import ErrorBody, FeedbackOut, FeedbackRequest


def feedback_out(row: FeedbackRow, created: bool) -> FeedbackOut:
    """A stored row as the API returns it."""
    return FeedbackOut(
        id=row.id,
        created=created,
        text=row.text,
        board_id=row.board_id,
        post_id=row.post_id,
        old_label=row.old_label,
        new_label=row.new_label,
        reviewer=row.reviewer,
        comment=row.comment,
        model_version=row.model_version,
        confidence=row.confidence,
        source=row.source,
        created_at=row.created_at,
    )


def router(ctx: ServingContext, require_reviewer: Callable[..., Reviewer]) -> APIRouter:
    """`POST /feedback`, for reviewers with a token."""
    api = APIRouter()

    def corrected(body: FeedbackRequest) -> tuple[str | None, str | None, float | None]:
        """(old label, model version, confidence) of the prediction `body` corrects."""
        if body.board_id is not None and body.post_id is not None:
            shown = ctx.shown_prediction(body.board_id, body.post_id)
            if shown is not None:
                return shown.label, shown.model_version, shown.confidence
        if body.text is not None:
            model = ctx.champion.current()
            if model is not None:
                guess = predictions(model, [body.text])[0]
                return guess.label, str(getattr(model, "version", "")), guess.confidence
        return None, None, None

    @api.post(
        "/feedback",
        response_model=FeedbackOut,
        status_code=status.HTTP_201_CREATED,
        tags=["people"],
        responses={
            200: {"model": FeedbackOut, "description": "Replay of an earlier key."},
            409: {"model": ErrorBody, "description": "Key reused for another correction."},
            **WRITE_ERRORS,
        },
    )
    def feedback(
        body: FeedbackRequest,
        response: Response,
        reviewer: Annotated[Reviewer, Depends(require_reviewer)],
    ) -> FeedbackOut:
        """Store a correction once per idempotency key (201; a replay answers 200).

        The reviewer is the token's owner; the old label, model version and confidence are
        the post's stored prediction, else the champion's prediction for the text.
        """
        old_label, version, confidence = corrected(body)
        item = FeedbackInput(
            new_label=body.new_label,
            reviewer=reviewer.name,
            idempotency_key=body.idempotency_key,
            text=body.text,
            board_id=body.board_id,
            post_id=body.post_id,
            old_label=old_label,
            comment=body.comment,
            model_version=version,
            confidence=confidence,
            source=body.source,
        )
        try:
            row, created = ctx.store.add(item)
        except IdempotencyConflict as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
        except FeedbackError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
        if not created:
            response.status_code = status.HTTP_200_OK
        return feedback_out(row, created)

    return api
