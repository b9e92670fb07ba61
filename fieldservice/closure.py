"""Telemetry-verified closure: a repaired ticket closes only once the device has stayed normal.

When a technician reports a ticket resolved, a check starts. The pipeline feeds two
signals: readings arriving from the device ("normal since" its first reading after the
repair, up to its newest), and any new anomaly of the same fault ("still faulty"). The
check passes once `quiet_s` of event time has gone by with no such anomaly; a new anomaly
fails it and the ticket reopens. Event time, so a replayed day verifies like a live one.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ClosureCheckRow, TicketRow


class CheckStatus(StrEnum):
    WATCHING = "watching"
    PASSED = "passed"
    FAILED = "failed"


def begin(*, session: Session, ticket: TicketRow, now: float, quiet_s: float) -> ClosureCheckRow:
    """Start (or restart) watching the ticket's device after a repair at `now`."""
    row = session.get(ClosureCheckRow, ticket.id)
    if row is None:
        row = ClosureCheckRow(ticket_id=ticket.id, device_id=ticket.device_id)
        session.add(row)
    row.status = CheckStatus.WATCHING.value
    row.resolved_at = now
    row.normal_since = None
    row.observed_until = None
    row.quiet_s = quiet_s
    row.updated_at = now
    session.flush()
    return row


def get(*, session: Session, ticket_id: int) -> ClosureCheckRow | None:
    return session.get(ClosureCheckRow, ticket_id)


def watched_devices(*, session: Session) -> set[str]:
    """Devices with a repair under verification: the only ones whose readings matter here."""
    query = select(ClosureCheckRow.device_id).where(
        ClosureCheckRow.status == CheckStatus.WATCHING.value
    )
    return set(session.scalars(query))


def observe(*, session: Session, seen: Mapping[str, tuple[float, float, float]], now: float) -> int:
    """Readings arrived: `seen[device_id] = (first arrival wall time, oldest ts, newest ts)`.

    Only readings that arrived after the repair count; the oldest of those starts the
    quiet period. Returns how many checks moved.
    """
    if not seen:
        return 0
    rows = session.scalars(
        select(ClosureCheckRow)
        .where(ClosureCheckRow.status == CheckStatus.WATCHING.value)
        .where(ClosureCheckRow.device_id.in_(sorted(seen)))
    ).all()
    moved = 0
    for row in rows:
        arrived_at, oldest, newest = seen[row.device_id]
        if row.normal_since is None:
            if arrived_at < row.resolved_at:
                continue  # some of these readings predate the repair: wait for fresh ones
            row.normal_since = oldest
        row.observed_until = max(row.observed_until or newest, newest)
        row.updated_at = now
        moved += 1
    return moved


def passed(*, session: Session) -> list[ClosureCheckRow]:
    """Checks whose device stayed normal for the whole quiet period."""
    rows = session.scalars(
        select(ClosureCheckRow).where(ClosureCheckRow.status == CheckStatus.WATCHING.value)
    ).all()
    return [
        row
        for row in rows
        if row.normal_since is not None
        and row.observed_until is not None
        and row.observed_until - row.normal_since >= row.quiet_s
    ]


def finish(*, session: Session, ticket_id: int, status: CheckStatus, now: float) -> None:
    row = session.get(ClosureCheckRow, ticket_id)
    if row is not None:
        row.status = status.value
        row.updated_at = now
