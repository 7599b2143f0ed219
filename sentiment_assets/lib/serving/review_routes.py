"""Routes of the review queue: `GET /review-queue` and `POST /review`."""

# No `from __future__ import annotations`: FastAPI must evaluate the `Depends(require_reviewer)`
# annotations, and `require_reviewer` is a local of `router`, invisible to a deferred lookup.

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, cast

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query, status

from sentiment_assets.lib.feedback.store import FeedbackError, IdempotencyConflict
from sentiment_assets.lib.serving import review_queue
from sentiment_assets.lib.serving.auth import WRITE_ERRORS, Reviewer
from sentiment_assets.lib.serving.context import ServingContext
from sentiment_assets.lib.serving.schemas import (
    MAX_ID,
    ErrorBody,
    Label,
    QueueItem,
    ReviewOut,
    ReviewQueue,
    ReviewRequest,
)


def _present(value: Any) -> Any:
    """None for pandas' missing markers (NaN, NaT, None), the value otherwise."""
    return None if value is None or bool(pd.isna(value)) else value


def _item(row: pd.Series) -> QueueItem:
    return QueueItem(
        board_id=int(row["board_id"]),
        post_id=int(row["post_id"]),
        title=_present(row.get("title")),
        body=_present(row.get("body")),
        board_name=_present(row.get("board_name")),
        job=_present(row.get("job")),
        posted_at=_present(row.get("posted_at")),
        label=cast(Label, str(row["label"])),
        confidence=float(row["confidence"]),
        disagreement=float(row["disagreement"]),
        label_error=float(row["label_error"]),
        score=float(row["score"]),
        probabilities={
            "부정": float(row["p_neg"]),
            "중립": float(row["p_neu"]),
            "긍정": float(row["p_pos"]),
        },
        member_labels=review_queue.member_labels(row),
        reviewed=bool(row["reviewed"]),
        injection_suspected=bool(row["injection_suspected"]),
        reason=str(row["reason"]),
    )


def router(ctx: ServingContext, require_reviewer: Callable[..., Reviewer]) -> APIRouter:
    """`GET /review-queue`, and `POST /review` for reviewers with a token."""
    api = APIRouter()

    def read_queue(
        where: review_queue.QueueFilter, include_reviewed: bool, preferred: str | None
    ) -> ReviewQueue:
        if not ctx.lakehouse.exists():
            return ReviewQueue(model_version=None, total=0, reviewed=0, items=[])
        reviewed = pd.DataFrame(
            list(ctx.store.reviews()), columns=pd.Index(["board_id", "post_id"]), dtype="int64"
        )
        version, frame, total, done = ctx.reader.run(
            lambda lake: review_queue.rank(
                lake,
                where,
                reviewed,
                include_reviewed=include_reviewed,
                preferred_version=preferred,
            )
        )
        items = [_item(row) for _, row in frame.iterrows()]
        return ReviewQueue(model_version=version, total=total, reviewed=done, items=items)

    @api.get("/review-queue", response_model=ReviewQueue, tags=["people"])
    def get_review_queue(
        board_id: Annotated[
            int | None, Query(ge=0, le=MAX_ID, description="Only this board.")
        ] = None,
        job: Annotated[str | None, Query(max_length=50, description="Only this job.")] = None,
        since: Annotated[
            datetime | None, Query(description="Posted at or after (no zone: UTC).")
        ] = None,
        until: Annotated[
            datetime | None, Query(description="Posted before (no zone: UTC).")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        include_reviewed: bool = False,
    ) -> ReviewQueue:
        """Posts ranked by uncertainty, member disagreement and label-error score."""
        where = review_queue.QueueFilter(board_id, job, since, until, limit)
        preferred = ctx.serving_version()
        key = (board_id, job, since, until, limit, include_reviewed, preferred)
        return ctx.cache.get(key, lambda: read_queue(where, include_reviewed, preferred))

    @api.post(
        "/review",
        response_model=ReviewOut,
        tags=["people"],
        responses={
            404: {"model": ErrorBody, "description": "The post has no prediction to review."},
            409: {"model": ErrorBody, "description": "Key reused for another correction."},
            **WRITE_ERRORS,
        },
    )
    def review(
        body: ReviewRequest, reviewer: Annotated[Reviewer, Depends(require_reviewer)]
    ) -> ReviewOut:
        """Accept the model's label for a queued post or correct it; marks it reviewed.

        The reviewer is the token's owner; the label decided on, with its model version and
        confidence, is the post's stored prediction (the champion's, else the newest).
        """
        shown = ctx.shown_prediction(body.board_id, body.post_id)
        if shown is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=f"post {body.board_id}/{body.post_id} has no prediction to review",
            )
        try:
            result = ctx.store.review(
                board_id=body.board_id,
                post_id=body.post_id,
                decision=body.decision,
                reviewer=reviewer.name,
                shown_label=shown.label,
                corrected_label=body.corrected_label,
                model_version=shown.model_version,
                confidence=shown.confidence,
                comment=body.comment,
                idempotency_key=body.idempotency_key,
                source=body.source,
            )
        except IdempotencyConflict as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
        except FeedbackError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
        ctx.cache.clear()
        r = result.review
        return ReviewOut(
            board_id=r.board_id,
            post_id=r.post_id,
            reviewed=r.reviewed,
            decision=r.decision,
            label=r.label,
            reviewer=r.reviewer,
            feedback_id=r.feedback_id,
            reviewed_at=r.reviewed_at,
            created=result.created,
        )

    return api
