"""The OpenAPI document says what the API does: its errors, its enums and its bounds."""

from __future__ import annotations

from typing import Any

import httpx

from domain.wire import RejectReason
from storage.models import TicketStatus

INT64_MAX = 2**63 - 1


def _document(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def _parameter(operation: dict[str, Any], name: str) -> dict[str, Any]:
    (parameter,) = [p for p in operation["parameters"] if p["name"] == name]
    schema: dict[str, Any] = parameter["schema"]
    return schema


def _enum(schema: dict[str, Any], document: dict[str, Any]) -> set[str]:
    """The enum values of a (maybe nullable, maybe referenced) parameter schema."""
    for option in schema.get("anyOf", [schema]):
        if "$ref" in option:
            option = document["components"]["schemas"][option["$ref"].rsplit("/", 1)[1]]
        if "enum" in option:
            return set(option["enum"])
    raise AssertionError(f"no enum in {schema}")


def test_every_operation_under_api_v1_documents_401_and_its_error_body(
    client: httpx.Client,
) -> None:
    document = _document(client)
    operations = [op for op in _operations(document) if op[0].startswith("/api/v1/")]
    assert len(operations) >= 17
    for path, method, operation in operations:
        responses = operation["responses"]
        assert "401" in responses, (method, path)
        assert responses["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }
        assert operation["security"] == [{"HTTPBearer": []}], (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses or "422" in responses, (method, path)


def test_filters_are_enums_of_the_real_values(client: httpx.Client) -> None:
    document = _document(client)
    paths = document["paths"]
    status = _parameter(paths["/api/v1/tickets"]["get"], "status")
    assert _enum(status, document) == {s.value for s in TicketStatus}
    reason = _parameter(paths["/api/v1/dead-letters"]["get"], "reason")
    assert _enum(reason, document) == {r.value for r in RejectReason}
    audience = _parameter(paths["/api/v1/alerts"]["get"], "audience")
    assert _enum(audience, document) == {"customer", "technician", "desk"}


def test_ticket_ids_are_bounded_to_what_the_database_holds(client: httpx.Client) -> None:
    paths = _document(client)["paths"]
    for path, method in (
        ("/api/v1/tickets/{ticket_id}", "get"),
        ("/api/v1/tickets/{ticket_id}/events", "post"),
    ):
        schema = _parameter(paths[path][method], "ticket_id")
        assert schema["type"] == "integer"
        assert schema["minimum"] == 1 and schema["maximum"] == INT64_MAX
    alerts = _parameter(paths["/api/v1/alerts"]["get"], "ticket_id")
    bounded = next(option for option in alerts["anyOf"] if option.get("type") == "integer")
    assert bounded["maximum"] == INT64_MAX


def test_the_documented_not_found_and_conflicts_are_the_ones_answered(
    client: httpx.Client,
) -> None:
    paths = _document(client)["paths"]
    assert "404" in paths["/api/v1/tickets/{ticket_id}"]["get"]["responses"]
    assert "404" in paths["/api/v1/devices/{device_id}/telemetry"]["get"]["responses"]
    assert "409" in paths["/api/v1/devices"]["post"]["responses"]
    assert "409" in paths["/api/v1/tickets/{ticket_id}/events"]["post"]["responses"]
    assert client.get("/api/v1/devices/nobody").status_code == 404


def test_the_newer_routes_document_the_refusals_they_answer(client: httpx.Client) -> None:
    paths = _document(client)["paths"]
    for path, method, statuses in (
        ("/api/v1/tokens", "post", {"403", "404"}),
        ("/api/v1/tokens/{token_id}", "delete", {"403", "404"}),
        ("/api/v1/tickets/{ticket_id}/evidence", "get", {"403", "404"}),
        ("/api/v1/tickets/{ticket_id}/report", "get", {"403", "404"}),
        ("/api/v1/tickets/{ticket_id}/report", "put", {"403", "404", "409"}),
        ("/api/v1/tickets/{ticket_id}/windows", "get", {"403", "404"}),
        ("/api/v1/tickets/{ticket_id}/reschedule", "post", {"403", "404", "409"}),
        ("/api/v1/tickets/{ticket_id}/rating", "post", {"403", "404", "409"}),
        ("/api/v1/customers/{customer_id}/consent", "put", {"403"}),
        ("/api/v1/cohorts", "get", {"403"}),
    ):
        assert statuses <= set(paths[path][method]["responses"]), (method, path)
    assert client.delete("/api/v1/tokens/999").status_code == 404
    assert client.get("/api/v1/tickets/999/evidence").status_code == 404
    assert client.post("/api/v1/tickets/999/rating", json={"stars": 5}).status_code == 404


def test_a_consent_key_that_is_not_a_device_id_is_refused_as_the_document_says(
    client: httpx.Client,
) -> None:
    paths = _document(client)["paths"]
    operation = paths["/api/v1/customers/{customer_id}/consent"]["put"]
    reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = _document(client)["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert "pattern" in body["properties"]["monitoring"]["propertyNames"]
    answer = client.put("/api/v1/customers/c-17/consent", json={"monitoring": {"a b": True}})
    assert answer.status_code == 422
