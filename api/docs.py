"""The API's interactive documentation (Swagger UI), served from Faultline's own files so it
works offline; FastAPI's default pages load it from a CDN and are blank without one."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

VENDOR = "/static/vendor/swagger-ui"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def docs_router(app: FastAPI) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
            oauth2_redirect_url=OAUTH2_REDIRECT,
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @router.get(OAUTH2_REDIRECT)
    def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    return router
