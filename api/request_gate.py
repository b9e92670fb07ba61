"""The front door, before a byte of the body is read: an API request without a live
credential is refused (401), and a body over the limit is refused (413) from its
Content-Length or, when chunked, as soon as the bytes streamed past the limit.

Who is asking is resolved here (in a worker thread: it may read the database) and left in
the request's scope, so the route's own check does not look it up again."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie

from anyio import to_thread
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

# (bearer secret, session cookie) -> the person, or why there is none
Resolver = Callable[[str | None, str | None], object]


def too_large(limit: int) -> str:
    return (
        f"request body over the limit of {limit} bytes; send less, or raise "
        "FAULTLINE_HTTP_MAX_BODY_BYTES"
    )


class RequestGate:
    """ASGI middleware: `resolve(bearer, cookie)` guards paths under `prefix` (a string
    answer is the reason for a 401; anything else is the person, kept in `scope[key]`);
    `max_body_bytes` bounds every request body."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str,
        resolve: Resolver,
        key: str,
        cookie_name: str,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.resolve = resolve
        self.key = key
        self.cookie_name = cookie_name
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["path"].startswith(self.prefix):
            who = await to_thread.run_sync(self.resolve, *self._credentials(headers))
            if isinstance(who, str):
                refusal = error_response(401, who, headers={"WWW-Authenticate": "Bearer"})
                await refusal(scope, receive, send)
                return
            scope[self.key] = who
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await error_response(413, too_large(self.max_body_bytes))(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _credentials(self, headers: Headers) -> tuple[str | None, str | None]:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" and token.strip() else None
        cookie = None
        if "cookie" in headers:
            jar: SimpleCookie = SimpleCookie()
            jar.load(headers["cookie"])
            morsel = jar.get(self.cookie_name)
            cookie = morsel.value if morsel is not None else None
        return bearer, cookie

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
