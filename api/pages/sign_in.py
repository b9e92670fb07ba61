"""Signing in: a link from a work order or an alert (or a pasted token) becomes a browser
session cookie, and the person lands on their page; signing out ends that session."""

from __future__ import annotations

import hmac
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import BOOTSTRAP_OPERATOR, SESSION_COOKIE, PrincipalDep
from api.deps import ContextDep, SessionDep
from api.pages.templating import render
from domain.people import Role
from fieldservice import credentials
from fieldservice.credentials import CredentialKind
from storage import access_tokens

router = APIRouter(include_in_schema=False)


@router.get("/signin", response_class=HTMLResponse)
def sign_in_page(
    request: Request,
    session: SessionDep,
    token: str | None = None,
    next: str | None = None,
) -> Response:
    """With `token` (a sign-in link), sign in and go on; without, the form."""
    if token is None:
        return render(request, "signin.html", {"next": next or "", "error": None})
    now = time.time()
    link = credentials.verify(session=session, secret=token, now=now, kinds=(CredentialKind.LINK,))
    if link is None:
        return render(
            request,
            "signin.html",
            {
                "next": next or "",
                "error": "This sign-in link has expired or was revoked. "
                "Ask the service desk for a new one, or paste a token below.",
            },
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    role = Role(link.role)
    secret, row = credentials.start_session(
        session=session, role=role, subject=link.subject, now=now, parent=link
    )
    return _signed_in(request, secret, row.expires_at, now, role, next)


@router.post("/signin", response_class=HTMLResponse)
def sign_in_with_token(
    request: Request,
    session: SessionDep,
    context: ContextDep,
    token: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The operator's bootstrap token, an API token or a link's token, pasted in."""
    now = time.time()
    secret: str
    token = token.strip()
    if token and hmac.compare_digest(token.encode(), context.admin_token.encode()):
        role = Role.OPERATOR
        secret, row = credentials.start_session(
            session=session, role=role, subject=BOOTSTRAP_OPERATOR, now=now
        )
        return _signed_in(request, secret, row.expires_at, now, role, next)
    found = credentials.verify(
        session=session, secret=token, now=now, kinds=(CredentialKind.LINK, CredentialKind.API)
    )
    if found is None:
        return render(
            request,
            "signin.html",
            {"next": next, "error": "That token is unknown, expired or revoked."},
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    role = Role(found.role)
    secret, row = credentials.start_session(
        session=session, role=role, subject=found.subject, now=now, parent=found
    )
    return _signed_in(request, secret, row.expires_at, now, role, next)


@router.post("/signout")
def sign_out(principal: PrincipalDep, session: SessionDep) -> Response:
    if principal.credential_id is not None:
        access_tokens.revoke(session=session, token_id=principal.credential_id, now=time.time())
    response = RedirectResponse("/signin", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _signed_in(
    request: Request,
    secret: str,
    expires_at: float | None,
    now: float,
    role: Role,
    next_path: str | None,
) -> Response:
    target = credentials.safe_next(next_path, credentials.home_of(role))
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    # The link's secret is in this URL: never pass it on as a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=None if expires_at is None else max(1, int(expires_at - now)),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response
