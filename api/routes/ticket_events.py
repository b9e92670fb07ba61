"""Status changes on a ticket, reported by its technician or by the service desk."""

from __future__ import annotations

import time

from fastapi import APIRouter

from api.auth import ContextDep
from api.deps import SessionDep
from api.errors import documented
from api.params import TicketId
from api.routes.tickets import get_ticket
from api.schemas_fieldservice import FieldTicketOut, TicketEventIn
from fieldservice import flows

router = APIRouter(prefix="/tickets", tags=["tickets"])


@router.post(
    "/{ticket_id}/events",
    response_model=FieldTicketOut,
    responses=documented(404, 409),
)
def post_ticket_event(
    ticket_id: TicketId, event_in: TicketEventIn, session: SessionDep, context: ContextDep
) -> FieldTicketOut:
    """Move the ticket (e.g. `{"status": "en_route", "actor": "t-05"}`); 409 if not allowed."""
    flows.change_status(
        session=session,
        ticket_id=ticket_id,
        status=event_in.status,
        actor=event_in.actor,
        note=event_in.note,
        technician_id=event_in.technician_id,
        now=time.time(),
        config=context.fieldservice,
    )
    session.flush()
    return get_ticket(ticket_id, session)
