"""The front door, before a byte of the body is read: an API request without a valid token
is refused (401), and a body over the limit is refused (413) from its Content-Length or, when
chunked, as soon as the bytes streamed past the limit."""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import UNAUTHENTICATED, error_response


def too_large(limit: int) -> str:
    return (
        f"request body over the limit of {limit} bytes; send less, or raise "
        "FAULTLINE_HTTP_MAX_BODY_BYTES"
    )


class RequestGate:
    """ASGI middleware: `authenticated(authorization header)` guards paths under `prefix`;
    `max_body_bytes` bounds every request body."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str,
        authenticated: Callable[[str | None], bool],
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.authenticated = authenticated
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["path"].startswith(self.prefix) and not self.authenticated(
            headers.get("authorization")
        ):
            refusal = error_response(401, UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"})
            await refusal(scope, receive, send)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await error_response(413, too_large(self.max_body_bytes))(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        limit = self.max_body_bytes
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # An HTTPException passes through FastAPI's body reading untouched and
                    # reaches the app's handler, which answers 413 in the API's error body.
                    raise HTTPException(413, too_large(limit))
            return message

        return counted
