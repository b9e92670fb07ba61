"""Customer alerts: every message sent (or queued) to customers, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import PrincipalDep
from api.deps import SessionDep
from api.errors import documented
from api.pagination import MAX_LIMIT, IdCursor, Page, page, row_id
from api.params import TicketIdFilter
from api.schemas_fieldservice import AlertOut
from domain.people import Role
from fieldservice import scopes
from fieldservice.notifications import outbox
from fieldservice.notifications.outbox import Audience

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("", response_model=Page[AlertOut], responses=documented(403))
def list_alerts(
    session: SessionDep,
    principal: PrincipalDep,
    customer_id: str | None = None,
    ticket_id: TicketIdFilter = None,
    audience: Audience = Audience.CUSTOMER,
    cursor: IdCursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    """`audience=technician` or `desk` lists those messages instead (for the desk).

    A customer sees only the alerts sent to them.
    """
    scopes.only(principal.role, Role.CUSTOMER, what="the message log")
    if principal.role is Role.CUSTOMER:
        if customer_id not in (None, principal.subject) or audience != "customer":
            scopes.only(principal.role, what="other people's messages")
        customer_id = principal.subject
    rows = outbox.list_page(
        session=session,
        customer_id=customer_id,
        ticket_id=ticket_id,
        audience=audience,
        before_id=row_id(cursor),
        limit=limit + 1,
    )
    result = page(rows, limit, lambda row: str(row.id))
    result["items"] = [AlertOut.of(row) for row in result["items"]]
    return result
