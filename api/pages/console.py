"""The desk's console at `/`: the ticket queue by SLA risk (live), a ticket with its evidence
chart, fleet health, technicians and their routes, cohort surveillance, ingest health."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ContextDep, SessionDep
from api.errors import status_of
from api.pages.access import OperatorPage
from api.pages.templating import render
from domain.devices import CustomerTier, DeviceType
from domain.faults import FaultCode
from fieldservice import cohorts, flows
from fieldservice.errors import FieldServiceError
from fieldservice.views import desk_queue, fleet_health, ingest_health, routes_map, ticket_page
from storage.models import OPEN_STATUSES, TicketStatus

router = APIRouter(include_in_schema=False)
SEE_OTHER = 303

Filter = Annotated[str | None, Query(max_length=64)]


def _page(principal: Any, **context: Any) -> dict[str, Any]:
    return {"principal": principal, "csrf": principal.csrf, "now": time.time(), **context}


def _filters(
    status: str | None,
    fault_code: str | None,
    tier: str | None,
    technician_id: str | None,
    sla_state: str | None,
) -> dict[str, str | None]:
    return {
        "status": status or None,
        "fault_code": fault_code or None,
        "tier": tier or None,
        "technician_id": technician_id or None,
        "sla_state": sla_state or None,
    }


def _keywords(filters: dict[str, str | None]) -> dict[str, Any]:
    return dict(filters)


@router.get("/", response_class=HTMLResponse)
def console_home(
    request: Request,
    session: SessionDep,
    context: ContextDep,
    principal: OperatorPage,
    status: Filter = None,
    fault_code: Filter = None,
    tier: Filter = None,
    technician_id: Filter = None,
    sla_state: Filter = None,
) -> Response:
    filters = _filters(status, fault_code, tier, technician_id, sla_state)
    queue = desk_queue.ticket_queue(
        session=session, now=time.time(), policy=context.fieldservice.sla, **_keywords(filters)
    )
    return render(
        request,
        "console/home.html",
        _page(
            principal,
            here="queue",
            queue=queue,
            filters=filters,
            statuses=sorted(s.value for s in OPEN_STATUSES),
            fault_codes=[f.value for f in FaultCode],
            tiers=[t.value for t in CustomerTier],
        ),
    )


@router.get("/console/queue", response_class=HTMLResponse)
def console_queue(
    request: Request,
    session: SessionDep,
    context: ContextDep,
    principal: OperatorPage,
    status: Filter = None,
    fault_code: Filter = None,
    tier: Filter = None,
    technician_id: Filter = None,
    sla_state: Filter = None,
) -> Response:
    """The queue panel alone: the home page polls it to stay live."""
    filters = _filters(status, fault_code, tier, technician_id, sla_state)
    queue = desk_queue.ticket_queue(
        session=session, now=time.time(), policy=context.fieldservice.sla, **_keywords(filters)
    )
    return render(request, "console/_queue.html", _page(principal, queue=queue))


@router.get("/console/notices", response_class=HTMLResponse)
def console_notices(
    request: Request, session: SessionDep, context: ContextDep, principal: OperatorPage
) -> Response:
    """Desk notices: cohorts with a significantly high fault rate, and the fleet at a glance."""
    now = time.time()
    flagged = [
        c
        for c in cohorts.surveil(session=session, now=now, config=context.fieldservice)
        if c.flagged
    ]
    fleet = fleet_health.fleet_summary(session=session, now=now)
    return render(
        request,
        "console/_notices.html",
        _page(principal, flagged=flagged, fleet=fleet, stats=context.ingest_stats()),
    )


@router.get("/console/tickets/{ticket_id}", response_class=HTMLResponse)
def console_ticket(
    request: Request, ticket_id: int, session: SessionDep, principal: OperatorPage
) -> Response:
    page = ticket_page.ticket_page(session=session, ticket_id=ticket_id, now=time.time())
    return render(
        request, "console/ticket.html", _page(principal, here="queue", page=page, error=None)
    )


@router.post("/console/tickets/{ticket_id}/status", response_class=HTMLResponse)
def console_move_ticket(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    context: ContextDep,
    principal: OperatorPage,
    status: Annotated[TicketStatus, Form()],
    note: Annotated[str, Form(max_length=4000)] = "",
    technician_id: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """An operator's status change (assign by hand, cancel, close with a reason…)."""
    now = time.time()
    try:
        with session.begin_nested():
            flows.change_status(
                session=session,
                ticket_id=ticket_id,
                status=status,
                actor=principal.actor,
                role=principal.role,
                note=note.strip() or None,
                technician_id=technician_id or None,
                now=now,
                config=context.fieldservice,
            )
    except FieldServiceError as exc:
        page = ticket_page.ticket_page(session=session, ticket_id=ticket_id, now=now)
        return render(
            request,
            "console/ticket.html",
            _page(principal, here="queue", page=page, error=str(exc)),
            status_code=status_of(exc),
        )
    return RedirectResponse(f"/console/tickets/{ticket_id}", SEE_OTHER)


@router.get("/console/fleet", response_class=HTMLResponse)
def console_fleet(
    request: Request,
    session: SessionDep,
    principal: OperatorPage,
    search: Filter = None,
    type: Filter = None,
    partial: bool = False,
) -> Response:
    fleet = fleet_health.fleet_health(
        session=session, now=time.time(), search=search or None, device_type=type or None
    )
    template = "console/_fleet.html" if partial else "console/fleet.html"
    return render(
        request,
        template,
        _page(
            principal,
            here="fleet",
            fleet=fleet,
            search=search or "",
            type=type or "",
            types=[t.value for t in DeviceType],
            silent_after_min=fleet_health.SILENT_AFTER_S / 60,
            lossy_share=fleet_health.LOSSY_SHARE,
        ),
    )


@router.get("/console/technicians", response_class=HTMLResponse)
def console_technicians(
    request: Request, session: SessionDep, principal: OperatorPage, partial: bool = False
) -> Response:
    plot = routes_map.routes_map(session=session, now=time.time())
    template = "console/_routes.html" if partial else "console/technicians.html"
    return render(request, template, _page(principal, here="technicians", plot=plot))


@router.get("/console/cohorts", response_class=HTMLResponse)
def console_cohorts(
    request: Request, session: SessionDep, context: ContextDep, principal: OperatorPage
) -> Response:
    rates = cohorts.surveil(session=session, now=time.time(), config=context.fieldservice)
    return render(
        request,
        "console/cohorts.html",
        _page(
            principal,
            here="cohorts",
            rates=rates,
            dimensions=cohorts.DIMENSIONS,
            window_days=context.fieldservice.cohort_window_s / 86400.0,
            fdr=context.fieldservice.cohort_fdr,
            min_faults=cohorts.MIN_FAULTS,
        ),
    )


@router.get("/console/ingest", response_class=HTMLResponse)
def console_ingest(
    request: Request,
    session: SessionDep,
    context: ContextDep,
    principal: OperatorPage,
    reason: Filter = None,
    partial: bool = False,
) -> Response:
    # Before this request's transaction starts: the checks open their own connection.
    health = context.health_checks()
    ingest = ingest_health.ingest_health(
        session=session, stats=context.ingest_stats(), reason=reason or None
    )
    template = "console/_ingest.html" if partial else "console/ingest.html"
    return render(
        request,
        template,
        _page(
            principal,
            here="ingest",
            ingest=ingest,
            health=health,
            reason=reason or "",
        ),
    )
