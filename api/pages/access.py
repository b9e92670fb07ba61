"""Who may open a page: anyone not signed in goes to the sign-in page (and comes back after);
someone signed in at the wrong door is told whose page it is and where theirs is."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import IdentityDep, Principal, check_csrf
from api.pages.templating import render
from domain.people import Role
from fieldservice.credentials import home_of


class SignInRequired(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class WrongDoor(Exception):
    def __init__(self, principal: Principal, wanted: Role) -> None:
        super().__init__(f"{wanted} page")
        self.principal = principal
        self.wanted = wanted


async def page_principal(request: Request, identity: IdentityDep) -> Principal:
    if isinstance(identity, str):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    await check_csrf(request, identity)
    return identity


def _door(role: Role) -> object:
    def check(principal: Annotated[Principal, Depends(page_principal)]) -> Principal:
        if principal.role is not role:
            raise WrongDoor(principal, role)
        return principal

    return Depends(check)


OperatorPage = Annotated[Principal, _door(Role.OPERATOR)]
TechnicianPage = Annotated[Principal, _door(Role.TECHNICIAN)]
CustomerPage = Annotated[Principal, _door(Role.CUSTOMER)]


def install_page_handlers(app: FastAPI) -> None:
    async def sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        location = f"/signin?next={quote(exc.path, safe='/')}"
        if request.headers.get("HX-Request"):
            # A live panel whose session ended: take the whole page to the sign-in form.
            return Response(status_code=status.HTTP_200_OK, headers={"HX-Redirect": location})
        return RedirectResponse(location, status_code=status.HTTP_303_SEE_OTHER)

    async def wrong_door(request: Request, exc: Exception) -> HTMLResponse:
        assert isinstance(exc, WrongDoor)
        return render(
            request,
            "wrong_door.html",
            {
                "principal": exc.principal,
                "wanted": exc.wanted.value,
                "home": home_of(exc.principal.role),
                "csrf": exc.principal.csrf,
            },
            status_code=status.HTTP_403_FORBIDDEN,
        )

    app.add_exception_handler(SignInRequired, sign_in)
    app.add_exception_handler(WrongDoor, wrong_door)
