"""The ticket lifecycle: which status changes are legal, for whom, and how one is recorded.

    opened ──▶ assigned ──▶ en_route ──▶ on_site ──▶ resolved ──▶ closed
      │  ▲        │  ▲         │            │            │          │
      │  └────────┘  └─────────┴────────────┘            │          │
      ├──▶ cancelled (also from assigned, en_route)      │          │
      └──▶ auto_resolved (also from assigned)            │          │
    reopen: resolved / closed / auto_resolved ──▶ opened ◀┴──────────┘

`allowed()` and `check()` are pure (the property tests drive them); `apply()` performs a
checked change on a ticket row and records it on the timeline and in the audit chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.people import Role
from fieldservice import audit
from fieldservice.errors import IllegalTransitionError
from storage.models import TicketEventRow, TicketRow, TicketStatus

S = TicketStatus



TRANSITIONS: Mapping[TicketStatus, frozenset[TicketStatus]] = {
    S.OPENED: frozenset({S.ASSIGNED, S.CANCELLED, S.AUTO_RESOLVED}),
    # back to opened: the technician was unassigned (declined, fell ill) — dispatch again
    S.ASSIGNED: frozenset({S.EN_ROUTE, S.OPENED, S.CANCELLED, S.AUTO_RESOLVED}),
    # back to assigned: the visit was postponed
    S.EN_ROUTE: frozenset({S.ON_SITE, S.ASSIGNED, S.CANCELLED}),
    # back to assigned: a return visit is needed (parts on order)
    S.ON_SITE: frozenset({S.RESOLVED, S.ASSIGNED}),
    # closed only after telemetry verified the repair; opened when it did not hold
    S.RESOLVED: frozenset({S.CLOSED, S.OPENED}),
    S.CLOSED: frozenset({S.OPENED}),
    S.AUTO_RESOLVED: frozenset({S.OPENED}),
    S.CANCELLED: frozenset(),
}

# What a technician may report about a ticket assigned to them; everything else is the
# desk's or the service's call.
TECHNICIAN_MOVES: frozenset[tuple[TicketStatus, TicketStatus]] = frozenset(
    {
        (S.ASSIGNED, S.EN_ROUTE),
        (S.EN_ROUTE, S.ON_SITE),
        (S.EN_ROUTE, S.ASSIGNED),
        (S.ON_SITE, S.RESOLVED),
        (S.ON_SITE, S.ASSIGNED),
    }
)
# What a customer may do about their own ticket: call the visit off before it starts.
CUSTOMER_MOVES: frozenset[tuple[TicketStatus, TicketStatus]] = frozenset(
    {(S.OPENED, S.CANCELLED), (S.ASSIGNED, S.CANCELLED)}
)
# Changes only the service makes on its own evidence, or an operator with a written reason.
NOTE_REQUIRED_FOR_OPERATOR: frozenset[tuple[TicketStatus, TicketStatus]] = frozenset(
    {(S.RESOLVED, S.CLOSED), (S.OPENED, S.AUTO_RESOLVED), (S.ASSIGNED, S.AUTO_RESOLVED)}
)


def allowed(current: TicketStatus, role: Role) -> frozenset[TicketStatus]:
    """Every status `role` may move a ticket in `current` to."""
    targets = TRANSITIONS[current]
    if role is Role.TECHNICIAN:
        return frozenset(t for t in targets if (current, t) in TECHNICIAN_MOVES)
    if role is Role.CUSTOMER:
        return frozenset(t for t in targets if (current, t) in CUSTOMER_MOVES)
    return targets


def check(
    current: TicketStatus,
    target: TicketStatus,
    role: Role,
    *,
    has_note: bool = False,
    ticket_id: int | None = None,
) -> None:
    """Raise `IllegalTransitionError` (saying what is possible instead) unless the move is legal."""
    what = f"ticket {ticket_id}" if ticket_id is not None else "the ticket"
    if target not in TRANSITIONS[current]:
        options = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is final)"
        raise IllegalTransitionError(
            f"{what} is {current.value}; it can move to {options} — not {target.value}"
        )
    if role is Role.TECHNICIAN and (current, target) not in TECHNICIAN_MOVES:
        options = ", ".join(sorted(allowed(current, role))) or "nothing"
        raise IllegalTransitionError(
            f"{what} is {current.value}; a technician can report {options} — "
            f"{target.value} is for the service desk"
        )
    if role is Role.CUSTOMER and (current, target) not in CUSTOMER_MOVES:
        raise IllegalTransitionError(
            f"{what} is {current.value}; a customer can only cancel a visit that has not "
            "started — please call the service desk"
        )
    if role is Role.OPERATOR and (current, target) in NOTE_REQUIRED_FOR_OPERATOR and not has_note:
        raise IllegalTransitionError(
            f"{what}: {current.value} → {target.value} is normally decided from telemetry; "
            "an operator doing it by hand must give a note saying why"
        )


def apply(
    *,
    session: Session,
    ticket: TicketRow,
    target: TicketStatus,
    actor: str,
    role: Role,
    now: float,
    kind: str = "status_changed",
    note: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> TicketEventRow:
    """Move `ticket` to `target` if legal, and record who did it and when (timeline + audit).

    Reopening (a final status back to `opened`) is refused if the device already has
    another open ticket for the same fault: the database allows only one.
    """
    current = TicketStatus(ticket.status)
    check(current, target, role, has_note=bool(note), ticket_id=ticket.id)
    try:
        with session.begin_nested():
            ticket.status = target.value
            ticket.updated_at = now
            session.flush()
    except IntegrityError:
        ticket.status = current.value
        raise IllegalTransitionError(
            f"ticket {ticket.id} cannot be reopened: device {ticket.device_id} already has "
            f"an open {ticket.fault_code} ticket"
        ) from None
    return record(
        session=session,
        ticket=ticket,
        actor=actor,
        kind=kind,
        now=now,
        from_status=current,
        to_status=target,
        note=note,
        data={"role": role.value, **(data or {})},
    )


def record(
    *,
    session: Session,
    ticket: TicketRow,
    actor: str,
    kind: str,
    now: float,
    from_status: TicketStatus | None = None,
    to_status: TicketStatus | None = None,
    note: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> TicketEventRow:
    """Add one entry to the ticket's timeline (and so to the audit chain)."""
    event = TicketEventRow(
        ticket_id=ticket.id,
        at=now,
        actor=actor,
        kind=kind,
        from_status=None if from_status is None else from_status.value,
        to_status=None if to_status is None else to_status.value,
        note=note,
        data=dict(data or {}),
    )
    session.add(event)
    session.flush()
    audit.append(session=session, event=event)
    return event
