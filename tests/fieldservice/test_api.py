"""The field-service HTTP surface: technicians, customers, ticket events, alerts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.context import ApiContext
from domain import Anomaly
from faultline.sockets import free_port
from fieldservice import flows
from fieldservice.config import FieldServiceConfig
from storage.embedded_telemetry import EmbeddedTelemetryStore
from tests.people import acting_as, issue_token

TOKEN = "t0ken"
TECH = {
    "technician_id": "t-05",
    "name": "Wang Wei",
    "skills": ["fridge", "washer"],
    "base": {"lat": 31.2, "lon": 121.5},
    "radius_km": 25,
}


@pytest.fixture
def client(session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[httpx.Client]:
    """The API app on a real uvicorn server (port of its own), and a client for it."""
    telemetry = EmbeddedTelemetryStore(tmp_path / "telemetry.db")
    context = ApiContext(
        sessions=session_factory,
        telemetry=telemetry,
        admin_token=TOKEN,
        health_checks=dict,
        ingest_stats=dict,
        fieldservice=FieldServiceConfig(),
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as http:
        yield http
    server.should_exit = True
    thread.join(10)
    telemetry.close()


def test_technicians_are_registered_listed_and_validated(client: httpx.Client) -> None:
    created = client.post("/api/v1/technicians", json=TECH)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["working_hours"] == {
        "start": "08:00",
        "end": "18:00",
        "weekdays": [0, 1, 2, 3, 4, 5],
        "utc_offset_minutes": 480,
    }
    assert body["daily_capacity"] == 6 and body["next_shift"]["day"]
    assert client.post("/api/v1/technicians", json=TECH).status_code == 409
    assert (
        client.post(
            "/api/v1/technicians", json={**TECH, "technician_id": "x", "skills": ["plumbing"]}
        ).status_code
        == 422
    )
    late = {**TECH, "technician_id": "x", "working_hours": {"start": "18:00", "end": "08:00"}}
    assert client.post("/api/v1/technicians", json=late).status_code == 422
    listed = client.get("/api/v1/technicians", params={"skill": "washer"}).json()
    assert [t["technician_id"] for t in listed["items"]] == ["t-05"] and listed["next"] is None
    assert client.get("/api/v1/technicians/nobody").status_code == 404
    assert client.get("/api/v1/technicians/nobody/work-orders").status_code == 404


def test_operator_assigns_by_hand_and_cannot_close_without_a_reason(
    client: httpx.Client, session_factory: sessionmaker[Session], anomaly: Callable[..., Anomaly]
) -> None:
    assert client.post("/api/v1/technicians", json=TECH).status_code == 201
    with session_factory.begin() as session:
        ticket, _ = flows.handle_anomaly(
            session=session, anomaly=anomaly(), now=time.time(), config=FieldServiceConfig()
        )
        ticket_id = ticket.id
    url = f"/api/v1/tickets/{ticket_id}/events"
    anna = acting_as(client, issue_token(client, "operator", "desk-anna"))
    wang = acting_as(client, issue_token(client, "technician", "t-05"))
    missing = anna.post(url, json={"status": "assigned"})
    assert missing.status_code == 409 and "technician_id" in missing.json()["detail"]
    assert wang.post(url, json={"status": "assigned", "technician_id": "t-05"}).status_code == 403
    assigned = anna.post(url, json={"status": "assigned", "technician_id": "t-05"})
    assert assigned.status_code == 200, assigned.text
    body = assigned.json()
    assert body["status"] == "assigned" and body["assignment"]["technician_id"] == "t-05"
    assert body["work_order"]["status"] == "scheduled" and body["work_order"]["window"]
    assert body["timeline"][-1]["actor"] == "desk-anna"
    # Nobody speaks for someone else: a declared actor must be the signed-in person.
    spoofed = anna.post(url, json={"status": "en_route", "actor": "t-05"})
    assert spoofed.status_code == 403 and "desk-anna" in spoofed.json()["detail"]
    for status in ("en_route", "on_site", "resolved"):
        assert wang.post(url, json={"status": status}).status_code == 200
    timeline = client.get(f"/api/v1/tickets/{ticket_id}").json()["timeline"]
    assert [e["actor"] for e in timeline[-3:]] == ["t-05", "t-05", "t-05"]
    refused = anna.post(url, json={"status": "closed"})
    assert refused.status_code == 409 and "note" in refused.json()["detail"]
    closed = anna.post(url, json={"status": "closed", "note": "customer confirmed"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["timeline"][-1]["actor"] == "desk-anna"
    assert (
        client.post("/api/v1/tickets/999/events", json={"status": "cancelled"}).status_code == 404
    )
    anna.close()
    wang.close()


def test_customers_and_their_alerts(
    client: httpx.Client, session_factory: sessionmaker[Session], anomaly: Callable[..., Anomaly]
) -> None:
    put = client.put(
        "/api/v1/customers/c-17",
        json={"email": "li@example.test", "language": "zh", "channels": ["email", "mqtt"]},
    )
    assert put.status_code == 200 and put.json()["language"] == "zh"
    assert client.get("/api/v1/customers/c-17").json()["channels"] == ["email", "mqtt"]
    assert client.get("/api/v1/customers/nobody").status_code == 404
    with session_factory.begin() as session:
        flows.handle_anomaly(
            session=session, anomaly=anomaly(), now=time.time(), config=FieldServiceConfig()
        )
    alerts = client.get("/api/v1/alerts", params={"customer_id": "c-17"}).json()["items"]
    assert {(a["kind"], a["channel"]) for a in alerts} == {
        ("fault_alert", "email"),
        ("fault_alert", "mqtt"),
    }
    mqtt = next(a for a in alerts if a["channel"] == "mqtt")
    assert mqtt["recipient"] == "devices/fridge-0001/commands"
    assert mqtt["subject"] == "您的冰箱需要检修" and mqtt["status"] == "pending"
    assert client.get("/api/v1/alerts", params={"customer_id": "c-other"}).json()["items"] == []
