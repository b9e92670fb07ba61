"""The technician's job report on a ticket: checklist ticks, parts used, a note."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.auth import PrincipalDep
from api.deps import SessionDep
from domain.people import Role
from fieldservice import job_reports, scopes
from storage.models import JobReportRow

router = APIRouter(prefix="/tickets", tags=["tickets"])


class JobReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checklist_done: list[int] = Field(default_factory=list, max_length=200)
    parts_used: list[str] = Field(default_factory=list, max_length=job_reports.MAX_PARTS)
    note: str | None = Field(default=None, max_length=job_reports.MAX_NOTE_LEN)


def _out(row: JobReportRow | None) -> dict[str, Any]:
    if row is None:
        return {"checklist_done": [], "parts_used": [], "note": None, "updated_at": None}
    return {
        "technician_id": row.technician_id,
        "checklist_done": list(row.checklist_done or []),
        "parts_used": list(row.parts_used or []),
        "note": row.note,
        "updated_at": row.updated_at,
    }


@router.get("/{ticket_id}/report")
def get_report(ticket_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    scopes.only(principal.role, Role.TECHNICIAN, what="the job report")
    scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )
    return _out(job_reports.get(session=session, ticket_id=ticket_id))


@router.put("/{ticket_id}/report")
def put_report(
    ticket_id: int, report_in: JobReportIn, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
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
