"""Dispatch rounds: assign the waiting tickets in one batch, route each technician's day,
fill in the work orders, and tell technicians and customers when the visit is.

One round runs in one transaction. On PostgreSQL an advisory lock keeps concurrent
rounds (several service processes) from assigning the same ticket twice; SQLite's single
writer does the same there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from domain import Reading
from domain.devices import CustomerTier
from fieldservice import (
    audit,
    credentials,
    dispatch,
    lifecycle,
    routing,
    sla,
    technicians,
    work_orders,
)
from fieldservice.config import FieldServiceConfig
from fieldservice.errors import IllegalTransitionError, UnknownTechnicianError
from fieldservice.geo import haversine_km
from fieldservice.lifecycle import Role
from fieldservice.notifications import messages
from fieldservice.technicians import Shift
from fieldservice.work_orders import WorkOrderStatus
from storage.models import (
    CustomerRow,
    DeviceRow,
    TechnicianRow,
    TicketRow,
    TicketSlaRow,
    TicketStatus,
    WorkOrderRow,
)

# (device_id, start, end) -> readings, oldest first: the composition root reads them from
# the telemetry store for the work order's evidence chart.
ReadingsSource = Callable[[str, float, float], Sequence[Reading]]

DISPATCHER = "dispatcher"
_DISPATCH_LOCK_ID = 0x64697370  # "disp"
TIER_PRIORITY = {CustomerTier.VIP.value: 3, CustomerTier.PREMIUM.value: 1}


@dataclass
class RoundReport:
    assigned: dict[int, str] = field(default_factory=dict)
    queued: dict[int, str] = field(default_factory=dict)
    travel_km: float = 0.0


def dispatch_round(
    *,
    session: Session,
    now: float,
    config: FieldServiceConfig,
    readings: ReadingsSource | None = None,
) -> RoundReport:
    """Assign every dispatchable ticket that someone eligible can take; queue the rest."""
    report = RoundReport()
    if not _try_lock(session):
        return report
    audit.lock(session=session)
    waiting = work_orders.dispatchable(session=session, now=now, limit=config.dispatch.max_batch)
    if not waiting:
        return report
    shifts, crews, techs = _crews(session, now)
    priorities = _priorities(session, [ticket.id for _, ticket, _ in waiting])
    jobs = [
        dispatch.Job(
            ticket_id=ticket.id,
            lat=device.lat,
            lon=device.lon,
            skill=str(ticket.diagnosis.get("skill") or device.type),
            priority=priorities.get(ticket.id, ticket.severity),
            minutes=order.estimated_minutes,
            deadline=ticket.resolve_by,
        )
        for order, ticket, device in waiting
    ]
    plan = dispatch.plan(jobs, crews, config.dispatch)
    by_ticket = {ticket.id: (order, ticket, device) for order, ticket, device in waiting}
    touched: set[str] = set()
    for ticket_id, technician_id in plan.assignments.items():
        order, ticket, device = by_ticket[ticket_id]
        shift = shifts[technician_id]
        _assign(
            session,
            order,
            ticket,
            device,
            techs[technician_id],
            shift,
            plan.travel_km[ticket_id],
            DISPATCHER,
            now,
            config,
            readings,
        )
        touched.add(technician_id)
        report.assigned[ticket_id] = technician_id
    for technician_id in sorted(touched):
        route_day(
            session=session,
            technician=techs[technician_id],
            shift=shifts[technician_id],
            now=now,
            config=config,
        )
    for ticket_id, reason in plan.unassigned.items():
        order, ticket, device = by_ticket[ticket_id]
        _queue(session, order, ticket, device, reason, now, config)
        report.queued[ticket_id] = reason
    report.travel_km = plan.total_km
    return report


def assign_by_hand(
    *,
    session: Session,
    ticket: TicketRow,
    technician_id: str,
    actor: str,
    now: float,
    config: FieldServiceConfig,
    note: str | None = None,
    readings: ReadingsSource | None = None,
) -> None:
    """An operator's assignment: skips the optimiser, not the lifecycle or the messages."""
    tech = session.get(TechnicianRow, technician_id)
    if tech is None:
        raise UnknownTechnicianError(f"technician {technician_id!r}")
    shift = technicians.next_shift(tech, now)
    if shift is None:
        raise IllegalTransitionError(f"technician {technician_id} has no working days")
    device = session.get(DeviceRow, ticket.device_id)
    order = work_orders.get_for_ticket(session=session, ticket_id=ticket.id)
    if order is None:
        order = work_orders.open_for(session=session, ticket=ticket, now=now)
    assert device is not None
    km = haversine_km(tech.base_lat, tech.base_lon, device.lat, device.lon)
    _assign(session, order, ticket, device, tech, shift, km, actor, now, config, readings, note)
    route_day(session=session, technician=tech, shift=shift, now=now, config=config)


def route_day(
    *,
    session: Session,
    technician: TechnicianRow,
    shift: Shift,
    now: float,
    config: FieldServiceConfig,
) -> list[WorkOrderRow]:
    """Order the technician's not-yet-started jobs of `shift.day` into a short round trip,
    set arrival windows, and send the work order / booking for every new or moved visit."""
    rows = (
        session.execute(
            select(WorkOrderRow, TicketRow, DeviceRow)
            .join(TicketRow, TicketRow.id == WorkOrderRow.ticket_id)
            .join(DeviceRow, DeviceRow.device_id == TicketRow.device_id)
            .where(WorkOrderRow.technician_id == technician.technician_id)
            .where(WorkOrderRow.service_day == shift.day)
            .where(WorkOrderRow.status == WorkOrderStatus.SCHEDULED.value)
            .where(WorkOrderRow.pinned_by.is_(None))  # a window the customer chose stays
            .where(TicketRow.status == TicketStatus.ASSIGNED.value)
        )
        .tuples()
        .all()
    )
    if not rows:
        return []
    base = (technician.base_lat, technician.base_lon)
    by_id = {ticket.id: (order, ticket, device) for order, ticket, device in rows}
    stops = [
        routing.Stop(ticket.id, device.lat, device.lon, order.estimated_minutes)
        for order, ticket, device in rows
    ]
    ordered = routing.order(base, stops)
    visits = routing.timetable(
        base, ordered, start=max(now, shift.start), speed_kmh=config.dispatch.speed_kmh
    )
    for position, visit in enumerate(visits, start=1):
        order, ticket, device = by_id[visit.stop.key]
        moved = order.window_start is not None and order.window_start != visit.window_start
        new = order.window_start is None
        order.route_seq = position
        order.eta = visit.eta
        order.window_start, order.window_end = visit.window_start, visit.window_end
        order.updated_at = now
        if new or moved:
            announce_visit(
                session=session,
                order=order,
                ticket=ticket,
                device=device,
                tech=technician,
                position=position,
                moved=moved,
                now=now,
                config=config,
            )
    return [order for order, _, _ in rows]


def _assign(
    session: Session,
    order: WorkOrderRow,
    ticket: TicketRow,
    device: DeviceRow,
    tech: TechnicianRow,
    shift: Shift,
    travel_km: float,
    actor: str,
    now: float,
    config: FieldServiceConfig,
    readings: ReadingsSource | None,
    note: str | None = None,
) -> None:
    lifecycle.apply(
        session=session,
        ticket=ticket,
        target=TicketStatus.ASSIGNED,
        actor=actor,
        role=Role.SYSTEM if actor == DISPATCHER else Role.OPERATOR,
        now=now,
        kind="assigned",
        note=note,
        data={
            "technician_id": tech.technician_id,
            "service_day": shift.day,
            "travel_km": round(travel_km, 2),
        },
    )
    ticket.technician_id = tech.technician_id
    sla.mark(session=session, ticket_id=ticket.id, milestone="responded", now=now)
    customer = session.get(CustomerRow, device.customer_id)
    lead_from = ticket.onset_at - config.chart_lead_s
    history = (
        readings(device.device_id, lead_from, ticket.last_detected_at + 1.0) if readings else []
    )
    order.status = WorkOrderStatus.SCHEDULED.value
    order.technician_id = tech.technician_id
    order.pinned_by = None
    order.service_day = shift.day
    order.travel_km = travel_km
    order.hold_reason = None
    order.window_start = order.window_end = order.eta = None
    order.content = work_orders.build_content(
        ticket=ticket,
        device=device,
        customer=customer,
        readings=history,
        now=now,
        warranty_years=config.warranty_years,
        estimated_minutes=order.estimated_minutes,
    )
    order.updated_at = now


def announce_visit(
    *,
    session: Session,
    order: WorkOrderRow,
    ticket: TicketRow,
    device: DeviceRow,
    tech: TechnicianRow,
    position: int,
    moved: bool,
    now: float,
    config: FieldServiceConfig,
) -> None:
    """Send the technician the work order and the customer the booking (or its new time)."""
    assert order.window_start is not None and order.window_end is not None
    customer = session.get(CustomerRow, device.customer_id)
    offset = customer.utc_offset_min if customer else tech.utc_offset_min
    slot = f"r{order.revision}/w{int(order.window_start)}"
    content = order.content or {}
    appliance = content.get("appliance", {})
    warranty = appliance.get("warranty", {})
    site = content.get("site", {})
    fault = content.get("fault", {})
    tech_offset = tech.utc_offset_min
    # The "full sheet" link signs the technician in to this job in the technician app.
    link = credentials.sign_in_url(
        session=session,
        role=Role.TECHNICIAN,
        subject=tech.technician_id,
        next_path=f"/tech/jobs/{ticket.id}",
        now=now,
        config=config,
        label=f"work order for ticket {ticket.id}",
    )
    messages.to_technician(
        session=session,
        technician=tech,
        ticket=ticket,
        kind="work_order",
        key=f"t{ticket.id}/{slot}/work_order/{tech.technician_id}",
        fields={
            "ticket_id": ticket.id,
            "title": fault.get("title") or ticket.fault_code,
            "date": order.service_day,
            "window": messages.window_text(order.window_start, order.window_end, tech_offset),
            "position": position,
            "appliance": device.type,
            "model": device.model,
            "serial": device.serial or "?",
            "warranty": warranty.get("until") or "unknown",
            "address": site.get("address") or f"{device.lat:.5f},{device.lon:.5f}",
            "map": site.get("map") or work_orders.geo_link(device.lat, device.lon),
            "customer": site.get("name") or device.customer_id,
            "phone": site.get("phone") or "no phone given",
            "access_notes": site.get("access_notes") or "none given",
            "probable_cause": fault.get("probable_cause") or "see the evidence",
            "recommended_action": fault.get("recommended_action") or "diagnose on site",
            "parts": ", ".join(content.get("parts") or []) or "nothing specific",
            "minutes": order.estimated_minutes,
            "url": link,
        },
        config=config,
        now=now,
        payload={
            "work_order": content,
            "chart_svg": content.get("chart", {}).get("svg", ""),
            "sign_in_url": link,
        },
    )
    messages.to_customer(
        session=session,
        ticket=ticket,
        device=device,
        kind="visit_rescheduled" if moved else "visit_booked",
        key=f"t{ticket.id}/{slot}/visit",
        config=config,
        now=now,
        fields={
            "technician": tech.name,
            "date": messages.local_time(order.window_start, offset, "%Y-%m-%d"),
            "window": messages.window_text(order.window_start, order.window_end, offset),
        },
    )


def _queue(
    session: Session,
    order: WorkOrderRow,
    ticket: TicketRow,
    device: DeviceRow,
    reason: str,
    now: float,
    config: FieldServiceConfig,
) -> None:
    """Nobody eligible is free: keep the ticket waiting and tell the desk why (once per reason)."""
    if order.status == WorkOrderStatus.QUEUED.value and order.hold_reason == reason:
        return
    order.status = WorkOrderStatus.QUEUED.value
    order.hold_reason = reason
    order.updated_at = now
    lifecycle.record(
        session=session, ticket=ticket, actor=DISPATCHER, kind="queued", now=now, note=reason
    )
    digest = hashlib.sha256(reason.encode()).hexdigest()[:10]
    messages.to_desk(
        session=session,
        kind="unassignable",
        key=f"t{ticket.id}/r{order.revision}/queued/{digest}",
        fields={
            "ticket_id": ticket.id,
            "fault_code": ticket.fault_code,
            "device_id": device.device_id,
            "reason": reason,
        },
        config=config,
        now=now,
        ticket_id=ticket.id,
    )


def _crews(
    session: Session, now: float
) -> tuple[dict[str, Shift], list[dispatch.Crew], dict[str, TechnicianRow]]:
    techs = {t.technician_id: t for t in technicians.active(session=session)}
    shifts = {
        tid: shift
        for tid, tech in techs.items()
        if (shift := technicians.next_shift(tech, now)) is not None
    }
    booked = work_orders.booked(
        session=session,
        technician_ids=sorted(shifts),
        days=sorted({shift.day for shift in shifts.values()}),
    )
    crews = []
    for tid, shift in shifts.items():
        tech = techs[tid]
        taken = booked.get((tid, shift.day), 0)
        crews.append(
            dispatch.Crew(
                technician_id=tid,
                lat=tech.base_lat,
                lon=tech.base_lon,
                radius_km=tech.radius_km,
                skills=frozenset(tech.skills),
                slots=max(0, tech.daily_capacity - taken),
                booked=taken,
                available_from=shift.start,
            )
        )
    return shifts, crews, techs


def _priorities(session: Session, ticket_ids: list[int]) -> dict[int, float]:
    if not ticket_ids:
        return {}
    rows = session.scalars(select(TicketSlaRow).where(TicketSlaRow.ticket_id.in_(ticket_ids)))
    return {row.ticket_id: float(row.priority + TIER_PRIORITY.get(row.tier, 0)) for row in rows}


def _try_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True
    got = session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _DISPATCH_LOCK_ID}
    ).scalar()
    return bool(got)
