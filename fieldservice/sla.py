"""Service-level agreements: respond-by and resolve-by per customer tier and fault severity.

"Respond" means a technician is assigned and the customer told when they come; "resolve"
means the technician reported the repair done. Deadlines are wall-clock. A milestone is
*at risk* once less than `at_risk_fraction` of its window is left, *breached* once past;
each level escalates once (see `escalation.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.devices import CustomerTier
from domain.faults import Severity
from storage.models import OPEN_STATUSES, TicketRow, TicketSlaRow

MINUTE = 60.0


class SlaState(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"


SEVERITY_RANK = {SlaState.OK: 0, SlaState.AT_RISK: 1, SlaState.BREACHED: 2, SlaState.MET: -1}


@dataclass(frozen=True)
class Target:
    """Minutes from opening to respond and to resolve."""

    respond_min: float
    resolve_min: float


DEFAULT_TARGETS: Mapping[str, Target] = {
    CustomerTier.VIP.value: Target(respond_min=15, resolve_min=2 * 60),
    CustomerTier.PREMIUM.value: Target(respond_min=60, resolve_min=8 * 60),
    # "same day" for a response, two days to fix
    CustomerTier.STANDARD.value: Target(respond_min=8 * 60, resolve_min=48 * 60),
}
# A critical fault halves the windows, a low one doubles them.
DEFAULT_SEVERITY_FACTORS: Mapping[str, float] = {
    Severity.CRITICAL.label: 0.5,
    Severity.HIGH.label: 1.0,
    Severity.MEDIUM.label: 1.0,
    Severity.LOW.label: 2.0,
}


@dataclass(frozen=True)
class SlaPolicy:
    """The SLA table; `targets` is keyed by customer tier, `severity_factors` by severity label."""

    targets: Mapping[str, Target] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    severity_factors: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_SEVERITY_FACTORS)
    )
    at_risk_fraction: float = 0.25

    def target(self, tier: str, severity: int) -> Target:
        base = self.targets.get(tier) or self.targets[CustomerTier.STANDARD.value]
        factor = self.severity_factors.get(Severity(severity).label, 1.0)
        return Target(base.respond_min * factor, base.resolve_min * factor)

    def deadlines(self, tier: str, severity: int, start: float) -> tuple[float, float]:
        """(respond_by, resolve_by) for a ticket whose clock starts at `start`."""
        target = self.target(tier, severity)
        return start + target.respond_min * MINUTE, start + target.resolve_min * MINUTE


def state_of(
    *, now: float, start: float, deadline: float | None, met_at: float | None, fraction: float
) -> SlaState:
    """Where one milestone stands at `now`.

    >>> state_of(now=50, start=0, deadline=100, met_at=None, fraction=0.25)
    <SlaState.OK: 'ok'>
    >>> state_of(now=80, start=0, deadline=100, met_at=None, fraction=0.25)
    <SlaState.AT_RISK: 'at_risk'>
    >>> state_of(now=101, start=0, deadline=100, met_at=None, fraction=0.25)
    <SlaState.BREACHED: 'breached'>
    """
    if met_at is not None or deadline is None:
        return SlaState.MET if met_at is not None else SlaState.OK
    if now > deadline:
        return SlaState.BREACHED
    if deadline - now < fraction * (deadline - start):
        return SlaState.AT_RISK
    return SlaState.OK


def start(*, session: Session, ticket: TicketRow, tier: str, policy: SlaPolicy, now: float) -> None:
    """Set the ticket's deadlines from `now` (a new ticket, or one reopened) and reset its clock."""
    ticket.respond_by, ticket.resolve_by = policy.deadlines(tier, ticket.severity, now)
    row = session.get(TicketSlaRow, ticket.id)
    if row is None:
        session.add(
            TicketSlaRow(
                ticket_id=ticket.id,
                tier=tier,
                priority=ticket.severity,
                started_at=now,
                respond_state=SlaState.OK.value,
                resolve_state=SlaState.OK.value,
                updated_at=now,
            )
        )
        return
    row.tier = tier
    row.started_at = now
    row.responded_at = row.resolved_at = row.closed_at = None
    row.respond_state = row.resolve_state = SlaState.OK.value
    row.priority = max(row.priority, ticket.severity) + 1  # a repeat fault jumps the queue
    row.updated_at = now


def get(*, session: Session, ticket_id: int) -> TicketSlaRow | None:
    return session.get(TicketSlaRow, ticket_id)


def mark(*, session: Session, ticket_id: int, milestone: str, now: float) -> None:
    """Record that `milestone` ("responded", "resolved" or "closed") happened at `now`."""
    row = session.get(TicketSlaRow, ticket_id)
    if row is None:
        return
    if milestone == "responded" and row.responded_at is None:
        row.responded_at = now
        row.respond_state = SlaState.MET.value
    elif milestone == "resolved" and row.resolved_at is None:
        row.resolved_at = now
        row.resolve_state = SlaState.MET.value
    elif milestone == "closed":
        row.closed_at = now
    row.updated_at = now


@dataclass(frozen=True)
class Escalation:
    """A milestone that got worse since the last sweep."""

    ticket_id: int
    milestone: str  # "respond" or "resolve"
    state: SlaState
    deadline: float


def due_escalations(*, session: Session, now: float, policy: SlaPolicy) -> list[Escalation]:
    """Open tickets whose respond or resolve milestone is newly at risk or breached."""
    rows = session.execute(
        select(TicketRow, TicketSlaRow)
        .join(TicketSlaRow, TicketSlaRow.ticket_id == TicketRow.id)
        .where(TicketRow.status.in_([s.value for s in OPEN_STATUSES]))
        .where(
            (TicketSlaRow.respond_state != SlaState.MET.value)
            | (TicketSlaRow.resolve_state != SlaState.MET.value)
        )
    ).all()
    found = []
    for ticket, row in rows:
        for milestone, deadline, met_at, stored in (
            ("respond", ticket.respond_by, row.responded_at, row.respond_state),
            ("resolve", ticket.resolve_by, row.resolved_at, row.resolve_state),
        ):
            if deadline is None:
                continue
            state = state_of(
                now=now,
                start=row.started_at,
                deadline=deadline,
                met_at=met_at,
                fraction=policy.at_risk_fraction,
            )
            if SEVERITY_RANK[state] > SEVERITY_RANK[SlaState(stored)]:
                found.append(Escalation(ticket.id, milestone, state, deadline))
    return found


def record_escalation(*, session: Session, escalation: Escalation, now: float) -> int:
    """Store the new state and raise the ticket's priority; returns the new priority."""
    row = session.get(TicketSlaRow, escalation.ticket_id)
    assert row is not None, "due_escalations only returns tickets with an SLA row"
    if escalation.milestone == "respond":
        row.respond_state = escalation.state.value
    else:
        row.resolve_state = escalation.state.value
    row.priority += 1
    row.updated_at = now
    return row.priority


def summary(*, ticket: TicketRow, row: TicketSlaRow | None, now: float) -> dict[str, Any]:
    """The SLA as the API shows it: deadlines, milestones, state (as last escalated, or
    breached if a deadline has passed since), priority."""
    if row is None:
        return {"respond_by": ticket.respond_by, "resolve_by": ticket.resolve_by}

    def live(stored: str, deadline: float | None, met_at: float | None) -> str:
        if met_at is None and deadline is not None and now > deadline:
            return SlaState.BREACHED.value
        return stored

    return {
        "respond_by": ticket.respond_by,
        "resolve_by": ticket.resolve_by,
        "tier": row.tier,
        "priority": row.priority,
        "started_at": row.started_at,
        "responded_at": row.responded_at,
        "resolved_at": row.resolved_at,
        "closed_at": row.closed_at,
        "respond_state": live(row.respond_state, ticket.respond_by, row.responded_at),
        "resolve_state": live(row.resolve_state, ticket.resolve_by, row.resolved_at),
    }
