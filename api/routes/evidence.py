"""A ticket's evidence as chart data: the metrics that moved, the normal band, onset, detection."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import ContextDep, PrincipalDep
from api.deps import SessionDep
from fieldservice import scopes
from fieldservice.views import evidence

router = APIRouter(prefix="/tickets", tags=["tickets"])


@router.get("/{ticket_id}/evidence")
def ticket_evidence(
    ticket_id: int, session: SessionDep, context: ContextDep, principal: PrincipalDep
) -> dict[str, Any]:
    """For the desk, the ticket's technician and the appliance's owner."""
    ticket = scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )
    device = scopes.device(
        session=session, role=principal.role, subject=principal.subject, device_id=ticket.device_id
    )

    def readings(device_id: str, start: float, end: float) -> Any:
        return context.telemetry.query(device_id=device_id, start=start, end=end, limit=20_000)

    return evidence.for_ticket(
        ticket=ticket, device_type=device.type, readings=readings, config=context.fieldservice
    )
