"""Work orders: a ticket's job sheet and dispatch state, pre-filled so the technician arrives ready.

A work order is created with its ticket (`pending`, or `held` while a household incident
is ruled out), becomes `scheduled` when dispatch assigns a technician and a slot, `queued`
when nobody eligible is free, and `done` or `cancelled` with the ticket.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import Reading
from fieldservice import sparkline
from storage.models import CustomerRow, DeviceRow, TicketRow, WorkOrderRow


class WorkOrderStatus(StrEnum):
    PENDING = "pending"
    HELD = "held"
    QUEUED = "queued"
    SCHEDULED = "scheduled"
    DONE = "done"
    CANCELLED = "cancelled"


DISPATCHABLE = (WorkOrderStatus.PENDING.value, WorkOrderStatus.QUEUED.value)
# Slots these take up on a technician's day.
BOOKED = (WorkOrderStatus.SCHEDULED.value, WorkOrderStatus.DONE.value)
SETUP_MINUTES = 20  # parking, greeting, protecting the floor, paperwork


def open_for(
    *,
    session: Session,
    ticket: TicketRow,
    now: float,
    hold_until: float | None = None,
    hold_reason: str | None = None,
) -> WorkOrderRow:
    """The ticket's work order, made ready for dispatch (a reopened ticket's is revised)."""
    row = get_for_ticket(session=session, ticket_id=ticket.id)
    minutes = int(ticket.diagnosis.get("repair_minutes") or 60) + SETUP_MINUTES
    status = WorkOrderStatus.HELD if hold_until is not None else WorkOrderStatus.PENDING
    if row is None:
        row = WorkOrderRow(ticket_id=ticket.id, revision=1, created_at=now, content={})
        session.add(row)
    else:
        row.revision += 1
    row.status = status.value
    row.technician_id = None
    row.hold_until = hold_until
    row.hold_reason = hold_reason
    row.household_key = None
    row.service_day = row.eta = row.window_start = row.window_end = None
    row.route_seq = None
    row.pinned_by = None
    row.travel_km = None
    row.estimated_minutes = minutes
    row.updated_at = now
    session.flush()
    return row


def get_for_ticket(*, session: Session, ticket_id: int) -> WorkOrderRow | None:
    return session.scalars(select(WorkOrderRow).where(WorkOrderRow.ticket_id == ticket_id)).first()


def set_status(
    *, session: Session, ticket_id: int, status: WorkOrderStatus, now: float
) -> WorkOrderRow | None:
    row = get_for_ticket(session=session, ticket_id=ticket_id)
    if row is not None:
        row.status = status.value
        row.updated_at = now
    return row


def list_for_technician(
    *,
    session: Session,
    technician_id: str,
    day: str | None = None,
    statuses: Iterable[str] = (WorkOrderStatus.SCHEDULED.value,),
    after_id: int | None = None,
    limit: int = 100,
) -> list[WorkOrderRow]:
    """A technician's work orders in visiting order (day, then route position)."""
    query = (
        select(WorkOrderRow)
        .where(WorkOrderRow.technician_id == technician_id)
        .where(WorkOrderRow.status.in_(list(statuses)))
        .order_by(WorkOrderRow.service_day, WorkOrderRow.route_seq, WorkOrderRow.id)
        .limit(limit)
    )
    if day is not None:
        query = query.where(WorkOrderRow.service_day == day)
    if after_id is not None:
        query = query.where(WorkOrderRow.id > after_id)
    return list(session.scalars(query))


def booked(
    *, session: Session, technician_ids: Sequence[str], days: Sequence[str]
) -> dict[tuple[str, str], int]:
    """How many jobs each technician has on each of the given days."""
    if not technician_ids:
        return {}
    rows = session.execute(
        select(WorkOrderRow.technician_id, WorkOrderRow.service_day, func.count())
        .where(WorkOrderRow.technician_id.in_(list(technician_ids)))
        .where(WorkOrderRow.service_day.in_(sorted(set(days))))
        .where(WorkOrderRow.status.in_(BOOKED))
        .group_by(WorkOrderRow.technician_id, WorkOrderRow.service_day)
    )
    return {(tech, day): int(count) for tech, day, count in rows if tech and day}


def dispatchable(
    *, session: Session, now: float, limit: int
) -> list[tuple[WorkOrderRow, TicketRow, DeviceRow]]:
    """Work orders waiting for a technician whose ticket is still open and not on hold."""
    query = (
        select(WorkOrderRow, TicketRow, DeviceRow)
        .join(TicketRow, TicketRow.id == WorkOrderRow.ticket_id)
        .join(DeviceRow, DeviceRow.device_id == TicketRow.device_id)
        .where(WorkOrderRow.status.in_(DISPATCHABLE))
        .where(TicketRow.status == "opened")
        .where((WorkOrderRow.hold_until.is_(None)) | (WorkOrderRow.hold_until <= now))
        .order_by(WorkOrderRow.id)
        .limit(limit)
    )
    return [(wo, ticket, device) for wo, ticket, device in session.execute(query).tuples()]


def expired_holds(
    *, session: Session, now: float
) -> list[tuple[WorkOrderRow, TicketRow, DeviceRow]]:
    """Held work orders whose wait for a household incident is over (none happened)."""
    query = (
        select(WorkOrderRow, TicketRow, DeviceRow)
        .join(TicketRow, TicketRow.id == WorkOrderRow.ticket_id)
        .join(DeviceRow, DeviceRow.device_id == TicketRow.device_id)
        .where(WorkOrderRow.status == WorkOrderStatus.HELD.value)
        .where(WorkOrderRow.household_key.is_(None))
        .where(WorkOrderRow.hold_until.is_not(None))
        .where(WorkOrderRow.hold_until <= now)
        .order_by(WorkOrderRow.id)
    )
    return [(wo, ticket, device) for wo, ticket, device in session.execute(query).tuples()]


def build_content(
    *,
    ticket: TicketRow,
    device: DeviceRow,
    customer: CustomerRow | None,
    readings: Sequence[Reading],
    now: float,
    warranty_years: int,
    estimated_minutes: int,
) -> dict[str, Any]:
    """The job sheet: appliance, address and access, diagnosis with evidence and chart, parts,
    checklist, duration, and when the customer would like the visit."""
    diagnosis = dict(ticket.diagnosis or {})
    evidence = dict(diagnosis.get("evidence") or {})
    chart_metric = _chart_metric(evidence, readings)
    points = (
        [(r.ts, float(r.metrics[chart_metric])) for r in readings if chart_metric in r.metrics]
        if chart_metric
        else []
    )
    chart = sparkline.svg(
        points,
        label=chart_metric or "",
        marks=[(ticket.onset_at, "estimated onset"), (ticket.detected_at, "detected")],
    )
    today = datetime.fromtimestamp(now, UTC).date()
    return {
        "ticket_id": ticket.id,
        "appliance": {
            "device_id": device.device_id,
            "type": device.type,
            "model": device.model,
            "serial": device.serial,
            "firmware": device.firmware,
            "install_date": device.install_date.isoformat() if device.install_date else None,
            "warranty": _warranty(device.install_date, warranty_years, today),
        },
        "site": {
            "customer_id": device.customer_id,
            "name": customer.name if customer else None,
            "phone": customer.phone if customer else None,
            "address": customer.address if customer else None,
            "location": {"lat": device.lat, "lon": device.lon},
            "access_notes": customer.access_notes if customer else None,
            "preferred_windows": list(customer.preferred_windows) if customer else [],
        },
        "fault": {
            "code": ticket.fault_code,
            "severity": ticket.severity,
            "title": diagnosis.get("title"),
            "summary": diagnosis.get("summary"),
            "probable_cause": diagnosis.get("probable_cause"),
            "recommended_action": diagnosis.get("recommended_action"),
            "confidence": diagnosis.get("confidence"),
            "onset_at": ticket.onset_at,
            "detected_at": ticket.detected_at,
            "occurrences": ticket.occurrences,
        },
        "evidence": evidence,
        "chart": {
            "metric": chart_metric,
            "points": len(points),
            "svg": chart,
        },
        "parts": list(diagnosis.get("parts") or []),
        "checklist": checklist(diagnosis, chart_metric),
        "estimated_minutes": estimated_minutes,
    }


def checklist(diagnosis: dict[str, Any], metric: str | None) -> list[str]:
    """Steps for the visit: confirm, diagnose per the catalog, repair, verify, hand over."""
    steps = ["Introduce yourself, confirm the appliance's model and serial against this sheet."]
    if diagnosis.get("summary"):
        steps.append(f"Confirm the symptom: {diagnosis['summary']}.")
    action = str(diagnosis.get("recommended_action") or "")
    steps += [
        s.strip().rstrip(".") + "." for s in re.split(r"(?<=\.)\s+|;\s+", action) if s.strip()
    ]
    parts = diagnosis.get("parts") or []
    if parts:
        steps.append(f"Fit what is needed of: {', '.join(map(str, parts))}.")
    if metric:
        steps.append(f"Before leaving, watch {metric} return towards normal for 10 minutes.")
    steps.append("Explain what was done; report the job resolved (the telemetry check closes it).")
    return steps


def _chart_metric(evidence: dict[str, Any], readings: Sequence[Reading]) -> str | None:
    seen = {name for r in readings for name in r.metrics}
    for name in evidence:
        if name in seen:
            return name
    for name in ("cabinet_temp_c", "supply_temp_c", "vibration_g", "temp_c"):
        if name in seen:
            return name
    return min(seen) if seen else None


def _warranty(installed: date | None, years: int, today: date) -> dict[str, Any]:
    if installed is None:
        return {"until": None, "in_warranty": None}
    try:
        until = installed.replace(year=installed.year + years)
    except ValueError:  # 29 February
        until = installed.replace(year=installed.year + years, day=28)
    return {"until": until.isoformat(), "in_warranty": today <= until}
