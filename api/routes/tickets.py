"""Service tickets with their diagnosis, SLA and timeline."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from api.auth import PrincipalDep
from api.deps import SessionDep
from api.errors import documented
from api.pagination import MAX_LIMIT, IdCursor, Page, page, row_id
from api.params import DeviceIdFilter, TicketId
from api.schemas import TicketEventOut
from api.schemas_fieldservice import FieldTicketOut, field_service_fields
from domain.people import Role
from fieldservice import scopes, tickets
from storage.models import TicketStatus

router = APIRouter(prefix="/tickets", tags=["tickets"])


def _ticket_out(session: Session, row: Any) -> FieldTicketOut:
    events = tickets.timeline(session=session, ticket_id=row.id)
    return FieldTicketOut(
        id=row.id,
        device_id=row.device_id,
        fault_code=row.fault_code,
        severity=row.severity,
        status=row.status,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        detected_at=row.detected_at,
        onset_at=row.onset_at,
        last_detected_at=row.last_detected_at,
        occurrences=row.occurrences,
        diagnosis=row.diagnosis or {},
        technician_id=row.technician_id,
        timeline=[TicketEventOut.model_validate(event) for event in events],
        **field_service_fields(session, row),
    )


@router.get("", response_model=Page[FieldTicketOut])
def list_tickets(
    session: SessionDep,
    principal: PrincipalDep,
    status: TicketStatus | None = None,
    device_id: DeviceIdFilter = None,
    cursor: IdCursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    """The desk sees every ticket; a technician those assigned to them; a customer their own."""
    rows = tickets.list_page(
        session=session,
        status=status,
        device_id=device_id,
        before_id=row_id(cursor),
        limit=limit + 1,
        customer_id=principal.subject if principal.role is Role.CUSTOMER else None,
        technician_id=principal.subject if principal.role is Role.TECHNICIAN else None,
    )
    result = page(rows, limit, lambda row: str(row.id))
    result["items"] = [_ticket_out(session, row) for row in result["items"]]
    return result


@router.get("/{ticket_id}", response_model=FieldTicketOut, responses=documented(403, 404))
def get_ticket(ticket_id: TicketId, session: SessionDep, principal: PrincipalDep) -> FieldTicketOut:
    row = scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )
    return _ticket_out(session, row)


def ticket_out(session: Session, ticket_id: int) -> FieldTicketOut:
    """The ticket's JSON (for routes that changed it and answer with it)."""
    row = tickets.get(session=session, ticket_id=ticket_id)
    assert row is not None, "the caller just changed this ticket"
    return _ticket_out(session, row)
