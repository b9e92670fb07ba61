"""The technician's job report on a ticket: checklist steps done, parts used and a note,
stored with the ticket; each save is a timeline entry (and so in the audit chain)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from fieldservice import lifecycle, work_orders
from fieldservice.errors import IllegalTransitionError, InvalidRequestError
from storage.models import JobReportRow, TicketRow, TicketStatus

# A report can be written from assignment until the repair is verified.
REPORTABLE = frozenset(
    {TicketStatus.ASSIGNED, TicketStatus.EN_ROUTE, TicketStatus.ON_SITE, TicketStatus.RESOLVED}
)
MAX_PARTS = 30
MAX_PART_LEN = 120
MAX_NOTE_LEN = 4000


@dataclass(frozen=True)
class JobReportIn:
    checklist_done: tuple[int, ...] = ()
    parts_used: tuple[str, ...] = ()
    note: str | None = None


def get(*, session: Session, ticket_id: int) -> JobReportRow | None:
    return session.get(JobReportRow, ticket_id)


def save(
    *,
    session: Session,
    ticket: TicketRow,
    report_in: JobReportIn,
    actor: str,
    now: float,
) -> JobReportRow:
    """Replace the ticket's report with `report_in` (checked against the work order)."""
    if TicketStatus(ticket.status) not in REPORTABLE:
        raise IllegalTransitionError(
            f"ticket {ticket.id} is {ticket.status}: a job report is written between "
            "assignment and the verified repair"
        )
    order = work_orders.get_for_ticket(session=session, ticket_id=ticket.id)
    steps = list((order.content or {}).get("checklist") or []) if order else []
    done = sorted(set(report_in.checklist_done))
    bad = [i for i in done if not 0 <= i < len(steps)]
    if bad:
        raise InvalidRequestError(
            f"checklist steps {bad} do not exist: the work order has {len(steps)} steps"
        )
    parts = _clean_parts(report_in.parts_used)
    note = (report_in.note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE_LEN:
        raise InvalidRequestError(f"the note is longer than {MAX_NOTE_LEN} characters")
    row = session.get(JobReportRow, ticket.id)
    if row is None:
        row = JobReportRow(ticket_id=ticket.id)
        session.add(row)
    row.technician_id = ticket.technician_id
    row.checklist_done = done
    row.parts_used = parts
    row.note = note
    row.updated_at = now
    session.flush()
    lifecycle.record(
        session=session,
        ticket=ticket,
        actor=actor,
        kind="job_report",
        now=now,
        note=note,
        data={"checklist_done": done, "checklist_steps": len(steps), "parts_used": parts},
    )
    return row


def _clean_parts(parts: Sequence[str]) -> list[str]:
    cleaned = list(dict.fromkeys(p.strip() for p in parts if p and p.strip()))
    if len(cleaned) > MAX_PARTS:
        raise InvalidRequestError(f"at most {MAX_PARTS} parts in one report")
    long = [p for p in cleaned if len(p) > MAX_PART_LEN]
    if long:
        raise InvalidRequestError(f"a part name is longer than {MAX_PART_LEN} characters")
    return cleaned
