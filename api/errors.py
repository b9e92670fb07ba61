"""API errors and the one place our exceptions become HTTP statuses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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


class NotFound(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class BadRequest(Exception):
    pass


def install_handlers(app: FastAPI) -> None:
    async def not_found(_r: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": f"{exc} not found"}, status_code=404)

    async def bad_request(_r: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    async def conflict(_r: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    async def unavailable(_r: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": f"storage unavailable: {exc}"}, status_code=503)

    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(BadRequest, bad_request)
    app.add_exception_handler(DuplicateError, conflict)
    app.add_exception_handler(TelemetryError, unavailable)
    app.add_exception_handler(StorageError, unavailable)

    async def unprocessable(_r: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    for missing in (
        TicketNotFoundError,
        UnknownTechnicianError,
        UnknownCustomerError,
        DeviceNotFoundError,
    ):
        app.add_exception_handler(missing, not_found)
    app.add_exception_handler(UnknownDeviceError, unprocessable)
    app.add_exception_handler(InvalidRequestError, unprocessable)

    async def forbidden(_r: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    app.add_exception_handler(ForbiddenError, forbidden)
    app.add_exception_handler(IllegalTransitionError, conflict)
    app.add_exception_handler(FieldServiceError, conflict)


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
