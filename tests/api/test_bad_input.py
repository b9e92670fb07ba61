"""Bad input over HTTP: every malformed request is a 4xx with a message, and the server stays up."""

from __future__ import annotations

import httpx
import pytest

from storage.models import TicketStatus
from tests.api.conftest import LiveApi

INT64_MAX = 2**63 - 1
LISTS = [
    "/api/v1/tickets",
    "/api/v1/anomalies",
    "/api/v1/alerts",
    "/api/v1/dead-letters",
    "/api/v1/devices",
    "/api/v1/technicians",
]
# Shapes no list ever issues: JSON of the old opaque format, punctuation, NUL, overlong.
WRONG_CURSORS = ["[1, 2]", "{}", "not a cursor!", "a\x00b", "WzEsMl0=", "-" * 300]
# ... and, for lists by row id, anything but a non-negative integer.
WRONG_ID_CURSORS = ["null", "WzEsMl0", "-1", "1.5", "0x10"]
BY_ID = {"/api/v1/tickets", "/api/v1/anomalies", "/api/v1/alerts", "/api/v1/dead-letters"}
TECHNICIAN = {
    "technician_id": "t-05",
    "name": "Wang Wei",
    "skills": ["fridge"],
    "base": {"lat": 31.2, "lon": 121.5},
    "radius_km": 25,
}
FRIDGE = {
    "device_id": "fridge-0001",
    "type": "fridge",
    "model": "FR-300",
    "customer_id": "c-17",
    "location": {"lat": 31.23, "lon": 121.47},
}


def _assert_clear_4xx(response: httpx.Response, *words: str) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail, response.text
    for word in words:
        assert word in detail, (word, detail)


def test_unknown_ticket_status_is_422_naming_the_real_states(client: httpx.Client) -> None:
    for status in ("open", "OPENED", "", "closed;drop"):
        response = client.get("/api/v1/tickets", params={"status": status})
        assert response.status_code == 422, (status, response.text)
        _assert_clear_4xx(response, "status", "'opened'", "'auto_resolved'")
    for status in TicketStatus:
        assert client.get("/api/v1/tickets", params={"status": status.value}).status_code == 200


@pytest.mark.parametrize("path", LISTS)
def test_a_cursor_of_the_wrong_shape_is_422_on_every_list(client: httpx.Client, path: str) -> None:
    for cursor in WRONG_CURSORS + (WRONG_ID_CURSORS if path in BY_ID else []):
        response = client.get(path, params={"cursor": cursor})
        assert response.status_code == 422, (path, cursor, response.text)
        _assert_clear_4xx(response, "cursor")
    assert client.get(path).status_code == 200


def test_a_cursor_of_the_wrong_shape_is_422_on_telemetry(client: httpx.Client) -> None:
    assert client.post("/api/v1/devices", json=FRIDGE).status_code == 201
    for cursor in [*WRONG_CURSORS, "12", "1.5", "1764040000.0_x", "nan_1", "1e9999_1", "1_2_3"]:
        response = client.get("/api/v1/devices/fridge-0001/telemetry", params={"cursor": cursor})
        assert response.status_code == 422, (cursor, response.text)
        _assert_clear_4xx(response, "cursor")


def test_an_id_cursor_beyond_64_bits_still_answers(client: httpx.Client) -> None:
    """Keyset bounds past what the database holds mean "from the newest": no overflow."""
    response = client.get("/api/v1/tickets", params={"cursor": "9" * 19})
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next": None}


def test_telemetry_bounds_that_are_not_instants_are_422(client: httpx.Client) -> None:
    assert client.post("/api/v1/devices", json=FRIDGE).status_code == 201
    url = "/api/v1/devices/fridge-0001/telemetry"
    for bad in ("nan", "inf", "yesterday", "2026-11-26T10:00:00", "1e400"):
        response = client.get(url, params={"start": bad})
        assert response.status_code == 422, (bad, response.text)
        _assert_clear_4xx(response, "start")
    for good in ("1764040000", "1764040000.5", "2026-11-26T10:00:00Z", "2026-11-26T18:00:00+08:00"):
        assert client.get(url, params={"end": good}).status_code == 200, good


def test_ticket_ids_beyond_what_the_database_holds_are_422(client: httpx.Client) -> None:
    for ticket_id in (INT64_MAX + 1, 2**64, -(2**63) - 1, 0):
        got = client.get(f"/api/v1/tickets/{ticket_id}")
        assert got.status_code == 422, (ticket_id, got.text)
        _assert_clear_4xx(got, "ticket_id")
        posted = client.post(
            f"/api/v1/tickets/{ticket_id}/events", json={"status": "cancelled", "actor": "desk"}
        )
        assert posted.status_code == 422, (ticket_id, posted.text)
        alerts = client.get("/api/v1/alerts", params={"ticket_id": ticket_id})
        assert alerts.status_code == 422, (ticket_id, alerts.text)
    missing = client.get(f"/api/v1/tickets/{INT64_MAX}")
    assert missing.status_code == 404
    _assert_clear_4xx(missing, "not found")


def test_nan_and_infinity_in_a_json_body_are_422(client: httpx.Client) -> None:
    headers = {"Content-Type": "application/json"}
    bodies = [
        (
            "/api/v1/technicians",
            '{"technician_id": "t-1", "name": "n", "skills": ["fridge"],'
            ' "base": {"lat": NaN, "lon": 1}, "radius_km": NaN}',
        ),
        ("/api/v1/technicians", '{"technician_id": NaN}'),
        (
            "/api/v1/devices",
            '{"device_id": "d-1", "type": "fridge", "model": "m",'
            ' "customer_id": "c", "location": {"lat": 1, "lon": Infinity}}',
        ),
        ("/api/v1/devices", '{"device_id": "d-1", "surprise": -Infinity}'),
    ]
    for path, body in bodies:
        response = client.post(path, content=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        _assert_clear_4xx(response)
    nan_location = client.post("/api/v1/devices", content=bodies[2][1], headers=headers)
    _assert_clear_4xx(nan_location, "finite")
    assert client.post("/api/v1/technicians", json=TECHNICIAN).status_code == 201


def test_a_body_that_is_not_json_is_a_clear_4xx(client: httpx.Client) -> None:
    headers = {"Content-Type": "application/json"}
    for body in (b"\xff\xfe not utf-8", b'{"device_id": ', b"[]", b"null"):
        response = client.post("/api/v1/devices", content=body, headers=headers)
        _assert_clear_4xx(response)


def test_the_service_keeps_answering_after_bad_input(
    client: httpx.Client, live_api: LiveApi
) -> None:
    client.get("/api/v1/tickets", params={"status": "open"})
    client.get(f"/api/v1/tickets/{2**70}")
    assert client.post("/api/v1/devices", json=FRIDGE).status_code == 201
    assert client.get("/api/v1/devices/fridge-0001").json()["device_id"] == "fridge-0001"
