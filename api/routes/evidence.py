"""A ticket's evidence as chart data: the metrics that moved, the normal band, onset, detection."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.auth import ContextDep, PrincipalDep
from api.deps import SessionDep
from api.errors import documented
from api.params import TicketId
from fieldservice import scopes
from fieldservice.views import evidence

router = APIRouter(prefix="/tickets", tags=["tickets"])


class MetricPanelOut(BaseModel):
    """One metric's series, aligned with the chart's `ts`."""

    name: str
    values: list[float | None]
    band: list[float] | None = Field(
        description="the normal band [5th, 95th percentile] before onset, if enough readings"
    )
    baseline: float | None = Field(description="what the detector compared against")
    binary: bool = Field(description="an on/off metric (only 0 and 1 seen)")


class EvidenceOut(BaseModel):
    ticket_id: int
    device_id: str
    fault_code: str
    onset_at: float
    detected_at: float
    ts: list[float]
    metrics: list[MetricPanelOut]
    readings: int = Field(description="how many readings the window held (before thinning)")


@router.get("/{ticket_id}/evidence", response_model=EvidenceOut, responses=documented(403, 404))
def ticket_evidence(
    ticket_id: TicketId, session: SessionDep, context: ContextDep, principal: PrincipalDep
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
