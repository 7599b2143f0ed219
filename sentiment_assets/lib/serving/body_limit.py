"""A request-body size limit whose 413 is the API's JSON error body, declared or streamed.

FastAPI's own `max_body_size` answers an oversized body with a plain-text 413 from outside the
app's exception handling, which breaks the documented `{"detail": ...}` error body. This ASGI
middleware refuses a declared Content-Length over the limit before anything is read, and counts
the bytes of a streamed (chunked) body as the endpoint reads them, raising an HTTPException the
app's handlers turn into the usual JSON error. Either way the endpoint never sees the body, so
nothing is written.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _detail(limit: int) -> str:
    return f"request body larger than {limit} bytes"


class BodyLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413 and a JSON `detail`."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its body counted, or answer 413 at once."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _send_413(send, self.max_bytes)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, detail=_detail(self.max_bytes))
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # not a number: leave it to the server, count what arrives
    return None


async def _send_413(send: Send, limit: int) -> None:
    body = json.dumps({"detail": _detail(limit)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The unread body is still on the wire: do not reuse this connection.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
