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
    moved = metrics_that_moved(evidence, readings)
    marks = [(ticket.onset_at, "estimated onset"), (ticket.detected_at, "detected")]
    charts = []
    for metric in moved:
        points = [(r.ts, float(r.metrics[metric])) for r in readings if metric in r.metrics]
        charts.append(
            {
                "metric": metric,
                "points": len(points),
                "svg": sparkline.svg(points, label=metric, marks=marks),
            }
        )
    chart_metric = moved[0] if moved else None
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
            "map": geo_link(device.lat, device.lon),
            "call": f"tel:{_dialable(customer.phone)}" if customer and customer.phone else None,
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
        "chart": charts[0] if charts else {"metric": None, "points": 0, "svg": ""},
        "charts": charts,
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
        steps.append(
            f"Before leaving, watch {metric} (the reading that moved) head back towards "
            "normal for 10 minutes."
        )
    steps.append("Explain what was done; report the job resolved (the telemetry check closes it).")
    return steps


def geo_link(lat: float, lon: float) -> str:
    """A `geo:` URI (RFC 5870): phones open it in their map app, no map service needed."""
    return f"geo:{lat:.6f},{lon:.6f}"


def _dialable(phone: str) -> str:
    return re.sub(r"[^0-9+]", "", phone)


MAX_CHARTS = 3


def metrics_that_moved(evidence: dict[str, Any], readings: Sequence[Reading]) -> list[str]:
    """The metrics the evidence names that changed over the readings, most changed first.

    A detector may list them itself (`evidence["metrics"]`); otherwise every evidence key
    that is a metric in the readings is a candidate. A metric that stayed flat (a setpoint)
    is no evidence of anything: left out.
    """
    seen = {name for r in readings for name in r.metrics}
    named = evidence.get("metrics")
    if isinstance(named, list | tuple):
        candidates = [str(name) for name in named if name in seen]
    else:
        candidates = [name for name in evidence if name in seen]
    change = {name: _relative_change(name, readings) for name in candidates}
    moving = [name for name in candidates if change[name] > 0.0]
    if not isinstance(named, list | tuple):
        moving.sort(key=lambda name: -change[name])
    return moving[:MAX_CHARTS]


def _relative_change(metric: str, readings: Sequence[Reading]) -> float:
    """How far the metric's last third moved from its first third, in units of its spread
    (0 for a flat line)."""
    values = [float(r.metrics[metric]) for r in readings if metric in r.metrics]
    if len(values) < 3 or max(values) == min(values):
        return 0.0
    third = max(len(values) // 3, 1)
    early, late = values[:third], values[-third:]
    shift = abs(sum(late) / len(late) - sum(early) / len(early))
    return shift / (max(values) - min(values)) + 1e-9


def _warranty(installed: date | None, years: int, today: date) -> dict[str, Any]:
    if installed is None:
        return {"until": None, "in_warranty": None}
    try:
        until = installed.replace(year=installed.year + years)
    except ValueError:  # 29 February
        until = installed.replace(year=installed.year + years, day=28)
    return {"until": until.isoformat(), "in_warranty": today <= until}
