"""The FastAPI application factory: the JSON API under /api/v1, the three doors (console,
technician app, customer page), offline API docs and the vendored static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from api import openapi
from api.auth import GATED, SESSION_COOKIE, ContextDep, current_principal, resolve
from api.context import ApiContext
from api.docs import docs_router
from api.errors import install_handlers
from api.pages import console, customer, sign_in, tech
from api.pages.access import install_page_handlers
from api.request_gate import RequestGate
from api.routes import (
    alerts,
    anomalies,
    cohorts,
    consent,
    customers,
    device_models,
    devices,
    evidence,
    ingest,
    job_reports,
    technicians,
    ticket_events,
    tickets,
    tokens,
    visits,
)

API_PREFIX = "/api/"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(context: ApiContext) -> FastAPI:
    app = FastAPI(
        title="Faultline",
        version="0.1.0",
        summary="Proactive appliance care",
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = context
    install_handlers(app)
    install_page_handlers(app)
    app.add_middleware(
        RequestGate,
        prefix=API_PREFIX,
        resolve=lambda bearer, cookie: resolve(context, bearer, cookie),
        key=GATED,
        cookie_name=SESSION_COOKIE,
        max_body_bytes=context.max_body_bytes,
    )

    # Every API route needs a live credential; each route then checks what that person may
    # see (their own devices, tickets, work orders) or refuses with 403.
    v1 = APIRouter(prefix="/api/v1", dependencies=[Depends(current_principal)])
    for module in (
        devices,
        anomalies,
        tickets,
        ingest,
        technicians,
        ticket_events,
        alerts,
        customers,
        consent,
        tokens,
        evidence,
        visits,
        job_reports,
        cohorts,
        device_models,
    ):
        v1.include_router(module.router)
    app.include_router(v1)
    app.include_router(docs_router(app))
    for pages in (sign_in, console, tech, customer):
        app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

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
