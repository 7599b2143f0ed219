"""422 answers that can always be written, whatever the request held.

FastAPI's own handler echoes each invalid value back as `input`. A value JSON cannot carry (an
unpaired surrogate, which Python's JSON parser accepts from an escape such as U+D800 written
as backslash-u, or NaN, which it accepts as a bare word) then fails the response's own
encoding, and the client gets a 500 instead of its 422. The echo is also a copy of whatever a
client sent, up to the body limit. So the 422 keeps what says what is wrong (`type`, `loc`,
`msg`) and drops the value.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _location(loc: Any) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """The 422 for a request that failed validation: each error's type, location, message."""
    del request
    assert isinstance(exc, RequestValidationError)
    detail = [
        {
            "type": str(error.get("type", "")),
            "loc": _location(error.get("loc", ())),
            # A message is ours or pydantic's and never quotes the value, but it may carry an
            # exception's text: keep it encodable.
            "msg": str(error.get("msg", "")).encode("utf-8", "backslashreplace").decode(),
        }
        for error in exc.errors()
    ]
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": detail}
    )
