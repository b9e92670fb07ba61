"""Households: one customer's appliances at one address, and faults that hit them all at once.

When several appliances of a home report the same fault within minutes (all
DEVICE_OFFLINE: the power or the router went), that is one incident at the home, not
several broken appliances: the customer gets one notice and nobody is dispatched. Tickets
with such a fault are held a little while (`household_hold_s`) before dispatch and the
customer alert, so that the rest of the home can show up; `release_holds` lets them go
when nothing else did.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldservice import lifecycle, work_orders
from fieldservice.config import FieldServiceConfig
from fieldservice.geo import haversine_km
from fieldservice.lifecycle import Role
from fieldservice.notifications import messages
from fieldservice.work_orders import WorkOrderStatus
from storage.models import OPEN_STATUSES, DeviceRow, TechnicianRow, TicketRow, TicketStatus


def members(*, session: Session, device: DeviceRow, radius_km: float) -> list[DeviceRow]:
    """The appliances of `device`'s home: same customer, within `radius_km` (itself included)."""
    same_customer = session.scalars(
        select(DeviceRow).where(DeviceRow.customer_id == device.customer_id)
    ).all()
    return sorted(
        (
            d
            for d in same_customer
            if haversine_km(d.lat, d.lon, device.lat, device.lon) <= radius_km
        ),
        key=lambda d: d.device_id,
    )


def key(home: Sequence[DeviceRow]) -> str:
    """A stable name for the home: its customer and its first appliance."""
    first = min(home, key=lambda d: d.device_id)
    return f"{first.customer_id}/{first.device_id}"


def incident(
    *,
    session: Session,
    ticket: TicketRow,
    home: Sequence[DeviceRow],
    window_s: float,
    min_devices: int,
) -> list[TicketRow]:
    """The open tickets of the home with `ticket`'s fault detected within `window_s` (event time)
    of it, if they span at least `min_devices` appliances; otherwise an empty list."""
    if len(home) < min_devices:
        return []
    tickets = session.scalars(
        select(TicketRow)
        .where(TicketRow.device_id.in_([d.device_id for d in home]))
        .where(TicketRow.fault_code == ticket.fault_code)
        .where(TicketRow.status.in_([s.value for s in OPEN_STATUSES]))
        .where(TicketRow.detected_at >= ticket.detected_at - window_s)
        .where(TicketRow.detected_at <= ticket.detected_at + window_s)
        .order_by(TicketRow.id)
    ).all()
    if len({t.device_id for t in tickets}) < min_devices:
        return []
    return list(tickets)


def handle_incident(
    *,
    session: Session,
    ticket: TicketRow,
    device: DeviceRow,
    now: float,
    config: FieldServiceConfig,
) -> None:
    """If `ticket` makes its home an incident: hold all its tickets, tell the customer once."""
    home = members(session=session, device=device, radius_km=config.household_radius_km)
    group = incident(
        session=session,
        ticket=ticket,
        home=home,
        window_s=config.household_window_s,
        min_devices=config.household_min_devices,
    )
    if not group:
        return
    home_key = key(home)
    reason = (
        f"household incident: {len(group)} appliances of customer {device.customer_id} "
        f"reported {ticket.fault_code} together — likely power or network; no dispatch"
    )
    for member in group:
        order = work_orders.get_for_ticket(session=session, ticket_id=member.id)
        if order is None or order.household_key is not None:
            continue
        if member.status == TicketStatus.ASSIGNED.value:
            _withdraw(session, member, reason, now, config)
        order.status = WorkOrderStatus.HELD.value
        order.hold_until = None
        order.hold_reason = reason
        order.household_key = home_key
        order.updated_at = now
        lifecycle.record(
            session=session,
            ticket=member,
            actor="dispatcher",
            kind="household_incident",
            now=now,
            note=reason,
            data={"household": home_key, "tickets": [t.id for t in group]},
        )
    by_id = {d.device_id: d for d in home}
    messages.to_household(
        session=session,
        devices=[by_id[t.device_id] for t in group if t.device_id in by_id],
        fault_code=ticket.fault_code,
        ticket_id=group[0].id,
        key=f"household/{home_key}/{ticket.fault_code}/t{group[0].id}",
        config=config,
        now=now,
    )


def _withdraw(
    session: Session, ticket: TicketRow, reason: str, now: float, config: FieldServiceConfig
) -> None:
    """Take an assigned (not yet travelling) job back from its technician."""
    technician = session.get(TechnicianRow, ticket.technician_id) if ticket.technician_id else None
    lifecycle.apply(
        session=session,
        ticket=ticket,
        target=TicketStatus.OPENED,
        actor="dispatcher",
        role=Role.SYSTEM,
        now=now,
        kind="unassigned",
        note=reason,
    )
    ticket.technician_id = None
    if technician is not None:
        messages.to_technician(
            session=session,
            technician=technician,
            ticket=ticket,
            kind="job_withdrawn",
            key=f"t{ticket.id}/withdrawn/{int(now * 1000)}",
            fields={"ticket_id": ticket.id, "reason": reason},
            config=config,
            now=now,
        )


def release_holds(*, session: Session, now: float, config: FieldServiceConfig) -> list[int]:
    """Work orders held to rule out a household incident that did not happen: dispatch them now."""
    released = []
    for order, ticket, device in work_orders.expired_holds(session=session, now=now):
        order.status = WorkOrderStatus.PENDING.value
        order.hold_until = None
        order.hold_reason = None
        order.updated_at = now
        messages.to_customer(
            session=session,
            ticket=ticket,
            device=device,
            kind="fault_alert",
            key=f"t{ticket.id}/r{order.revision}/fault_alert",
            config=config,
            now=now,
        )
        released.append(ticket.id)
    return released
