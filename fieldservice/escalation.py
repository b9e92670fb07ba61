"""SLA escalation: tickets newly at risk of, or past, a deadline get a higher priority, a
timeline entry and a message to the service desk — once per milestone and level."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from fieldservice import audit, lifecycle, sla
from fieldservice.config import FieldServiceConfig
from fieldservice.notifications import messages
from storage.models import DeviceRow, TicketRow


def escalate(*, session: Session, now: float, config: FieldServiceConfig) -> list[sla.Escalation]:
    """Evaluate every open ticket's SLA on the wall clock; escalate what got worse."""
    audit.lock(session=session)
    found = sla.due_escalations(session=session, now=now, policy=config.sla)
    for escalation in found:
        ticket = session.get(TicketRow, escalation.ticket_id)
        assert ticket is not None
        device = session.get(DeviceRow, ticket.device_id)
        priority = sla.record_escalation(session=session, escalation=escalation, now=now)
        state = escalation.state.value.replace("_", " ")
        deadline = datetime.fromtimestamp(escalation.deadline, UTC).strftime("%Y-%m-%d %H:%M UTC")
        lifecycle.record(
            session=session,
            ticket=ticket,
            actor="sla",
            kind=f"sla_{escalation.state.value}",
            now=now,
            note=f"{escalation.milestone} deadline {deadline} is {state}",
            data={
                "milestone": escalation.milestone,
                "deadline": escalation.deadline,
                "priority": priority,
            },
        )
        messages.to_desk(
            session=session,
            kind="sla_escalation",
            key=(
                f"t{ticket.id}/sla/{escalation.milestone}/{escalation.state.value}"
                f"/{int(escalation.deadline)}"
            ),
            fields={
                "ticket_id": ticket.id,
                "state": state,
                "milestone": escalation.milestone,
                "deadline": deadline,
                "tier": device.customer_tier if device else "?",
                "customer_id": device.customer_id if device else "?",
                "fault_code": ticket.fault_code,
                "status": ticket.status,
                "priority": priority,
            },
            config=config,
            now=now,
            ticket_id=ticket.id,
        )
    return found
