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
    missing = client.post(url, json={"status": "assigned", "actor": "desk-anna"})
    assert missing.status_code == 409 and "technician_id" in missing.json()["detail"]
    assigned = client.post(
        url, json={"status": "assigned", "actor": "desk-anna", "technician_id": "t-05"}
    )
    assert assigned.status_code == 200, assigned.text
    body = assigned.json()
    assert body["status"] == "assigned" and body["assignment"]["technician_id"] == "t-05"
    assert body["work_order"]["status"] == "scheduled" and body["work_order"]["window"]
    assert body["timeline"][-1]["actor"] == "desk-anna"
    for status in ("en_route", "on_site", "resolved"):
        assert client.post(url, json={"status": status, "actor": "t-05"}).status_code == 200
    refused = client.post(url, json={"status": "closed", "actor": "desk-anna"})
    assert refused.status_code == 409 and "note" in refused.json()["detail"]
    closed = client.post(
        url, json={"status": "closed", "actor": "desk-anna", "note": "customer confirmed"}
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert (
        client.post(
            "/api/v1/tickets/999/events", json={"status": "cancelled", "actor": "x"}
        ).status_code
        == 404
    )


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
