"""Who may write: a reviewer's own bearer token, checked on every write endpoint.

Tokens are created and revoked with `sentiment reviewers` and stored as digests in the feedback
store (`lib/feedback/reviewer_tokens.py`); the dependency resolves the token to its reviewer
on every request, so a revocation holds from the next request, in every API process. A request
without a bearer token gets 401; a token never issued, a revoked one, or the shared
SENTIMENT_API_TOKEN of older deployments gets 403 saying which.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sentiment_assets.lib.feedback.store import FeedbackStore
from sentiment_assets.lib.serving.schemas import ErrorBody

bearer = HTTPBearer(
    auto_error=False,
    description="A reviewer's own token, from `sentiment reviewers create NAME`.",
)
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No bearer token."},
    403: {"model": ErrorBody, "description": "Unknown, revoked or shared token."},
    413: {"model": ErrorBody, "description": "Body larger than the configured limit."},
    422: {
        "description": "Invalid JSON, unknown label, empty, invisible, overlong or "
        "unscreened text, a field the server fills in."
    },
}
SHARED_TOKEN_REFUSED = (
    "the shared SENTIMENT_API_TOKEN no longer authorises writes: each reviewer needs a token of "
    "their own (`sentiment reviewers create NAME`), or an operator registers the shared one as "
    "a reviewer's (`sentiment reviewers create NAME --adopt-shared-token`)"
)


@dataclass(frozen=True)
class Reviewer:
    """The person a request writes for, from the token it carried."""

    name: str
    token_created_at: str


def reviewer_check(store: FeedbackStore, shared_token: str | None) -> Callable[..., Reviewer]:
    """The dependency that resolves a request's bearer token to its reviewer.

    Args:
        store: where the token digests are.
        shared_token: the old shared token, if still configured: recognised only to tell its
            senders how to move on.
    """
    shared = shared_token.encode() if shared_token else None

    def require_reviewer(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Reviewer:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="send Authorization: Bearer <your reviewer token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        token = credentials.credentials
        owner = store.token_owner(token)
        if owner is None:
            if shared is not None and hmac.compare_digest(token.encode(), shared):
                raise HTTPException(status.HTTP_403_FORBIDDEN, detail=SHARED_TOKEN_REFUSED)
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail="unknown token: ask an operator for one (`sentiment reviewers create`)",
            )
        if not owner.active:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"this token was revoked at {owner.revoked_at}; ask for a new one",
            )
        return Reviewer(owner.reviewer, owner.created_at)

    return require_reviewer
