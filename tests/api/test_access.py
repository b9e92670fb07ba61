"""Roles and credentials on every API route: who gets 401, who gets 403, and that changes are
recorded as the authenticated person."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.app import create_app
from api.context import ApiContext
from fieldservice import audit
from storage import access_tokens
from storage.models import AuditEntryRow
from tests.doors import World, running_world
from tests.people import acting_as, issue_token


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with running_world(tmp_path) as world:
        yield world


def _api_routes(world: World) -> list[tuple[str, str]]:
    """Every (method, path) under /api/v1 in the OpenAPI document, with ids filled in."""
    context = ApiContext(
        sessions=world.sessions,
        telemetry=world.telemetry,
        admin_token="unused",
        health_checks=dict,
        ingest_stats=dict,
    )
    found = []
    for path, operations in create_app(context).openapi()["paths"].items():
        if path.startswith("/api/v1"):
            filled = re.sub(r"\{[^}]+\}", "1", path)
            found.extend((method.upper(), filled) for method in operations)
    return sorted(found)


def test_every_api_route_refuses_a_request_without_a_live_credential(world: World) -> None:
    routes = _api_routes(world)
    assert len(routes) >= 25, routes
    with httpx.Client(base_url=world.url, timeout=10) as anonymous:
        for method, path in routes:
            response = anonymous.request(method, path, json={})
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers.get("www-authenticate") == "Bearer"
        forged = {"Authorization": "Bearer not-a-token"}
        assert anonymous.get("/api/v1/tickets", headers=forged).status_code == 401


# Routes only the service desk may use, whoever else holds a valid credential.
DESK_ONLY = [
    ("POST", "/api/v1/devices"),
    ("GET", "/api/v1/ingest/stats"),
    ("GET", "/api/v1/dead-letters"),
    ("POST", "/api/v1/technicians"),
    ("GET", "/api/v1/technicians"),
    ("PUT", "/api/v1/customers/c-anna"),
    ("POST", "/api/v1/tokens"),
    ("GET", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/1"),
    ("DELETE", "/api/v1/tokens?role=technician&subject=t-wang"),
    ("GET", "/api/v1/cohorts"),
    ("GET", "/api/v1/anomalies"),
]


def test_technicians_and_customers_are_refused_the_desks_routes(world: World) -> None:
    with world.operator() as desk:
        people = [
            acting_as(desk, issue_token(desk, "technician", "t-wang")),
            acting_as(desk, issue_token(desk, "customer", "c-anna")),
        ]
    for person in people:
        with person:
            for method, path in DESK_ONLY:
                response = person.request(method, path, json={})
                assert response.status_code == 403, (method, path, response.text)


def test_a_customer_sees_only_their_own_devices_tickets_and_alerts(world: World) -> None:
    anna_ticket = world.open_ticket("fridge-anna")
    ben_ticket = world.open_ticket("fridge-ben")
    with world.operator() as desk:
        anna = acting_as(desk, issue_token(desk, "customer", "c-anna"))
    with anna:
        assert anna.get("/api/v1/devices/fridge-anna").status_code == 200
        denied = anna.get("/api/v1/devices/fridge-ben")
        assert denied.status_code == 403 and "not one of yours" in denied.json()["detail"]
        assert anna.get("/api/v1/devices/fridge-ben/telemetry").status_code == 403
        assert anna.get("/api/v1/devices/nothing-here").status_code == 404
        assert [d["device_id"] for d in anna.get("/api/v1/devices").json()["items"]] == [
            "fridge-anna"
        ]
        assert [t["id"] for t in anna.get("/api/v1/tickets").json()["items"]] == [anna_ticket]
        assert anna.get(f"/api/v1/tickets/{ben_ticket}").status_code == 403
        assert anna.get(f"/api/v1/tickets/{ben_ticket}/evidence").status_code == 403
        alerts = anna.get("/api/v1/alerts").json()["items"]
        assert alerts and {a["customer_id"] for a in alerts} == {"c-anna"}
        assert anna.get("/api/v1/alerts", params={"customer_id": "c-ben"}).status_code == 403
        assert anna.get("/api/v1/customers/c-ben").status_code == 403
        assert anna.get("/api/v1/customers/c-anna/consent").status_code == 200
        assert anna.put("/api/v1/customers/c-ben/consent", json={}).status_code == 403
        # Cancelling someone else's visit, or moving their ticket at all.
        assert (
            anna.post(f"/api/v1/tickets/{ben_ticket}/events", json={"status": "cancelled"})
        ).status_code == 403


def test_a_technician_reads_only_their_work_and_moves_only_their_tickets(world: World) -> None:
    anna_ticket = world.open_ticket("fridge-anna")  # dispatched to t-wang, next door
    ben_ticket = world.open_ticket("fridge-ben")  # to t-sato
    with world.operator() as desk:
        assert desk.get(f"/api/v1/tickets/{anna_ticket}").json()["technician_id"] == "t-wang"
        wang = acting_as(desk, issue_token(desk, "technician", "t-wang"))
    with wang:
        assert [t["id"] for t in wang.get("/api/v1/tickets").json()["items"]] == [anna_ticket]
        orders = wang.get("/api/v1/technicians/t-wang/work-orders").json()["items"]
        assert [o["ticket_id"] for o in orders] == [anna_ticket]
        assert wang.get("/api/v1/technicians/t-sato/work-orders").status_code == 403
        assert wang.get(f"/api/v1/tickets/{ben_ticket}").status_code == 403
        moved = wang.post(f"/api/v1/tickets/{ben_ticket}/events", json={"status": "en_route"})
        assert moved.status_code == 403
        assert wang.get("/api/v1/devices/fridge-anna").status_code == 200
        assert wang.get("/api/v1/devices/fridge-ben").status_code == 403
        # Their own job: as themselves, never as a declared name.
        spoof = wang.post(
            f"/api/v1/tickets/{anna_ticket}/events", json={"status": "en_route", "actor": "t-sato"}
        )
        assert spoof.status_code == 403
        ok = wang.post(f"/api/v1/tickets/{anna_ticket}/events", json={"status": "en_route"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["timeline"][-1]["actor"] == "t-wang"
        # A technician cannot skip to what only the desk or telemetry decides.
        closing = wang.post(f"/api/v1/tickets/{anna_ticket}/events", json={"status": "cancelled"})
        assert closing.status_code == 409
    with world.sessions() as session:
        assert audit.verify(session=session).ok


def test_the_audit_chain_records_the_authenticated_actor(world: World) -> None:
    ticket_id = world.open_ticket("fridge-anna")
    with world.operator() as desk:
        wang = acting_as(desk, issue_token(desk, "technician", "t-wang"))
        anna = acting_as(desk, issue_token(desk, "operator", "desk-anna"))
    with wang, anna:
        for status in ("en_route", "on_site"):
            assert (
                wang.post(f"/api/v1/tickets/{ticket_id}/events", json={"status": status})
            ).status_code == 200
        assert (
            anna.post(
                f"/api/v1/tickets/{ticket_id}/events",
                json={"status": "assigned", "note": "parts on order"},
            )
        ).status_code == 200
    with world.sessions() as session:
        assert audit.verify(session=session).ok
        bodies = session.scalars(
            select(AuditEntryRow.body)
            .where(AuditEntryRow.ticket_id == ticket_id)
            .order_by(AuditEntryRow.seq)
        ).all()
    actors = [re.search(r'"actor":"([^"]+)"', body).group(1) for body in bodies]  # type: ignore[union-attr]
    assert actors[-3:] == ["t-wang", "t-wang", "desk-anna"], actors


def test_tokens_expire_and_revoking_a_link_ends_its_browser_sessions(world: World) -> None:
    with world.operator() as desk:
        api_token = issue_token(desk, "customer", "c-anna")
        link = desk.post(
            "/api/v1/tokens",
            json={"role": "customer", "subject": "c-anna", "kind": "link", "next": "/my"},
        ).json()
        assert link["sign_in_url"].startswith(f"{world.url}/signin?token=")
        assert (
            desk.post(
                "/api/v1/tokens", json={"role": "technician", "subject": "t-nobody"}
            ).status_code
            == 404
        )
        with httpx.Client(base_url=world.url, timeout=10) as browser:
            signed_in = browser.get(link["sign_in_url"])
            assert signed_in.status_code == 303 and signed_in.headers["location"] == "/my"
            cookie = signed_in.cookies.get("faultline_session")
            assert cookie and "httponly" in signed_in.headers["set-cookie"].lower()
            assert browser.get("/my").status_code == 200
            # Revoking the link ends the session made from it.
            assert desk.delete(f"/api/v1/tokens/{link['id']}").json()["revoked"] == 2
            assert browser.get("/my").status_code == 303
            assert browser.get("/api/v1/devices").status_code == 401
        # An expired credential is refused: age one in the database.
        with acting_as(desk, api_token) as anna:
            assert anna.get("/api/v1/devices").status_code == 200
            with world.sessions.begin() as session:
                for row in access_tokens.list_page(session=session, subject="c-anna", kind="api"):
                    row.expires_at = time.time() - 1
            assert anna.get("/api/v1/devices").status_code == 401
        listed = desk.get("/api/v1/tokens", params={"subject": "c-anna"}).json()["items"]
        assert listed and all("token" not in item for item in listed)
        # Everything one person holds, revoked at once (a lost phone).
        with acting_as(desk, issue_token(desk, "technician", "t-wang")) as wang:
            assert wang.get("/api/v1/tickets").status_code == 200
            revoked = desk.delete(
                "/api/v1/tokens", params={"role": "technician", "subject": "t-wang"}
            )
            assert revoked.json()["revoked"] == 1
            assert wang.get("/api/v1/tickets").status_code == 401


def test_a_cookie_session_cannot_change_anything_without_its_csrf_value(world: World) -> None:
    ticket_id = world.open_ticket("fridge-anna")
    link = world.link(ticket_id=ticket_id, audience="technician", kind="work_order")
    with httpx.Client(base_url=world.url, timeout=10, follow_redirects=True) as browser:
        page = browser.get(link)
        assert page.status_code == 200 and f"/tech/jobs/{ticket_id}" in str(page.url)
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
        assert csrf
        forged = browser.post(f"/api/v1/tickets/{ticket_id}/events", json={"status": "en_route"})
        assert forged.status_code == 403 and "CSRF" in forged.json()["detail"]
        real = browser.post(
            f"/api/v1/tickets/{ticket_id}/events",
            json={"status": "en_route"},
            headers={"X-CSRF-Token": csrf.group(1)},
        )
        assert real.status_code == 200 and real.json()["timeline"][-1]["actor"] == "t-wang"
