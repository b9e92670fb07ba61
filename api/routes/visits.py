"""The customer's say over a visit: the windows it can move to, moving it, rating it after."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.auth import ContextDep, PrincipalDep
from api.deps import SessionDep
from domain.people import Role
from fieldservice import ratings, rescheduling, scopes

router = APIRouter(prefix="/tickets", tags=["visits"])


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window_start: float = Field(description="the `start` of one of GET …/windows")


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stars: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


def _window(window: rescheduling.Window) -> dict[str, Any]:
    return {"day": window.day, "start": window.start, "end": window.end}


@router.get("/{ticket_id}/windows")
def offered_windows(ticket_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """Two-hour windows the booked visit can move to (empty once it has started)."""
    scopes.only(principal.role, Role.CUSTOMER, what="moving a visit")
    ticket = scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )
    windows = rescheduling.offered(session=session, ticket=ticket, now=time.time())
    return {"items": [_window(w) for w in windows], "next": None}


@router.post("/{ticket_id}/reschedule")
def reschedule_visit(
    ticket_id: int,
    reschedule_in: RescheduleIn,
    session: SessionDep,
    context: ContextDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
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
    return {
        "ticket_id": ticket_id,
        "service_day": order.service_day,
        "window": {"start": order.window_start, "end": order.window_end},
    }


@router.post("/{ticket_id}/rating")
def rate_visit(
    ticket_id: int, rating_in: RatingIn, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
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
    return {"ticket_id": ticket_id, "stars": row.stars, "comment": row.comment}
