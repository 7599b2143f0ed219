"""Routes about reviewers: who a token belongs to, and the audit trail of their writes."""

# No `from __future__ import annotations`: FastAPI must evaluate the `Depends(require_reviewer)`
# annotations, and `require_reviewer` is a local of `router`, invisible to a deferred lookup.

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from sentiment_assets.lib.serving.auth import WRITE_ERRORS, Reviewer
from sentiment_assets.lib.serving.context import ServingContext
from sentiment_assets.lib.serving.schemas import MAX_ID, AuditEntry, Me

_AUTH: dict[int | str, dict[str, Any]] = {code: WRITE_ERRORS[code] for code in (401, 403)}


def router(ctx: ServingContext, require_reviewer: Callable[..., Reviewer]) -> APIRouter:
    """`GET /me` and `GET /audit`, for reviewers with a token."""
    api = APIRouter()

    @api.get("/me", response_model=Me, tags=["people"], responses=_AUTH)
    def me(reviewer: Annotated[Reviewer, Depends(require_reviewer)]) -> Me:
        """The reviewer the bearer token belongs to (how a client checks its token)."""
        return Me(reviewer=reviewer.name, token_created_at=reviewer.token_created_at)

    @api.get(
        "/audit",
        response_model=list[AuditEntry],
        tags=["people"],
        dependencies=[Depends(require_reviewer)],
        responses=_AUTH,
    )
    def audit(
        board_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
        post_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[AuditEntry]:
        """Who changed which label when, newest first; one post's with `board_id`+`post_id`."""
        rows = ctx.store.audit_trail(board_id=board_id, post_id=post_id, limit=limit)
        return [AuditEntry.model_validate(row) for row in rows]

    return api
