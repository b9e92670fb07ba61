"""The desk's ticket queue, most at risk of missing its SLA first, with filters: three queries
(the page of tickets with everything shown for each, the counts per SLA state, and the
tickets that left the queue in the last day)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from fieldservice.sla import SlaPolicy, SlaState
from storage.models import (
    OPEN_STATUSES,
    DeviceRow,
    TechnicianRow,
    TicketRow,
    TicketSlaRow,
    WorkOrderRow,
)

MINUTE = 60.0


@dataclass(frozen=True)
class QueueItem:
    ticket_id: int
    device_id: str
    device_type: str
    model: str
    customer_id: str
    fault_code: str
    title: str
    severity: int
    status: str
    tier: str
    priority: int
    opened_at: float
    milestone: str  # "respond" or "resolve": the next deadline to meet
    deadline: float | None
    sla_state: str
    technician_id: str | None
    technician_name: str | None
    work_order_status: str | None
    window_start: float | None
    window_end: float | None
    hold_reason: str | None

    def minutes_left(self, now: float) -> float | None:
        return None if self.deadline is None else (self.deadline - now) / MINUTE


@dataclass(frozen=True)
class FinishedTicket:
    ticket_id: int
    device_id: str
    fault_code: str
    title: str
    status: str
    technician_id: str | None
    updated_at: float


@dataclass(frozen=True)
class QueueView:
    items: list[QueueItem]
    counts: dict[str, int]  # open tickets per SLA state (ok / at_risk / breached)
    total_open: int
    finished: list[FinishedTicket]  # left the queue in the last day, newest first


FINISHED_SHOWN_S = 24 * 3600.0


def ticket_queue(
    *,
    session: Session,
    now: float,
    policy: SlaPolicy,
    status: str | None = None,
    fault_code: str | None = None,
    tier: str | None = None,
    technician_id: str | None = None,
    sla_state: str | None = None,
    limit: int = 100,
) -> QueueView:
    """Open tickets by SLA risk: the next unmet deadline, soonest (or most overdue) first."""
    deadline = case(
        (TicketSlaRow.responded_at.is_(None), TicketRow.respond_by), else_=TicketRow.resolve_by
    )
    started = func.coalesce(TicketSlaRow.started_at, TicketRow.opened_at)
    state = _state(deadline, started, now, policy.at_risk_fraction)
    open_values = sorted(s.value for s in OPEN_STATUSES)
    filters: list[ColumnElement[bool]] = [TicketRow.status.in_(open_values)]
    if status:
        filters.append(TicketRow.status == status)
    if fault_code:
        filters.append(TicketRow.fault_code == fault_code)
    if tier:
        filters.append(TicketSlaRow.tier == tier)
    if technician_id:
        filters.append(TicketRow.technician_id == technician_id)
    query = (
        select(
            TicketRow,
            DeviceRow.type,
            DeviceRow.model,
            DeviceRow.customer_id,
            TicketSlaRow.tier,
            TicketSlaRow.priority,
            TicketSlaRow.responded_at,
            deadline.label("deadline"),
            state.label("state"),
            TechnicianRow.name,
            WorkOrderRow.status,
            WorkOrderRow.window_start,
            WorkOrderRow.window_end,
            WorkOrderRow.hold_reason,
        )
        .join(DeviceRow, DeviceRow.device_id == TicketRow.device_id)
        .outerjoin(TicketSlaRow, TicketSlaRow.ticket_id == TicketRow.id)
        .outerjoin(WorkOrderRow, WorkOrderRow.ticket_id == TicketRow.id)
        .outerjoin(TechnicianRow, TechnicianRow.technician_id == TicketRow.technician_id)
        .where(and_(*filters))
    )
    if sla_state:
        query = query.where(state == sla_state)
    query = query.order_by(
        case((deadline.is_(None), 1), else_=0), deadline, TicketRow.severity.desc(), TicketRow.id
    ).limit(limit)
    items = [
        QueueItem(
            ticket_id=ticket.id,
            device_id=ticket.device_id,
            device_type=device_type,
            model=model,
            customer_id=customer_id,
            fault_code=ticket.fault_code,
            title=str((ticket.diagnosis or {}).get("title") or ticket.fault_code),
            severity=ticket.severity,
            status=ticket.status,
            tier=tier_ or "standard",
            priority=priority if priority is not None else ticket.severity,
            opened_at=ticket.opened_at,
            milestone="respond" if responded_at is None else "resolve",
            deadline=due,
            sla_state=row_state,
            technician_id=ticket.technician_id,
            technician_name=tech_name,
            work_order_status=order_status,
            window_start=window_start,
            window_end=window_end,
            hold_reason=hold_reason,
        )
        for (
            ticket,
            device_type,
            model,
            customer_id,
            tier_,
            priority,
            responded_at,
            due,
            row_state,
            tech_name,
            order_status,
            window_start,
            window_end,
            hold_reason,
        ) in session.execute(query).tuples()
    ]
    counted = session.execute(
        select(state, func.count())
        .select_from(TicketRow)
        .outerjoin(TicketSlaRow, TicketSlaRow.ticket_id == TicketRow.id)
        .where(TicketRow.status.in_(open_values))
        .group_by(state)
    ).all()
    counts = {s.value: 0 for s in (SlaState.OK, SlaState.AT_RISK, SlaState.BREACHED)}
    for name, count in counted:
        counts[str(name)] = int(count)
    finished = [
        FinishedTicket(
            ticket_id=t.id,
            device_id=t.device_id,
            fault_code=t.fault_code,
            title=str((t.diagnosis or {}).get("title") or t.fault_code),
            status=t.status,
            technician_id=t.technician_id,
            updated_at=t.updated_at,
        )
        for t in session.scalars(
            select(TicketRow)
            .where(TicketRow.status.not_in(open_values))
            .where(TicketRow.updated_at >= now - FINISHED_SHOWN_S)
            .order_by(TicketRow.updated_at.desc())
            .limit(15)
        )
    ]
    return QueueView(items=items, counts=counts, total_open=sum(counts.values()), finished=finished)


def _state(
    deadline: ColumnElement[float], started: ColumnElement[float], now: float, fraction: float
) -> ColumnElement[str]:
    """The SLA state of the next deadline, as SQL (the same rule as `sla.state_of`)."""
    return case(
        (deadline.is_(None), literal(SlaState.OK.value)),
        (deadline < now, literal(SlaState.BREACHED.value)),
        (deadline - now < fraction * (deadline - started), literal(SlaState.AT_RISK.value)),
        else_=literal(SlaState.OK.value),
    )
