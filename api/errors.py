"""API errors and the one place our exceptions become HTTP statuses, all with one JSON body:
`{"detail": "<what is wrong and what to do>", "errors": [<one per field>] | null}`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

from api.identity import IdentityDisabled, IdentityUnavailable
from fieldservice.errors import (
    DeviceNotFoundError,
    FieldServiceError,
    ForbiddenError,
    IllegalTransitionError,
    InvalidRequestError,
    TicketNotFoundError,
    UnknownCustomerError,
    UnknownDeviceError,
    UnknownTechnicianError,
)
from storage.errors import DuplicateError, StorageError
from storage.telemetry import TelemetryError

UNAUTHENTICATED = "missing or wrong bearer token (Authorization: Bearer <FAULTLINE_ADMIN_TOKEN>)"


class FieldError(BaseModel):
    """One input that failed validation: where (`loc`), what is wrong (`msg`), and its kind."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(BaseModel):
    """The body of every error answer."""

    detail: str
    errors: list[FieldError] | None = None


class NotFound(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: these statuses answer with an `ErrorOut`."""
    return {status: {"model": ErrorOut} for status in statuses}


def error_response(
    status: int, detail: str, *, errors: list[FieldError] | None = None, **kwargs: Any
) -> JSONResponse:
    body = ErrorOut(detail=detail, errors=errors).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, **kwargs)


def _where(loc: Sequence[str | int]) -> str:
    """`("query", "cursor")` -> "query parameter cursor"; `("body", "a", 0)` -> "body field a.0"."""
    source, *rest = loc or ("request",)
    name = ".".join(str(part) for part in rest)
    if source == "body":
        return f"body field {name}" if name else "body"
    return f"{source} parameter {name}" if name else str(source)


def _shown(value: Any) -> str:
    """The offending input, short, and safe to put in JSON (NaN is not JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validation_response(exc: RequestValidationError) -> JSONResponse:
    errors = [
        FieldError(
            loc=[part if isinstance(part, int) else str(part) for part in error.get("loc", ())],
            msg=str(error.get("msg", "invalid")),
            type=str(error.get("type", "value_error")),
        )
        for error in exc.errors()
    ]
    parts = []
    for error, raw in zip(errors, exc.errors(), strict=True):
        given = "input" in raw and raw.get("type") != "missing"
        shown = f" (got {_shown(raw['input'])})" if given else ""
        parts.append(f"{_where(error.loc)}: {error.msg}{shown}")
    return error_response(422, "; ".join(parts) or "invalid request", errors=errors)


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


def install_handlers(app: FastAPI) -> None:
    def answer(status: int, template: str = "{exc}") -> Any:
        async def handler(_r: Request, exc: Exception) -> JSONResponse:
            return error_response(status, template.format(exc=exc))

        return handler

    async def invalid(_r: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_response(exc)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return error_response(exc.status_code, str(exc.detail), headers=headers)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(NotFound, answer(404, "{exc} not found"))
    app.add_exception_handler(DuplicateError, answer(409))
    app.add_exception_handler(TelemetryError, answer(503, "storage unavailable: {exc}"))
    app.add_exception_handler(IdentityUnavailable, answer(503, "broker unavailable: {exc}"))
    app.add_exception_handler(IdentityDisabled, answer(409))
    app.add_exception_handler(StorageError, answer(503, "storage unavailable: {exc}"))
    for missing in (
        TicketNotFoundError,
        UnknownTechnicianError,
        UnknownCustomerError,
        DeviceNotFoundError,
    ):
        app.add_exception_handler(missing, answer(404, "{exc} not found"))
    app.add_exception_handler(UnknownDeviceError, answer(422))
    app.add_exception_handler(InvalidRequestError, answer(422))
    app.add_exception_handler(ForbiddenError, answer(403))
    app.add_exception_handler(IllegalTransitionError, answer(409))
    app.add_exception_handler(FieldServiceError, answer(409))


def status_of(exc: FieldServiceError) -> int:
    """The HTTP status a field-service refusal stands for (pages render it themselves)."""
    if isinstance(exc, ForbiddenError):
        return 403
    if isinstance(
        exc,
        TicketNotFoundError | UnknownTechnicianError | UnknownCustomerError | DeviceNotFoundError,
    ):
        return 404
    if isinstance(exc, InvalidRequestError | UnknownDeviceError):
        return 422
    return 409
