"""Bearer-token authentication for the operator API."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.context import ApiContext
from api.errors import UNAUTHENTICATED

_bearer = HTTPBearer(auto_error=False)


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


ContextDep = Annotated[ApiContext, Depends(get_context)]


def token_is_valid(context: ApiContext, token: str) -> bool:
    return hmac.compare_digest(token.encode(), context.admin_token.encode())


def authorization_is_valid(context: ApiContext, authorization: str | None) -> bool:
    """Whether an `Authorization` header carries a valid bearer token (checked before the
    body is read, see `api.request_gate`)."""
    scheme, _, token = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and token_is_valid(context, token.strip())


def require_operator(
    context: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if credentials is None or not token_is_valid(context, credentials.credentials):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"}
        )
