"""Telemetry-verified closure: a repair is confirmed only when the fault's own clear
condition has held for the quiet period.

When a technician reports a ticket resolved, a check starts. The pipeline tells it, per
watched device, which readings arrived (event time) and what the detectors say about the
ticket's fault after them (`FaultClear`: still showing, or clear since when; each
detector defines "clear" for its fault, e.g. the compressor cycling again and the cabinet
back in its band). The check passes once the fault has been clear for `quiet_s` of event
time after the repair; it fails when the fault has not cleared `verify_s` after the first
reading that followed the repair (a claimed repair the telemetry contradicts), or when the
same fault is found again. Event time, so a replayed day verifies like a live one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ClosureCheckRow, TicketRow


class CheckStatus(StrEnum):
    WATCHING = "watching"
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FaultClear:
    """What the detectors said about one fault over a stretch of readings: the newest
    event time it still showed, since when it has been clear (None: it still shows at the
    newest reading) and, while it shows, what the detector says."""

    last_present_at: float | None
    cleared_since: float | None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RepairObservation:
    """Readings from a watched device: when the first of them arrived (wall time), the
    oldest and newest event time, and the detectors' word on each watched fault."""

    arrived_at: float
    oldest: float
    newest: float
    faults: Mapping[str, FaultClear] = field(default_factory=dict)


def begin(*, session: Session, ticket: TicketRow, now: float, quiet_s: float) -> ClosureCheckRow:
    """Start (or restart) watching the ticket's device after a repair at `now`."""
    row = session.get(ClosureCheckRow, ticket.id)
    if row is None:
        row = ClosureCheckRow(ticket_id=ticket.id, device_id=ticket.device_id)
        session.add(row)
    row.status = CheckStatus.WATCHING.value
    row.resolved_at = now
    row.watch_since = row.normal_since = row.observed_until = None
    row.clear_detail = None
    row.quiet_s = quiet_s
    row.updated_at = now
    session.flush()
    return row


def get(*, session: Session, ticket_id: int) -> ClosureCheckRow | None:
    return session.get(ClosureCheckRow, ticket_id)


def watched_faults(*, session: Session) -> dict[str, set[str]]:
    """Devices with a repair under verification, and the faults claimed repaired on each."""
    query = (
        select(ClosureCheckRow.device_id, TicketRow.fault_code)
        .join(TicketRow, TicketRow.id == ClosureCheckRow.ticket_id)
        .where(ClosureCheckRow.status == CheckStatus.WATCHING.value)
    )
    watched: dict[str, set[str]] = {}
    for device_id, fault_code in session.execute(query):
        watched.setdefault(device_id, set()).add(fault_code)
    return watched


def watched_devices(*, session: Session) -> set[str]:
    """Devices with a repair under verification: the only ones whose readings matter here."""
    return set(watched_faults(session=session))


def observe(*, session: Session, seen: Mapping[str, RepairObservation], now: float) -> int:
    """Readings arrived from watched devices. Only readings that arrived after the repair
    count; the oldest of those starts the watch. Returns how many checks moved."""
    if not seen:
        return 0
    rows = session.execute(
        select(ClosureCheckRow, TicketRow.fault_code)
        .join(TicketRow, TicketRow.id == ClosureCheckRow.ticket_id)
        .where(ClosureCheckRow.status == CheckStatus.WATCHING.value)
        .where(ClosureCheckRow.device_id.in_(sorted(seen)))
    ).all()
    moved = 0
    for row, fault_code in rows:
        observation = seen[row.device_id]
        if row.watch_since is None:
            if observation.arrived_at < row.resolved_at:
                continue  # some of these readings predate the repair: wait for fresh ones
            row.watch_since = observation.oldest
        _follow(row, observation, observation.faults.get(fault_code))
        row.updated_at = now
        moved += 1
    return moved


def _follow(row: ClosureCheckRow, seen: RepairObservation, fault: FaultClear | None) -> None:
    """Move the check's clear run along with what the detectors said."""
    assert row.watch_since is not None
    row.observed_until = max(row.observed_until or seen.newest, seen.newest)
    if fault is None:
        # No detector's word on this fault (it was never raised by one, e.g. a ticket
        # opened by hand): the device reporting is all there is to go on.
        if row.normal_since is None:
            row.normal_since = row.watch_since
        return
    if fault.cleared_since is None:
        row.normal_since = None
        row.clear_detail = fault.detail
        return
    showed_since = fault.last_present_at is not None and (
        row.normal_since is None or fault.last_present_at >= row.normal_since
    )
    if row.normal_since is None or showed_since:
        # Clear from the later of the repair's first reading and the fault clearing.
        row.normal_since = max(fault.cleared_since, row.watch_since)


def passed(*, session: Session) -> list[ClosureCheckRow]:
    """Checks whose fault has stayed clear for the whole quiet period after the repair."""
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


def failed(*, session: Session, verify_s: float) -> list[ClosureCheckRow]:
    """Checks whose fault still shows `verify_s` of event time after the repair."""
    rows = session.scalars(
        select(ClosureCheckRow).where(ClosureCheckRow.status == CheckStatus.WATCHING.value)
    ).all()
    return [
        row
        for row in rows
        if row.normal_since is None
        and row.watch_since is not None
        and row.observed_until is not None
        and row.observed_until - row.watch_since >= verify_s
    ]


def finish(*, session: Session, ticket_id: int, status: CheckStatus, now: float) -> None:
    row = session.get(ClosureCheckRow, ticket_id)
    if row is not None:
        row.status = status.value
        row.updated_at = now
