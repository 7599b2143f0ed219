"""Who may write: the bearer token every write endpoint checks."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sentiment_assets.lib.serving.schemas import ErrorBody

bearer = HTTPBearer(auto_error=False, description="SENTIMENT_API_TOKEN")
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No bearer token."},
    403: {"model": ErrorBody, "description": "Wrong bearer token."},
    413: {"model": ErrorBody, "description": "Body larger than the configured limit."},
    422: {"description": "Invalid JSON, unknown label, empty or overlong text."},
}


def token_check(api_token: str) -> Callable[..., str]:
    """The dependency that lets a request through only with `api_token`."""
    token = api_token.encode()

    def require_token(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="send Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(credentials.credentials.encode(), token):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="wrong bearer token")
        return credentials.credentials

    return require_token
