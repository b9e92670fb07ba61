"""When the technician should reach the customer: the planned arrival until they set off, then
the time they set off plus the drive from their previous stop (or their base)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldservice.geo import haversine_km
from storage.models import (
    DeviceRow,
    TechnicianRow,
    TicketEventRow,
    TicketRow,
    TicketStatus,
    WorkOrderRow,
)

HOUR_S = 3600.0


def estimate(
    *,
    session: Session,
    ticket: TicketRow,
    order: WorkOrderRow | None,
    speed_kmh: float,
) -> float | None:
    """Estimated arrival (wall clock), or None when there is no visit to arrive at.

    Three queries at most: when they set off, the previous stop of the day, the base.
    """
    status = TicketStatus(ticket.status)
    if order is None or ticket.technician_id is None:
        return None
    if status is TicketStatus.ASSIGNED:
        return order.eta or order.window_start
    if status is not TicketStatus.EN_ROUTE:
        return None
    set_off = session.scalar(
        select(TicketEventRow.at)
        .where(TicketEventRow.ticket_id == ticket.id)
        .where(TicketEventRow.to_status == TicketStatus.EN_ROUTE.value)
        .order_by(TicketEventRow.id.desc())
        .limit(1)
    )
    device = session.get(DeviceRow, ticket.device_id)
    if set_off is None or device is None:
        return order.eta
    start = _previous_stop(session, ticket.technician_id, order)
    if start is None:
        tech = session.get(TechnicianRow, ticket.technician_id)
        if tech is None:
            return order.eta
        start = (tech.base_lat, tech.base_lon)
    km = haversine_km(start[0], start[1], device.lat, device.lon)
    return float(set_off) + km / speed_kmh * HOUR_S


def _previous_stop(
    session: Session, technician_id: str, order: WorkOrderRow
) -> tuple[float, float] | None:
    """Where the technician was last: the visit of the same day just before this one."""
    if order.service_day is None or order.window_start is None:
        return None
    row = session.execute(
        select(DeviceRow.lat, DeviceRow.lon)
        .select_from(WorkOrderRow)
        .join(TicketRow, TicketRow.id == WorkOrderRow.ticket_id)
        .join(DeviceRow, DeviceRow.device_id == TicketRow.device_id)
        .where(WorkOrderRow.technician_id == technician_id)
        .where(WorkOrderRow.service_day == order.service_day)
        .where(WorkOrderRow.id != order.id)
        .where(WorkOrderRow.window_start < order.window_start)
        .order_by(WorkOrderRow.window_start.desc())
        .limit(1)
    ).first()
    return None if row is None else (float(row[0]), float(row[1]))
