"""The technician's job report on a ticket: checklist ticks, parts used, a note."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.auth import PrincipalDep
from api.deps import SessionDep
from api.errors import documented
from api.params import TicketId
from domain.people import Role
from fieldservice import job_reports, scopes
from storage.models import JobReportRow

router = APIRouter(prefix="/tickets", tags=["tickets"])


class JobReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checklist_done: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list, max_length=200, description="indexes of the work order's steps"
    )
    parts_used: list[Annotated[str, Field(max_length=job_reports.MAX_PART_LEN)]] = Field(
        default_factory=list, max_length=job_reports.MAX_PARTS
    )
    note: str | None = Field(default=None, max_length=job_reports.MAX_NOTE_LEN)


class JobReportOut(BaseModel):
    """The report as saved; an empty one (no `updated_at`) until it is first written."""

    technician_id: str | None = None
    checklist_done: list[int]
    parts_used: list[str]
    note: str | None
    updated_at: float | None


def _out(row: JobReportRow | None) -> JobReportOut:
    if row is None:
        return JobReportOut(checklist_done=[], parts_used=[], note=None, updated_at=None)
    return JobReportOut(
        technician_id=row.technician_id,
        checklist_done=list(row.checklist_done or []),
        parts_used=list(row.parts_used or []),
        note=row.note,
        updated_at=row.updated_at,
    )


@router.get("/{ticket_id}/report", response_model=JobReportOut, responses=documented(403, 404))
def get_report(ticket_id: TicketId, session: SessionDep, principal: PrincipalDep) -> JobReportOut:
    scopes.only(principal.role, Role.TECHNICIAN, what="the job report")
    scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )
    return _out(job_reports.get(session=session, ticket_id=ticket_id))


@router.put("/{ticket_id}/report", response_model=JobReportOut, responses=documented(403, 404, 409))
def put_report(
    ticket_id: TicketId, report_in: JobReportIn, session: SessionDep, principal: PrincipalDep
) -> JobReportOut:
    """Written by the ticket's technician (or the desk for them)."""
    scopes.only(principal.role, Role.TECHNICIAN, what="the job report")
    ticket = scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )
    row = job_reports.save(
        session=session,
        ticket=ticket,
        report_in=job_reports.JobReportIn(
            checklist_done=tuple(report_in.checklist_done),
            parts_used=tuple(report_in.parts_used),
            note=report_in.note,
        ),
        actor=principal.actor,
        now=time.time(),
    )
    return _out(row)
