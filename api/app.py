"""The FastAPI application factory."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse

from api import openapi
from api.auth import ContextDep, authorization_is_valid, require_operator
from api.context import ApiContext
from api.errors import install_handlers
from api.request_gate import RequestGate
from api.routes import (
    alerts,
    anomalies,
    customers,
    devices,
    ingest,
    technicians,
    ticket_events,
    tickets,
)

API_PREFIX = "/api/"


def create_app(context: ApiContext) -> FastAPI:
    app = FastAPI(title="Faultline", version="0.1.0", summary="Proactive appliance care")
    app.state.context = context
    install_handlers(app)
    app.add_middleware(
        RequestGate,
        prefix=API_PREFIX,
        authenticated=lambda authorization: authorization_is_valid(context, authorization),
        max_body_bytes=context.max_body_bytes,
    )

    v1 = APIRouter(prefix="/api/v1", dependencies=[Depends(require_operator)])
    for module in (
        devices,
        anomalies,
        tickets,
        ingest,
        technicians,
        ticket_events,
        alerts,
        customers,
    ):
        v1.include_router(module.router)
    app.include_router(v1)

    @app.get(
        "/health",
        tags=["health"],
        responses={503: {"description": "a part is failing; `checks` says which and why"}},
    )
    def health(context: ContextDep) -> Any:
        checks = context.health_checks()
        ok = all(passed for passed, _ in checks.values())
        body = {
            "status": "ok" if ok else "degraded",
            "checks": {
                name: {"ok": passed, "detail": detail} for name, (passed, detail) in checks.items()
            },
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    openapi.install(app, prefix=API_PREFIX)
    return app
