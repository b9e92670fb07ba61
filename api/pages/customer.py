"""The customer page at `/my`, in the customer's language: their appliances and consent, and
for a repair what was found, what to do now, its progress, the booked window and arrival,
moving or cancelling the visit, and rating it afterwards (the follow-up's link lands here)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.auth import Principal
from api.deps import ContextDep, SessionDep
from api.errors import status_of
from api.pages.access import CustomerPage
from api.pages.templating import local, render
from api.pages.texts import text
from fieldservice import consent, flows, ratings, rescheduling, scopes
from fieldservice.config import FieldServiceConfig
from fieldservice.errors import FieldServiceError
from fieldservice.views import customer_page
from storage.models import TicketStatus

router = APIRouter(include_in_schema=False)
SEE_OTHER = 303


@router.get("/my", response_class=HTMLResponse)
def my_home(
    request: Request,
    session: SessionDep,
    context: ContextDep,
    principal: CustomerPage,
    done: str | None = None,
) -> Response:
    home = customer_page.customer_home(
        session=session, customer_id=principal.subject, now=time.time(), config=context.fieldservice
    )
    flash = text(home.language, "my.saved") if done == "saved" else None
    return render(
        request,
        "my/home.html",
        _context(principal, home=home, language=home.language, flash=flash),
    )


@router.post("/my/devices/{device_id}/monitoring", response_class=HTMLResponse)
def my_monitoring(
    request: Request,
    device_id: str,
    session: SessionDep,
    principal: CustomerPage,
    on: Annotated[bool, Form()],
) -> Response:
    """Proactive monitoring on or off for one appliance (off: no detection, no alerts)."""
    consent.set_monitoring(
        session=session,
        customer_id=principal.subject,
        device_id=device_id,
        monitoring=on,
        actor=principal.actor,
        now=time.time(),
    )
    return RedirectResponse("/my?done=saved", SEE_OTHER)


@router.post("/my/channels", response_class=HTMLResponse)
def my_channels(
    request: Request,
    session: SessionDep,
    principal: CustomerPage,
    channels: Annotated[list[str] | None, Form()] = None,
) -> Response:
    consent.set_channels(
        session=session, customer_id=principal.subject, channels=channels or [], now=time.time()
    )
    return RedirectResponse("/my?done=saved", SEE_OTHER)


@router.get("/my/tickets/{ticket_id}", response_class=HTMLResponse)
def my_ticket(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    context: ContextDep,
    principal: CustomerPage,
    done: str | None = None,
) -> Response:
    return _ticket(request, session, context.fieldservice, principal, ticket_id, done=done)


@router.get("/rate/{ticket_id}")
def rate_link(ticket_id: int) -> Response:
    """The rating link of older follow-up messages: the ticket's page, at its rating form."""
    return RedirectResponse(f"/my/tickets/{ticket_id}#rate", SEE_OTHER)


@router.post("/my/tickets/{ticket_id}/reschedule", response_class=HTMLResponse)
def my_reschedule(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    context: ContextDep,
    principal: CustomerPage,
    window_start: Annotated[float, Form()],
) -> Response:
    ticket = _own_ticket(session, principal, ticket_id)

    def move() -> None:
        rescheduling.reschedule(
            session=session,
            ticket=ticket,
            window_start=window_start,
            actor=principal.actor,
            now=time.time(),
            config=context.fieldservice,
        )

    return _act(request, session, context.fieldservice, principal, ticket_id, move, "moved")


@router.post("/my/tickets/{ticket_id}/cancel", response_class=HTMLResponse)
def my_cancel(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    context: ContextDep,
    principal: CustomerPage,
) -> Response:
    _own_ticket(session, principal, ticket_id)

    def cancel() -> None:
        flows.change_status(
            session=session,
            ticket_id=ticket_id,
            status=TicketStatus.CANCELLED,
            actor=principal.actor,
            role=principal.role,
            note="cancelled by the customer",
            now=time.time(),
            config=context.fieldservice,
        )

    return _act(request, session, context.fieldservice, principal, ticket_id, cancel, "cancelled")


@router.post("/my/tickets/{ticket_id}/rating", response_class=HTMLResponse)
def my_rating(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    context: ContextDep,
    principal: CustomerPage,
    stars: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[str | None, Form(max_length=ratings.MAX_COMMENT_LEN)] = None,
) -> Response:
    ticket = _own_ticket(session, principal, ticket_id)

    def rate() -> None:
        ratings.rate(
            session=session,
            ticket=ticket,
            customer_id=principal.subject,
            stars=stars,
            comment=comment,
            actor=principal.actor,
            now=time.time(),
        )

    return _act(request, session, context.fieldservice, principal, ticket_id, rate, "rated")


def _own_ticket(session: Session, principal: Principal, ticket_id: int) -> Any:
    return scopes.ticket(
        session=session, role=principal.role, subject=principal.subject, ticket_id=ticket_id
    )


def _act(
    request: Request,
    session: Session,
    config: FieldServiceConfig,
    principal: Principal,
    ticket_id: int,
    action: Any,
    done: str,
) -> Response:
    try:
        with session.begin_nested():
            action()
    except FieldServiceError as exc:
        return _ticket(
            request, session, config, principal, ticket_id, error=str(exc), code=status_of(exc)
        )
    if request.headers.get("HX-Request"):
        return _ticket(request, session, config, principal, ticket_id, done=done, partial=True)
    return RedirectResponse(f"/my/tickets/{ticket_id}?done={done}", SEE_OTHER)


def _ticket(
    request: Request,
    session: Session,
    config: FieldServiceConfig,
    principal: Principal,
    ticket_id: int,
    *,
    done: str | None = None,
    error: str | None = None,
    code: int = 200,
    partial: bool = False,
) -> Response:
    ticket = _own_ticket(session, principal, ticket_id)
    view = customer_page.customer_ticket(
        session=session, ticket=ticket, now=time.time(), config=config
    )
    flash = _flash(view.language, done, view, view.utc_offset_min)
    return render(
        request,
        "my/_ticket.html" if partial else "my/ticket.html",
        _context(
            principal,
            view=view,
            language=view.language,
            offset=view.utc_offset_min,
            flash=flash,
            error=error,
        ),
        status_code=code,
    )


def _flash(
    language: str, done: str | None, view: customer_page.CustomerTicket, offset: int
) -> str | None:
    if done == "moved" and view.window_start is not None and view.window_end is not None:
        return text(
            language,
            "ticket.moved",
            date=local(view.window_start, offset, "%Y-%m-%d"),
            start=local(view.window_start, offset),
            end=local(view.window_end, offset),
        )
    if done == "cancelled":
        return text(language, "ticket.cancelled")
    if done == "rated" and view.rating is not None:
        return text(language, "ticket.thanks", stars=view.rating.stars)
    return None


def _context(principal: Principal, **values: Any) -> dict[str, Any]:
    return {"principal": principal, "csrf": principal.csrf, "now": time.time(), **values}
