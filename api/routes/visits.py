"""The customer's say over a visit: the windows it can move to, moving it, rating it after."""

from __future__ import annotations

import time

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.auth import ContextDep, PrincipalDep
from api.deps import SessionDep
from api.errors import documented
from api.params import TicketId, UnixSeconds
from domain.people import Role
from fieldservice import ratings, rescheduling, scopes

router = APIRouter(prefix="/tickets", tags=["visits"])


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window_start: UnixSeconds = Field(description="the `start` of one of GET …/windows")


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stars: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class WindowOut(BaseModel):
    """A visiting window on the technician's local `day`; times are Unix seconds."""

    day: str
    start: float
    end: float


class WindowsOut(BaseModel):
    items: list[WindowOut]
    next: None = Field(default=None, description="always null: every window is on one page")


class VisitWindowOut(BaseModel):
    start: float | None
    end: float | None


class RescheduledOut(BaseModel):
    ticket_id: int
    service_day: str | None
    window: VisitWindowOut


class RatingOut(BaseModel):
    ticket_id: int
    stars: int
    comment: str | None


def _window(window: rescheduling.Window) -> WindowOut:
    return WindowOut(day=window.day, start=window.start, end=window.end)


@router.get("/{ticket_id}/windows", response_model=WindowsOut, responses=documented(403, 404))
def offered_windows(
    ticket_id: TicketId, session: SessionDep, principal: PrincipalDep
) -> WindowsOut:
    """Two-hour windows the booked visit can move to (empty once it has started)."""
    scopes.only(principal.role, Role.CUSTOMER, what="moving a visit")
    ticket = scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )
    windows = rescheduling.offered(session=session, ticket=ticket, now=time.time())
    return WindowsOut(items=[_window(w) for w in windows])


@router.post(
    "/{ticket_id}/reschedule", response_model=RescheduledOut, responses=documented(403, 404, 409)
)
def reschedule_visit(
    ticket_id: TicketId,
    reschedule_in: RescheduleIn,
    session: SessionDep,
    context: ContextDep,
    principal: PrincipalDep,
) -> RescheduledOut:
    """Move the booked visit to one of the offered windows; 409 once it has started."""
    scopes.only(principal.role, Role.CUSTOMER, what="moving a visit")
    ticket = scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )
    order = rescheduling.reschedule(
        session=session,
        ticket=ticket,
        window_start=reschedule_in.window_start,
        actor=principal.actor,
        now=time.time(),
        config=context.fieldservice,
    )
    return RescheduledOut(
        ticket_id=ticket_id,
        service_day=order.service_day,
        window=VisitWindowOut(start=order.window_start, end=order.window_end),
    )


@router.post("/{ticket_id}/rating", response_model=RatingOut, responses=documented(403, 404, 409))
def rate_visit(
    ticket_id: TicketId, rating_in: RatingIn, session: SessionDep, principal: PrincipalDep
) -> RatingOut:
    """The appliance's owner rates the visit once the repair is done."""
    scopes.only(principal.role, Role.CUSTOMER, what="rating a visit")
    ticket = scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )
    device = scopes.device(
        session=session, role=principal.role, subject=principal.subject, device_id=ticket.device_id
    )
    row = ratings.rate(
        session=session,
        ticket=ticket,
        customer_id=device.customer_id,
        stars=rating_in.stars,
        comment=rating_in.comment,
        actor=principal.actor,
        now=time.time(),
    )
    return RatingOut(ticket_id=ticket_id, stars=row.stars, comment=row.comment)
