"""The technician app's reads: the day's jobs in route order, and one job's sheet with what
is needed on site (evidence, parts, checklist, customer, how to get there, the report)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from domain.people import Role
from fieldservice import job_reports, lifecycle, technicians, work_orders
from fieldservice.errors import UnknownTechnicianError
from storage.models import (
    CustomerRow,
    DeviceRow,
    JobReportRow,
    TechnicianRow,
    TicketRow,
    TicketStatus,
    WorkOrderRow,
)

ACTIVE = (TicketStatus.ASSIGNED, TicketStatus.EN_ROUTE, TicketStatus.ON_SITE)
DONE = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
# Finished jobs stay on the list this long, so the technician sees the day's work.
DONE_SHOWN_S = 18 * 3600.0


@dataclass(frozen=True)
class Job:
    ticket_id: int
    status: str
    fault_code: str
    title: str
    severity: int
    device_id: str
    device_type: str
    model: str
    lat: float
    lon: float
    customer_name: str | None
    phone: str | None
    address: str | None
    service_day: str | None
    window_start: float | None
    window_end: float | None
    route_seq: int | None
    estimated_minutes: int

    @property
    def active(self) -> bool:
        return TicketStatus(self.status) in ACTIVE

    @property
    def geo(self) -> str:
        """A `geo:` URI: the phone's map app opens at the appliance."""
        return f"geo:{self.lat:.6f},{self.lon:.6f}?q={self.lat:.6f},{self.lon:.6f}"


@dataclass(frozen=True)
class TechnicianDay:
    technician: TechnicianRow
    shift_day: str | None
    jobs: list[Job]


@dataclass(frozen=True)
class JobSheet:
    job: Job
    content: dict[str, Any]
    checklist: list[str]
    parts: list[str]
    report: JobReportRow | None
    moves: list[str]  # statuses the technician can report next, in lifecycle order
    access_notes: str | None


def technician_day(*, session: Session, technician_id: str, now: float) -> TechnicianDay:
    """Open jobs in visiting order (day, window, route position), then today's finished ones."""
    tech = technicians.get(session=session, technician_id=technician_id)
    if tech is None:
        raise UnknownTechnicianError(f"technician {technician_id!r}")
    shift = technicians.next_shift(tech, now, min_left_s=0.0)
    rows = session.execute(
        _jobs_query()
        .where(WorkOrderRow.technician_id == technician_id)
        .where(
            or_(
                TicketRow.status.in_([s.value for s in ACTIVE]),
                and_(
                    TicketRow.status.in_([s.value for s in DONE]),
                    TicketRow.updated_at >= now - DONE_SHOWN_S,
                ),
            )
        )
        .order_by(
            WorkOrderRow.service_day,
            WorkOrderRow.window_start,
            WorkOrderRow.route_seq,
            WorkOrderRow.id,
        )
    ).tuples()
    jobs = [_job(*row) for row in rows]
    jobs.sort(key=lambda j: not j.active)  # stable: visiting order kept within each group
    return TechnicianDay(technician=tech, shift_day=shift.day if shift else None, jobs=jobs)


def job_sheet(*, session: Session, ticket: TicketRow) -> JobSheet:
    row = session.execute(_jobs_query().where(TicketRow.id == ticket.id)).tuples().first()
    if row is None:
        raise UnknownTechnicianError(f"ticket {ticket.id} has no work order yet")
    job = _job(*row)
    order = row[0]
    content = dict(order.content or {})
    moves = sorted(
        lifecycle.allowed(TicketStatus(ticket.status), Role.TECHNICIAN),
        key=lambda s: list(TicketStatus).index(s),
    )
    return JobSheet(
        job=job,
        content=content,
        checklist=[str(step) for step in content.get("checklist") or []],
        parts=[str(part) for part in content.get("parts") or []],
        report=job_reports.get(session=session, ticket_id=ticket.id),
        moves=[m.value for m in moves if m is not TicketStatus.ASSIGNED],
        access_notes=(content.get("site") or {}).get("access_notes"),
    )


def _jobs_query() -> Any:
    return (
        select(WorkOrderRow, TicketRow, DeviceRow, CustomerRow)
        .join(TicketRow, TicketRow.id == WorkOrderRow.ticket_id)
        .join(DeviceRow, DeviceRow.device_id == TicketRow.device_id)
        .outerjoin(CustomerRow, CustomerRow.customer_id == DeviceRow.customer_id)
    )


def _job(
    order: WorkOrderRow, ticket: TicketRow, device: DeviceRow, customer: CustomerRow | None
) -> Job:
    site = (order.content or {}).get("site") or {}
    return Job(
        ticket_id=ticket.id,
        status=ticket.status,
        fault_code=ticket.fault_code,
        title=str((ticket.diagnosis or {}).get("title") or ticket.fault_code),
        severity=ticket.severity,
        device_id=device.device_id,
        device_type=device.type,
        model=device.model,
        lat=device.lat,
        lon=device.lon,
        customer_name=(customer.name if customer else None) or site.get("name"),
        phone=(customer.phone if customer else None) or site.get("phone"),
        address=(customer.address if customer else None) or site.get("address"),
        service_day=order.service_day,
        window_start=order.window_start,
        window_end=order.window_end,
        route_seq=order.route_seq,
        estimated_minutes=order.estimated_minutes or work_orders.SETUP_MINUTES,
    )
