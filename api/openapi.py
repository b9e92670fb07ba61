"""The OpenAPI document: FastAPI's, plus the errors every API operation really answers
(401 before anything else, 400/413 for a body, 422 in the API's own error body)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import ErrorOut

_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_WHY = {
    "400": "the body is not JSON",
    "401": "missing or wrong bearer token",
    "413": "the body is over the size limit",
    "422": "a parameter or a body field is invalid; `errors` lists each one",
}


def _error(status: str, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or _WHY[status],
        "content": {"application/json": {"schema": _ERROR_REF}},
    }


def document(app: FastAPI, *, prefix: str) -> dict[str, Any]:
    """The document for `app`, with the errors of operations under `prefix` filled in."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in error.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components["ErrorOut"] = error
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses["401"] = _error("401")
            if "422" in responses:
                responses["422"] = _error("422")
            if "requestBody" in operation:
                responses["400"] = _error("400")
                responses["413"] = _error("413")
                responses["422"] = _error("422")
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install(app: FastAPI, *, prefix: str) -> None:
    """Serve `document(app)` at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app, prefix=prefix)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
