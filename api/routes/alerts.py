"""Customer alerts: every message sent (or queued) to customers, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import SessionDep
from api.pagination import MAX_LIMIT, decode_cursor, page
from api.schemas_fieldservice import AlertOut
from fieldservice.notifications import outbox

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("")
def list_alerts(
    session: SessionDep,
    customer_id: str | None = None,
    ticket_id: int | None = None,
    audience: str = "customer",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    """`audience=technician` or `desk` lists those messages instead."""
    rows = outbox.list_page(
        session=session,
        customer_id=customer_id,
        ticket_id=ticket_id,
        audience=audience,
        before_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    result = page(rows, limit, lambda row: row.id)
    result["items"] = [AlertOut.of(row) for row in result["items"]]
    return result
