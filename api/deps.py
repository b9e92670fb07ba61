"""Request-scoped dependencies: the service's context, and one database transaction per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.context import ApiContext


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


ContextDep = Annotated[ApiContext, Depends(get_context)]


def get_session(context: ContextDep) -> Iterator[Session]:
    with context.sessions.begin() as session:
        yield session


# Function scope: the transaction commits before the response goes out, so a client that
# got 2xx (or followed a redirect) finds the change, and a failed commit is an error, not a
# success reported for something that was then lost.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
