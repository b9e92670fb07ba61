"""The technician app at `/tech`, made for a phone: the day's jobs in route order, a job's sheet
(evidence chart, parts, checklist, customer, call and map links), one tap for en route, on
site and resolved, and the job report. Every change is made as the signed-in technician."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.auth import Principal
from api.deps import ContextDep, SessionDep
from api.errors import status_of
from api.pages.access import TechnicianPage
from api.pages.templating import render
from fieldservice import flows, job_reports, scopes
from fieldservice.errors import FieldServiceError
from fieldservice.views import technician_day
from storage.models import TicketStatus

router = APIRouter(include_in_schema=False)
SEE_OTHER = 303
FLASH = {
    "en_route": "On your way: the customer has been told.",
    "on_site": "Arrived.",
    "resolved": "Resolved: the appliance's readings will confirm the repair.",
    "report": "Report saved.",
}


@router.get("/tech", response_class=HTMLResponse)
def tech_day(
    request: Request, session: SessionDep, principal: TechnicianPage, partial: bool = False
) -> Response:
    day = technician_day.technician_day(
        session=session, technician_id=principal.subject, now=time.time()
    )
    template = "tech/_jobs.html" if partial else "tech/day.html"
    return render(request, template, _context(principal, day=day))


@router.get("/tech/jobs/{ticket_id}", response_class=HTMLResponse)
def tech_job(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    principal: TechnicianPage,
    done: str | None = None,
) -> Response:
    return _sheet(request, session, principal, ticket_id, flash=FLASH.get(done or ""))


@router.post("/tech/jobs/{ticket_id}/status", response_class=HTMLResponse)
def tech_move(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    context: ContextDep,
    principal: TechnicianPage,
    status: Annotated[TicketStatus, Form()],
    checklist: Annotated[list[int] | None, Form()] = None,
    parts_used: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str | None, Form(max_length=job_reports.MAX_NOTE_LEN)] = None,
    with_report: Annotated[bool, Form()] = False,
) -> Response:
    """One tap: en route, on site, resolved (resolving files the report on the form too)."""
    ticket = scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )
    now = time.time()
    try:
        with session.begin_nested():
            if with_report:
                job_reports.save(
                    session=session,
                    ticket=ticket,
                    report_in=_report(checklist, parts_used, note),
                    actor=principal.actor,
                    now=now,
                )
            flows.change_status(
                session=session,
                ticket_id=ticket_id,
                status=status,
                actor=principal.actor,
                role=principal.role,
                now=now,
                config=context.fieldservice,
            )
    except FieldServiceError as exc:
        return _sheet(request, session, principal, ticket_id, error=str(exc), code=status_of(exc))
    return _after(request, session, principal, ticket_id, status.value)


@router.post("/tech/jobs/{ticket_id}/report", response_class=HTMLResponse)
def tech_report(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    principal: TechnicianPage,
    checklist: Annotated[list[int] | None, Form()] = None,
    parts_used: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str | None, Form(max_length=job_reports.MAX_NOTE_LEN)] = None,
) -> Response:
    ticket = scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )
    try:
        with session.begin_nested():
            job_reports.save(
                session=session,
                ticket=ticket,
                report_in=_report(checklist, parts_used, note),
                actor=principal.actor,
                now=time.time(),
            )
    except FieldServiceError as exc:
        return _sheet(request, session, principal, ticket_id, error=str(exc), code=status_of(exc))
    return _after(request, session, principal, ticket_id, "report")


def _report(
    checklist: list[int] | None, parts_used: list[str] | None, note: str | None
) -> job_reports.JobReportIn:
    return job_reports.JobReportIn(
        checklist_done=tuple(checklist or ()),
        parts_used=tuple(p for part in parts_used or () for p in part.split(",")),
        note=note,
    )


def _after(
    request: Request, session: Session, principal: Principal, ticket_id: int, done: str
) -> Response:
    if request.headers.get("HX-Request"):
        return _sheet(request, session, principal, ticket_id, flash=FLASH.get(done), partial=True)
    return RedirectResponse(f"/tech/jobs/{ticket_id}?done={done}", SEE_OTHER)


def _sheet(
    request: Request,
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    flash: str | None = None,
    error: str | None = None,
    code: int = 200,
    partial: bool = False,
) -> Response:
    ticket = scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )
    sheet = technician_day.job_sheet(session=session, ticket=ticket)
    return render(
        request,
        "tech/_job.html" if partial else "tech/job.html",
        _context(principal, sheet=sheet, flash=flash, error=error),
        status_code=code,
    )


def _context(principal: Principal, **values: Any) -> dict[str, Any]:
    return {"principal": principal, "csrf": principal.csrf, "now": time.time(), **values}
