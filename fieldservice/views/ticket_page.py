"""The desk's ticket page: the ticket with its diagnosis, device, customer, SLA, work order,
technician, timeline, job report, rating and messages — a fixed dozen queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from domain.people import Role
from fieldservice import job_reports, lifecycle, ratings, sla, technicians, tickets, work_orders
from fieldservice.errors import TicketNotFoundError
from fieldservice.notifications import outbox
from storage.models import (
    CustomerRow,
    DeviceRow,
    JobReportRow,
    NotificationRow,
    TechnicianRow,
    TicketEventRow,
    TicketRow,
    TicketStatus,
    VisitRatingRow,
    WorkOrderRow,
)


@dataclass(frozen=True)
class TicketPage:
    ticket: TicketRow
    device: DeviceRow
    customer: CustomerRow | None
    sla: dict[str, Any]
    order: WorkOrderRow | None
    technician: TechnicianRow | None
    timeline: list[TicketEventRow]
    report: JobReportRow | None
    rating: VisitRatingRow | None
    messages: list[NotificationRow]
    moves: list[str]  # statuses an operator may move it to
    technicians: list[TechnicianRow]  # for assigning by hand

    @property
    def diagnosis(self) -> dict[str, Any]:
        return dict(self.ticket.diagnosis or {})


def ticket_page(*, session: Session, ticket_id: int, now: float) -> TicketPage:
    ticket = tickets.get(session=session, ticket_id=ticket_id)
    if ticket is None:
        raise TicketNotFoundError(f"ticket {ticket_id}")
    device = session.get(DeviceRow, ticket.device_id)
    assert device is not None
    status = TicketStatus(ticket.status)
    moves = sorted(
        lifecycle.allowed(status, Role.OPERATOR), key=lambda s: list(TicketStatus).index(s)
    )
    return TicketPage(
        ticket=ticket,
        device=device,
        customer=session.get(CustomerRow, device.customer_id),
        sla=sla.summary(ticket=ticket, row=sla.get(session=session, ticket_id=ticket.id), now=now),
        order=work_orders.get_for_ticket(session=session, ticket_id=ticket.id),
        technician=session.get(TechnicianRow, ticket.technician_id)
        if ticket.technician_id
        else None,
        timeline=tickets.timeline(session=session, ticket_id=ticket.id),
        report=job_reports.get(session=session, ticket_id=ticket.id),
        rating=ratings.get(session=session, ticket_id=ticket.id),
        messages=outbox.list_page(session=session, ticket_id=ticket.id, limit=50),
        moves=[m.value for m in moves],
        technicians=technicians.active(session=session) if status is TicketStatus.OPENED else [],
    )
