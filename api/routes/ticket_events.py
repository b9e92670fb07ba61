"""Status changes on a ticket, made as the signed-in technician, operator or customer."""

from __future__ import annotations

import time

from fastapi import APIRouter

from api.auth import ContextDep, PrincipalDep
from api.deps import SessionDep
from api.errors import documented
from api.params import TicketId
from api.routes.tickets import ticket_out
from api.schemas_fieldservice import FieldTicketOut, TicketEventIn
from fieldservice import flows, scopes
from fieldservice.errors import ForbiddenError

router = APIRouter(prefix="/tickets", tags=["tickets"])


@router.post(
    "/{ticket_id}/events",
    response_model=FieldTicketOut,
    responses=documented(403, 404, 409),
)
def post_ticket_event(
    ticket_id: TicketId,
    event_in: TicketEventIn,
    session: SessionDep,
    context: ContextDep,
    principal: PrincipalDep,
) -> FieldTicketOut:
    """Move the ticket (e.g. `{"status": "en_route"}`); 409 if not allowed from where it is.

    The change is recorded as the person the credential belongs to: a technician moves only
    tickets assigned to them, a customer can only cancel their own visit before it starts.
    """
    if event_in.actor is not None and event_in.actor != principal.actor:
        raise ForbiddenError(
            f"changes are recorded as who is signed in ({principal.actor}), "
            f"not {event_in.actor!r}: leave `actor` out"
        )
    scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )
    flows.change_status(
        session=session,
        ticket_id=ticket_id,
        status=event_in.status,
        actor=principal.actor,
        role=principal.role,
        note=event_in.note,
        technician_id=event_in.technician_id,
        now=time.time(),
        config=context.fieldservice,
    )
    session.flush()
    return ticket_out(session, ticket_id)
