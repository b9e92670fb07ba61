"""The audit chain: every ticket event, as canonical JSON, hashed together with the entry before.

`hash[n] = sha256(prev_hash + "\\n" + body[n])`, `prev_hash` of the first entry is 64 zeros,
and `body` carries the entry's own position, so editing, deleting, inserting or
reordering any stored entry breaks a hash or a link that `verify()` reports by position.
The chain is also compared with the ticket timeline it mirrors, so a timeline row edited
or deleted behind the chain's back is named too.

Limit: cutting entries off the end (with their timeline rows) leaves a shorter chain that
is still consistent. Keep the head (`head()`, printed by `faultline audit verify`)
somewhere else and pass it back as `expected_head` to detect that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from storage.models import AuditEntryRow, TicketEventRow

GENESIS = "0" * 64
# Serialises appends on PostgreSQL (SQLite's BEGIN IMMEDIATE already does).
_AUDIT_LOCK_ID = 0x61756469  # "audi"
_EVENT_FIELDS = ("ticket_id", "at", "actor", "kind", "from_status", "to_status", "note", "data")


def canonical(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept, floats as shortest repr."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def entry_body(event: TicketEventRow, seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "event_id": event.id,
        **{name: getattr(event, name) for name in _EVENT_FIELDS},
    }


def lock(*, session: Session) -> None:
    """Take the chain's append lock for this transaction (PostgreSQL; a no-op on SQLite).

    Flows take it before locking any ticket row, so that every transaction acquires locks
    in the same order (chain, then rows) and two of them cannot deadlock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK_ID})


def append(*, session: Session, event: TicketEventRow) -> AuditEntryRow:
    """Chain `event` (flushed, so it has an id) after the current head."""
    lock(session=session)
    last = session.execute(
        select(AuditEntryRow.seq, AuditEntryRow.hash).order_by(AuditEntryRow.seq.desc()).limit(1)
    ).first()
    seq, prev = (1, GENESIS) if last is None else (last.seq + 1, last.hash)
    body = canonical(entry_body(event, seq))
    row = AuditEntryRow(
        seq=seq,
        event_id=event.id,
        ticket_id=event.ticket_id,
        at=event.at,
        body=body,
        prev_hash=prev,
        hash=link_hash(prev, body),
    )
    session.add(row)
    session.flush()
    return row


def seal_ticket(*, session: Session, ticket_id: int) -> int:
    """Chain the ticket's events that are not chained yet (written by code outside this package).

    Returns how many were appended.
    """
    session.flush()
    chained = select(AuditEntryRow.event_id).where(AuditEntryRow.ticket_id == ticket_id)
    events = session.scalars(
        select(TicketEventRow)
        .where(TicketEventRow.ticket_id == ticket_id, TicketEventRow.id.not_in(chained))
        .order_by(TicketEventRow.id)
    ).all()
    for event in events:
        append(session=session, event=event)
    return len(events)


def head(*, session: Session) -> tuple[int, str] | None:
    """The newest entry's position and hash: keep it elsewhere to detect truncation later."""
    row = session.execute(
        select(AuditEntryRow.seq, AuditEntryRow.hash).order_by(AuditEntryRow.seq.desc()).limit(1)
    ).first()
    return None if row is None else (row.seq, row.hash)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the chain, named by entry position and ticket event."""

    what: str
    seq: int | None = None
    event_id: int | None = None
    ticket_id: int | None = None


@dataclass
class Report:
    entries: int = 0
    head: tuple[int, str] | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(*, session: Session, expected_head: tuple[int, str] | None = None) -> Report:
    """Walk the whole chain and compare it with the timeline; report everything that is off."""
    report = Report()
    bodies: dict[int, tuple[int, dict[str, Any]]] = {}
    # Events whose own entry was edited: already reported, and comparing the timeline with
    # the edited entry would wrongly blame the timeline.
    unvouched: set[int] = set()
    prev_hash, expected_seq = GENESIS, 1
    prev_where = "the start of the chain"
    for row in _entries(session):
        report.entries += 1
        where = f"audit entry #{row.seq} (ticket {row.ticket_id}, event {row.event_id})"
        problem = _entry_problem(row, where, expected_seq, prev_hash, prev_where)
        if problem is not None:
            report.problems.append(Problem(problem, row.seq, row.event_id, row.ticket_id))
        body = _parse(row.body)
        if body is None or (problem is not None and " was edited" in problem):
            unvouched.add(row.event_id)
        else:
            bodies[row.event_id] = (row.seq, body)
        prev_hash, expected_seq = row.hash, row.seq + 1
        prev_where = where
        report.head = (row.seq, row.hash)
    _compare_with_timeline(session, bodies, unvouched, report)
    if expected_head is not None:
        _check_head(session, expected_head, report)
    return report


def _parse(body: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _entry_problem(
    row: AuditEntryRow, where: str, expected_seq: int, prev_hash: str, prev_where: str
) -> str | None:
    """What is wrong with one entry given the one before it, most telling first."""
    body = _parse(row.body)
    if body is None:
        return f"{where} was edited: its body is no longer the JSON that was hashed"
    if link_hash(row.prev_hash, row.body) != row.hash:
        return f"{where} was edited: its hash does not match its content"
    if body.get("seq") != row.seq or body.get("event_id") != row.event_id:
        return (
            f"{where} was moved: it was written as entry #{body.get('seq')} "
            f"for event {body.get('event_id')} (entries reordered)"
        )
    if row.seq != expected_seq:
        gap = (
            f"#{expected_seq}" if row.seq == expected_seq + 1 else f"#{expected_seq}–#{row.seq - 1}"
        )
        return f"audit entry {gap} before {where} is missing (deleted)"
    if row.prev_hash != prev_hash:
        return (
            f"{where} does not follow {prev_where}: one of them was rewritten, "
            "or entries were deleted, inserted or reordered"
        )
    return None


def _entries(session: Session) -> Iterator[AuditEntryRow]:
    query = select(AuditEntryRow).order_by(AuditEntryRow.seq).execution_options(yield_per=1000)
    yield from session.scalars(query)


def _compare_with_timeline(
    session: Session,
    bodies: dict[int, tuple[int, dict[str, Any]]],
    flagged: set[int],
    report: Report,
) -> None:
    seen: set[int] = set()
    events = session.scalars(
        select(TicketEventRow).order_by(TicketEventRow.id).execution_options(yield_per=1000)
    )
    for event in events:
        seen.add(event.id)
        chained = bodies.get(event.id)
        if event.id in flagged:
            continue
        if chained is None:
            report.problems.append(
                Problem(
                    f"ticket event {event.id} (ticket {event.ticket_id}) has no audit entry: "
                    "its entry was deleted, or the event was written around the chain",
                    None,
                    event.id,
                    event.ticket_id,
                )
            )
            continue
        seq, body = chained
        changed = [name for name in _EVENT_FIELDS if body.get(name) != getattr(event, name)]
        if changed:
            report.problems.append(
                Problem(
                    f"ticket event {event.id} (ticket {event.ticket_id}, audit entry #{seq}) "
                    f"was changed after it was recorded: {', '.join(changed)}",
                    seq,
                    event.id,
                    event.ticket_id,
                )
            )
    for event_id in sorted(set(bodies) - seen - flagged):
        seq, body = bodies[event_id]
        report.problems.append(
            Problem(
                f"ticket event {event_id} (ticket {body.get('ticket_id')}, audit entry #{seq}) "
                "was deleted from the timeline",
                seq,
                event_id,
                body.get("ticket_id"),
            )
        )


def _check_head(session: Session, expected: tuple[int, str], report: Report) -> None:
    seq, digest = expected
    stored = session.get(AuditEntryRow, seq)
    if stored is None:
        report.problems.append(
            Problem(
                f"audit entry #{seq}, the head recorded earlier, is gone (chain truncated)", seq
            )
        )
    elif stored.hash != digest:
        report.problems.append(
            Problem(f"audit entry #{seq} no longer has the hash recorded earlier (rewritten)", seq)
        )
