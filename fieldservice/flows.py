"""Cross-domain steps of a ticket's life: an anomaly arrives, someone reports progress, the
telemetry confirms a repair. Each step updates the ticket, its SLA, work order, closure check
and audit chain, and queues the messages it owes — all in the caller's transaction.

Dispatch rounds live in `scheduling.py`, SLA escalation in `escalation.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import Anomaly
from domain.people import Role, actor_name
from fieldservice import (
    audit,
    closure,
    credentials,
    households,
    lifecycle,
    scheduling,
    sla,
    tickets,
    work_orders,
)
from fieldservice.config import FieldServiceConfig
from fieldservice.errors import (
    ForbiddenError,
    IllegalTransitionError,
    TicketNotFoundError,
)
from fieldservice.notifications import messages
from fieldservice.work_orders import WorkOrderStatus
from storage.models import (
    OPEN_STATUSES,
    ClosureCheckRow,
    CustomerRow,
    DeviceRow,
    TechnicianRow,
    TicketRow,
    TicketSlaRow,
    TicketStatus,
    WorkOrderRow,
)

S = TicketStatus
DETECTOR = "detector"


def handle_anomaly(
    *, session: Session, anomaly: Anomaly, now: float, config: FieldServiceConfig
) -> tuple[TicketRow, bool]:
    """Open a ticket for a new fault, reopen one it recurs on, or fold a repeat into the open one.

    Returns the ticket and whether it was opened or reopened by this anomaly.
    """
    audit.lock(session=session)
    reopened = _reopen_if_recurring(session, anomaly, now, config)
    ticket, created = tickets.open_or_update(session=session, anomaly=anomaly, now=now)
    audit.seal_ticket(session=session, ticket_id=ticket.id)
    if created:
        _on_opened(session, ticket, now, config)
    return ticket, created or reopened is not None


def change_status(
    *,
    session: Session,
    ticket_id: int,
    status: TicketStatus,
    actor: str,
    now: float,
    config: FieldServiceConfig,
    note: str | None = None,
    technician_id: str | None = None,
    role: Role | None = None,
) -> TicketRow:
    """A status change by a technician (actor = their id), an operator or a customer.

    `role` is who the caller authenticated; without it (scripts, older callers) an actor
    that names a technician is taken as that technician and anyone else as an operator.
    A technician moves only their own tickets, a customer only their own devices' tickets.
    """
    audit.lock(session=session)
    ticket = session.get(TicketRow, ticket_id, with_for_update=True)
    if ticket is None:
        raise TicketNotFoundError(f"ticket {ticket_id}")
    if role is None:
        role = Role.TECHNICIAN if session.get(TechnicianRow, actor) is not None else Role.OPERATOR
    if role is Role.TECHNICIAN and ticket.technician_id != actor:
        raise ForbiddenError(
            f"ticket {ticket_id} is assigned to {ticket.technician_id or 'nobody'}, not {actor}"
        )
    if role is Role.CUSTOMER:
        owner = session.get(DeviceRow, ticket.device_id)
        if owner is None or actor_name(Role.CUSTOMER, owner.customer_id) != actor:
            raise ForbiddenError(f"ticket {ticket_id} is not about one of your appliances")
    previous = S(ticket.status)
    if status is S.ASSIGNED and previous is S.OPENED:
        if role is not Role.OPERATOR:
            raise ForbiddenError("assigning a technician by hand is for the service desk")
        if not technician_id:
            # Not a malformed request: the same body is right for an en-route ticket.
            raise IllegalTransitionError(
                f"ticket {ticket_id} is opened: assigning it by hand needs a technician_id"
            )
        scheduling.assign_by_hand(
            session=session,
            ticket=ticket,
            technician_id=technician_id,
            actor=actor,
            now=now,
            config=config,
            note=note,
        )
        return ticket
    event = lifecycle.apply(
        session=session, ticket=ticket, target=status, actor=actor, role=role, now=now, note=note
    )
    _after_change(session, ticket, previous, status, event.id, now, config)
    return ticket


def fault_cleared(
    *, session: Session, device_id: str, fault_code: str, now: float, config: FieldServiceConfig
) -> TicketRow | None:
    """The detector's clear signal: a fault that went away before anyone visited needs no visit."""
    audit.lock(session=session)
    ticket = session.scalars(
        select(TicketRow)
        .where(TicketRow.device_id == device_id, TicketRow.fault_code == fault_code)
        .where(TicketRow.status.in_([S.OPENED.value, S.ASSIGNED.value]))
        .with_for_update()
    ).first()
    if ticket is None:
        return None
    previous = S(ticket.status)
    event = lifecycle.apply(
        session=session,
        ticket=ticket,
        target=S.AUTO_RESOLVED,
        actor=DETECTOR,
        role=Role.SYSTEM,
        now=now,
        note="the fault cleared before a visit",
    )
    _after_change(session, ticket, previous, S.AUTO_RESOLVED, event.id, now, config)
    return ticket


def observe_telemetry(
    *, session: Session, seen: Mapping[str, closure.RepairObservation], now: float
) -> int:
    """Readings arrived from devices under closure verification (see `closure.observe`)."""
    return closure.observe(session=session, seen=seen, now=now)


def verify_closures(*, session: Session, now: float, config: FieldServiceConfig) -> list[int]:
    """Close every resolved ticket whose fault has stayed clear long enough (returns their
    ids), and reopen those whose fault has not cleared `closure_verify_s` after the repair."""
    closed = []
    audit.lock(session=session)
    for check in closure.failed(session=session, verify_s=config.closure_verify_s):
        _repair_unconfirmed(session, check, now, config)
    for check in closure.passed(session=session):
        ticket = session.get(TicketRow, check.ticket_id, with_for_update=True)
        if ticket is None or ticket.status != S.RESOLVED.value:
            closure.finish(
                session=session,
                ticket_id=check.ticket_id,
                status=closure.CheckStatus.FAILED,
                now=now,
            )
            continue
        assert check.normal_since is not None and check.observed_until is not None
        hours = (check.observed_until - check.normal_since) / 3600.0
        event = lifecycle.apply(
            session=session,
            ticket=ticket,
            target=S.CLOSED,
            actor="telemetry",
            role=Role.SYSTEM,
            now=now,
            kind="closed",
            note=f"device normal for {hours:.1f} h of telemetry since the repair",
            data={"normal_since": check.normal_since, "observed_until": check.observed_until},
        )
        _after_change(session, ticket, S.RESOLVED, S.CLOSED, event.id, now, config)
        closed.append(ticket.id)
    return closed


def _repair_unconfirmed(
    session: Session, check: ClosureCheckRow, now: float, config: FieldServiceConfig
) -> None:
    """The fault still shows long after the repair: reopen the ticket, tell the desk."""
    closure.finish(
        session=session, ticket_id=check.ticket_id, status=closure.CheckStatus.FAILED, now=now
    )
    ticket = session.get(TicketRow, check.ticket_id, with_for_update=True)
    if ticket is None or ticket.status != S.RESOLVED.value:
        return
    assert check.watch_since is not None and check.observed_until is not None
    hours = (check.observed_until - check.watch_since) / 3600.0
    detail = check.clear_detail or "the fault still shows"
    _reopen(
        session,
        ticket,
        S.RESOLVED,
        actor="telemetry",
        note=f"the fault has not cleared in {hours:.1f} h of telemetry since the repair",
        data={"detail": detail},
        now=now,
        config=config,
        reason=f"{ticket.fault_code} has not cleared in {hours:.0f} h since the repair: {detail}",
    )


def adopt_orphans(
    *, session: Session, now: float, config: FieldServiceConfig, limit: int = 200
) -> list[int]:
    """Open tickets that never went through `handle_anomaly` (opened by other code, or before
    field service existed) get their SLA, work order and customer alert now."""
    audit.lock(session=session)
    orphans = session.scalars(
        select(TicketRow)
        .outerjoin(WorkOrderRow, WorkOrderRow.ticket_id == TicketRow.id)
        .where(WorkOrderRow.id.is_(None))
        .where(TicketRow.status == S.OPENED.value)
        .order_by(TicketRow.id)
        .limit(limit)
        .with_for_update(of=TicketRow)
    ).all()
    for ticket in orphans:
        audit.seal_ticket(session=session, ticket_id=ticket.id)
        _on_opened(session, ticket, now, config)
    return [ticket.id for ticket in orphans]


def _reopen_if_recurring(
    session: Session, anomaly: Anomaly, now: float, config: FieldServiceConfig
) -> TicketRow | None:
    fault = str(anomaly.fault_code)
    latest = session.scalars(
        select(TicketRow)
        .where(TicketRow.device_id == anomaly.device_id, TicketRow.fault_code == fault)
        .order_by(TicketRow.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if latest is None or S(latest.status) in OPEN_STATUSES:
        return None
    status = S(latest.status)
    if status is S.RESOLVED:
        note = "the fault came back after the repair: telemetry check failed"
        closure.finish(
            session=session, ticket_id=latest.id, status=closure.CheckStatus.FAILED, now=now
        )
    elif status in (S.CLOSED, S.AUTO_RESOLVED):
        row = session.get(TicketSlaRow, latest.id)
        ended = (row.closed_at if row and row.closed_at else None) or latest.updated_at
        if now - ended > config.reopen_window_s:
            return None
        days = config.reopen_window_s / 86400.0
        note = f"the fault recurred within {days:g} days of the ticket ending ({status.value})"
    else:
        return None  # cancelled stays cancelled: a new ticket opens
    _reopen(
        session,
        latest,
        status,
        actor=DETECTOR,
        note=note,
        data={"detected_at": anomaly.detected_at},
        now=now,
        config=config,
    )
    return latest


def _reopen(
    session: Session,
    ticket: TicketRow,
    previous: TicketStatus,
    *,
    actor: str,
    note: str,
    data: dict[str, object],
    now: float,
    config: FieldServiceConfig,
    reason: str | None = None,
) -> None:
    """Back to `opened` on the timeline, then dispatch, customer and desk told."""
    previous_technician = ticket.technician_id
    lifecycle.apply(
        session=session,
        ticket=ticket,
        target=S.OPENED,
        actor=actor,
        role=Role.SYSTEM,
        now=now,
        kind="reopened",
        note=note,
        data={"previous_technician": previous_technician, **data},
    )
    _on_reopened(session, ticket, previous, previous_technician, now, config, reason=reason)


def _on_opened(session: Session, ticket: TicketRow, now: float, config: FieldServiceConfig) -> None:
    device = session.get(DeviceRow, ticket.device_id)
    assert device is not None, "tickets.open_or_update checked the device"
    sla.start(session=session, ticket=ticket, tier=device.customer_tier, policy=config.sla, now=now)
    if ticket.fault_code in config.household_faults:
        order = work_orders.open_for(
            session=session,
            ticket=ticket,
            now=now,
            hold_until=now + config.household_hold_s,
            hold_reason="waiting to see whether other appliances of the home fail the same way",
        )
        households.handle_incident(
            session=session, ticket=ticket, device=device, now=now, config=config
        )
        return
    order = work_orders.open_for(session=session, ticket=ticket, now=now)
    messages.to_customer(
        session=session,
        ticket=ticket,
        device=device,
        kind="fault_alert",
        key=f"t{ticket.id}/r{order.revision}/fault_alert",
        config=config,
        now=now,
    )


def _on_reopened(
    session: Session,
    ticket: TicketRow,
    previous: TicketStatus,
    previous_technician: str | None,
    now: float,
    config: FieldServiceConfig,
    *,
    reason: str | None = None,
) -> None:
    device = session.get(DeviceRow, ticket.device_id)
    assert device is not None
    ticket.technician_id = None
    sla.start(session=session, ticket=ticket, tier=device.customer_tier, policy=config.sla, now=now)
    order = work_orders.open_for(session=session, ticket=ticket, now=now)
    messages.to_customer(
        session=session,
        ticket=ticket,
        device=device,
        kind="reopened",
        key=f"t{ticket.id}/r{order.revision}/reopened",
        config=config,
        now=now,
    )
    if previous is S.RESOLVED:
        messages.to_desk(
            session=session,
            kind="repair_failed",
            key=f"t{ticket.id}/r{order.revision}/repair_failed",
            fields={
                "ticket_id": ticket.id,
                "device_id": ticket.device_id,
                "fault_code": ticket.fault_code,
                "technician": previous_technician or "the technician",
                "reason": reason or f"{ticket.fault_code} was found again",
            },
            config=config,
            now=now,
            ticket_id=ticket.id,
        )


def _after_change(
    session: Session,
    ticket: TicketRow,
    previous: TicketStatus,
    target: TicketStatus,
    event_id: int,
    now: float,
    config: FieldServiceConfig,
) -> None:
    """What follows a status change: SLA milestones, work order, closure check, messages."""
    device = session.get(DeviceRow, ticket.device_id)
    assert device is not None
    order = work_orders.get_for_ticket(session=session, ticket_id=ticket.id)
    technician = session.get(TechnicianRow, ticket.technician_id) if ticket.technician_id else None
    tech_name = technician.name if technician else "our technician"
    key = f"t{ticket.id}/ev{event_id}"

    def tell(
        kind: str, fields: dict[str, Any] | None = None, deliver_at: float | None = None
    ) -> None:
        messages.to_customer(
            session=session,
            ticket=ticket,
            device=device,
            kind=kind,
            key=f"{key}/{kind}",
            config=config,
            now=now,
            fields={"technician": tech_name, **(fields or {})},
            deliver_at=deliver_at,
        )

    if target is S.EN_ROUTE:
        offset = _customer_offset(session, device)
        end = order.window_end if order and order.window_end else now + 3600.0
        tell("en_route", {"window_end": messages.local_time(end, offset)})
    elif target is S.RESOLVED:
        sla.mark(session=session, ticket_id=ticket.id, milestone="resolved", now=now)
        work_orders.set_status(
            session=session, ticket_id=ticket.id, status=WorkOrderStatus.DONE, now=now
        )
        closure.begin(session=session, ticket=ticket, now=now, quiet_s=config.closure_quiet_s)
        tell("resolved", {"quiet_hours": f"{config.closure_quiet_s / 3600.0:g}"})
    elif target is S.CLOSED:
        sla.mark(session=session, ticket_id=ticket.id, milestone="closed", now=now)
        closure.finish(
            session=session, ticket_id=ticket.id, status=closure.CheckStatus.PASSED, now=now
        )
        tell("closed")
        rating_url = credentials.sign_in_url(
            session=session,
            role=Role.CUSTOMER,
            subject=device.customer_id,
            next_path=f"/my/tickets/{ticket.id}#rate",
            now=now,
            config=config,
            label=f"rating for ticket {ticket.id}",
        )
        tell("follow_up", {"rating_url": rating_url}, deliver_at=now + config.follow_up_delay_s)
    elif target in (S.CANCELLED, S.AUTO_RESOLVED):
        sla.mark(session=session, ticket_id=ticket.id, milestone="closed", now=now)
        work_orders.set_status(
            session=session, ticket_id=ticket.id, status=WorkOrderStatus.CANCELLED, now=now
        )
        if technician is not None and previous in (S.ASSIGNED, S.EN_ROUTE):
            messages.to_technician(
                session=session,
                technician=technician,
                ticket=ticket,
                kind="job_withdrawn",
                key=f"{key}/job_withdrawn",
                fields={"ticket_id": ticket.id, "reason": target.value.replace("_", " ")},
                config=config,
                now=now,
            )
        tell(target.value)
    elif target is S.OPENED and previous is S.ASSIGNED:
        ticket.technician_id = None
        if technician is not None:
            messages.to_technician(
                session=session,
                technician=technician,
                ticket=ticket,
                kind="job_withdrawn",
                key=f"{key}/job_withdrawn",
                fields={"ticket_id": ticket.id, "reason": "unassigned by the service desk"},
                config=config,
                now=now,
            )
        if order is not None:
            order.status = WorkOrderStatus.PENDING.value
            order.technician_id = None
            order.window_start = order.window_end = order.eta = None
            order.pinned_by = None
            order.updated_at = now
    elif target is S.OPENED:
        _on_reopened(session, ticket, previous, ticket.technician_id, now, config)


def _customer_offset(session: Session, device: DeviceRow) -> int:
    customer = session.get(CustomerRow, device.customer_id)
    return customer.utc_offset_min if customer else 480
