"""A customer moves their booked visit: the two-hour windows their technician can still offer
over the next working days, and moving the visit to one of them.

The chosen window is pinned (`pinned_by`): later routing of that day leaves it where the
customer put it. Technician and customer both get the new time, as with any booking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from domain.people import Role
from fieldservice import lifecycle, scheduling, technicians, work_orders
from fieldservice.config import FieldServiceConfig
from fieldservice.errors import IllegalTransitionError, InvalidRequestError
from fieldservice.work_orders import WorkOrderStatus
from storage.models import DeviceRow, TechnicianRow, TicketRow, TicketStatus, WorkOrderRow

HOUR_S = 3600.0
WINDOW_S = 2 * HOUR_S
# Offer nothing that starts sooner than this: the technician needs time to re-plan.
LEAD_S = 2 * HOUR_S
DAYS_AHEAD = 3
MAX_OFFERS = 12


@dataclass(frozen=True)
class Window:
    """A visiting window on the technician's local `day`; times are Unix seconds."""

    day: str
    start: float
    end: float


def offered(*, session: Session, ticket: TicketRow, now: float) -> list[Window]:
    """Windows this ticket's visit can move to (empty if it cannot be moved any more)."""
    order = work_orders.get_for_ticket(session=session, ticket_id=ticket.id)
    if ticket.status != TicketStatus.ASSIGNED.value or order is None or not ticket.technician_id:
        return []
    tech = session.get(TechnicianRow, ticket.technician_id)
    if tech is None:
        return []
    days: list[technicians.Shift] = []
    clock = now + LEAD_S
    for _ in range(DAYS_AHEAD):
        shift = technicians.next_shift(tech, clock, min_left_s=WINDOW_S)
        if shift is None:
            break
        days.append(shift)
        clock = _next_local_midnight(shift.end - 1.0, tech.utc_offset_min)
    booked = work_orders.booked(
        session=session, technician_ids=[tech.technician_id], days=[d.day for d in days]
    )
    windows: list[Window] = []
    for shift in days:
        taken = booked.get((tech.technician_id, shift.day), 0)
        if order.service_day == shift.day:
            taken -= 1  # this visit's own slot frees up when it moves
        if taken >= tech.daily_capacity:
            continue
        start = math.ceil(shift.start / HOUR_S) * HOUR_S
        while start + WINDOW_S <= shift.end and len(windows) < MAX_OFFERS:
            if start != order.window_start:
                windows.append(Window(shift.day, start, start + WINDOW_S))
            start += WINDOW_S
    return windows


def reschedule(
    *,
    session: Session,
    ticket: TicketRow,
    window_start: float,
    actor: str,
    now: float,
    config: FieldServiceConfig,
) -> WorkOrderRow:
    """Move the visit to the offered window starting at `window_start`."""
    if ticket.status != TicketStatus.ASSIGNED.value:
        raise IllegalTransitionError(
            f"ticket {ticket.id} is {ticket.status}: only a booked visit that has not started "
            "can be moved — please call the service desk"
        )
    choice = next(
        (w for w in offered(session=session, ticket=ticket, now=now) if w.start == window_start),
        None,
    )
    if choice is None:
        raise InvalidRequestError(
            f"{window_start:.0f} is not one of the windows offered for ticket {ticket.id}; "
            "choose one from the list of offered windows"
        )
    order = work_orders.get_for_ticket(session=session, ticket_id=ticket.id)
    tech = session.get(TechnicianRow, ticket.technician_id or "")
    device = session.get(DeviceRow, ticket.device_id)
    assert order is not None and tech is not None and device is not None
    before = {"day": order.service_day, "start": order.window_start, "end": order.window_end}
    order.service_day = choice.day
    order.window_start, order.window_end = choice.start, choice.end
    order.eta = choice.start
    order.route_seq = None
    order.pinned_by = actor
    order.status = WorkOrderStatus.SCHEDULED.value
    order.updated_at = now
    lifecycle.record(
        session=session,
        ticket=ticket,
        actor=actor,
        kind="rescheduled",
        now=now,
        note=f"visit moved to {choice.day}",
        data={
            "role": Role.CUSTOMER.value if actor.startswith("customer:") else "operator",
            "from": before,
            "to": {"day": choice.day, "start": choice.start, "end": choice.end},
        },
    )
    day = work_orders.list_for_technician(
        session=session, technician_id=tech.technician_id, day=choice.day
    )
    position = 1 + sum(
        1 for o in day if o.id != order.id and (o.window_start or 0.0) <= choice.start
    )
    scheduling.announce_visit(
        session=session,
        order=order,
        ticket=ticket,
        device=device,
        tech=tech,
        position=position,
        moved=True,
        now=now,
        config=config,
    )
    return order


def _next_local_midnight(ts: float, offset_min: int) -> float:
    offset = offset_min * 60.0
    return (math.floor((ts + offset) / 86400.0) + 1) * 86400.0 - offset
