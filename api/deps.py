"""Request-scoped dependencies: one database transaction per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from api.auth import ContextDep


def get_session(context: ContextDep) -> Iterator[Session]:
    with context.sessions.begin() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
