"""Who is asking: a bearer token (the operator's bootstrap token, or an API token) or the
browser's session cookie, resolved to a person with a role. 401 without a live credential."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.context import ApiContext
from api.deps import ContextDep, get_context
from domain.people import Role, actor_name
from fieldservice import credentials
from fieldservice.credentials import CredentialKind

__all__ = ["ContextDep", "get_context"]

SESSION_COOKIE = "faultline_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
BOOTSTRAP_OPERATOR = "operator"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="FAULTLINE_ADMIN_TOKEN, or a token from POST /api/v1/tokens",
)


@dataclass(frozen=True)
class Principal:
    """The person behind a request; `credential_id` is None for the bootstrap operator token."""

    role: Role
    subject: str
    credential_id: int | None
    csrf: str | None = None  # set when signed in by cookie: unsafe requests must echo it

    @property
    def actor(self) -> str:
        """Their name on a ticket's timeline and in the audit chain."""
        return actor_name(self.role, self.subject)


def csrf_for(session_secret: str) -> str:
    """The anti-forgery value a cookie session's pages send back with every change."""
    return hashlib.sha256(f"csrf:{session_secret}".encode()).hexdigest()[:32]


GATED = "faultline.principal"  # where the request gate leaves the person it resolved


def identify(
    request: Request,
    context: ContextDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal | str:
    """The person behind the request, or why there is none.

    A plain function, so FastAPI runs it in the thread pool (a database wait never blocks
    the event loop), and in a short read of its own: the request's transaction starts
    only when its route first touches the database. An API request was resolved already
    by the request gate, before its body was read: that answer is reused.
    """
    gated = request.scope.get(GATED)
    if gated is not None:
        return gated
    return resolve(
        context,
        bearer.credentials if bearer is not None else None,
        request.cookies.get(SESSION_COOKIE),
    )


def resolve(context: ApiContext, secret: str | None, cookie: str | None) -> Principal | str:
    """The person a bearer secret or a session cookie belongs to, or why there is none."""
    now = time.time()
    if secret is not None:
        if hmac.compare_digest(secret.encode(), context.admin_token.encode()):
            return Principal(Role.OPERATOR, BOOTSTRAP_OPERATOR, None)
        with context.sessions() as session:
            row = credentials.verify(
                session=session, secret=secret, now=now, kinds=(CredentialKind.API,)
            )
        if row is None:
            return "the bearer token is unknown, expired or revoked"
        return Principal(Role(row.role), row.subject, row.id)
    if cookie:
        with context.sessions() as session:
            row = credentials.verify(
                session=session, secret=cookie, now=now, kinds=(CredentialKind.SESSION,)
            )
        if row is None:
            return "your session has ended: open your sign-in link again"
        return Principal(Role(row.role), row.subject, row.id, csrf_for(cookie))
    return "missing bearer token (Authorization: Bearer <FAULTLINE_ADMIN_TOKEN or an API token>)"


IdentityDep = Annotated[Principal | str, Depends(identify)]


async def current_principal(request: Request, identity: IdentityDep) -> Principal:
    """401 without a live credential; a cookie session's changes must carry its CSRF value."""
    if isinstance(identity, str):
        raise _unauthorized(identity)
    await check_csrf(request, identity)
    return identity


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_operator(principal: PrincipalDep) -> Principal:
    if principal.role is not Role.OPERATOR:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this is for the service desk")
    return principal


OperatorDep = Annotated[Principal, Depends(require_operator)]


async def check_csrf(request: Request, principal: Principal) -> None:
    """Refuse a change made with a session cookie unless it echoes the page's CSRF value."""
    expected = principal.csrf
    if expected is None or request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"a change made with a session cookie must carry the page's {CSRF_HEADER}",
        )


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )
