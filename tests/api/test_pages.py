"""The doors over plain HTTP: signing in, who lands where, pages in the customer's language,
the offline API docs, and the page forms' protection."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.app import STATIC_DIR
from fieldservice.notifications import outbox
from storage import consents
from tests.doors import TOKEN, World, running_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with running_world(tmp_path) as world:
        yield world


def _browser(world: World) -> httpx.Client:
    return httpx.Client(base_url=world.url, timeout=10)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{32})"', html)
    assert found, "the page carries no CSRF value"
    return found.group(1)


def test_api_docs_work_offline_from_faultlines_own_files(world: World) -> None:
    with _browser(world) as browser:
        page = browser.get("/docs")
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', page.text)
        assert sources, page.text
        assert all(s.startswith("/") for s in sources), sources  # nothing from a CDN
        for source in sources:
            asset = browser.get(source)
            assert asset.status_code == 200, source
        assert "openapi.json" in page.text
        schemes = browser.get("/openapi.json").json()["components"]["securitySchemes"]
        assert any(s.get("scheme") == "bearer" for s in schemes.values())
        assert browser.get("/redoc").status_code == 404  # not a blank CDN page


def test_vendored_assets_ship_with_their_licences() -> None:
    vendor = STATIC_DIR / "vendor"
    for folder, files in {
        "htmx": ["htmx.min.js", "LICENSE"],
        "uplot": ["uPlot.iife.min.js", "uPlot.min.css", "LICENSE"],
        "swagger-ui": ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"],
    }.items():
        for name in files:
            assert (vendor / folder / name).stat().st_size > 0, f"{folder}/{name}"
    for page in (STATIC_DIR.parent / "templates").rglob("*.html"):
        assert not re.search(r'(?:src|href)="https?://', page.read_text()), page


def test_a_stranger_is_sent_to_sign_in_and_comes_back_after(world: World) -> None:
    with _browser(world) as browser:
        for path in ("/", "/tech", "/my", "/console/fleet"):
            response = browser.get(path)
            assert response.status_code == 303
            assert response.headers["location"] == f"/signin?next={path}"
        bad = browser.get("/signin", params={"token": "not-a-link", "next": "/my"})
        assert bad.status_code == 401 and "expired or was revoked" in bad.text
        signed_in = browser.post("/signin", data={"token": TOKEN, "next": "/console/fleet"})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console/fleet"
        fleet = browser.get("/console/fleet")
        assert fleet.status_code == 200 and "fridge-anna" in fleet.text
        # A link's `next` never leaves the site.
        assert (
            browser.post("/signin", data={"token": TOKEN, "next": "//evil.test/"}).headers[
                "location"
            ]
            == "/"
        )


def test_each_person_lands_on_their_own_door_and_no_other(world: World) -> None:
    ticket_id = world.open_ticket("fridge-anna")
    work_order = world.link(ticket_id=ticket_id, audience="technician", kind="work_order")
    alert = world.link(ticket_id=ticket_id, audience="customer", kind="fault_alert")
    with _browser(world) as technician, _browser(world) as customer:
        landed = technician.get(work_order)
        assert landed.status_code == 303 and landed.headers["location"] == f"/tech/jobs/{ticket_id}"
        sheet = technician.get(f"/tech/jobs/{ticket_id}")
        assert sheet.status_code == 200
        assert (
            'href="tel:+8613900000001"' in sheet.text
            and 'href="geo:31.230000,121.470000' in sheet.text
        )
        wrong = technician.get("/my")
        assert wrong.status_code == 403 and "This page is for a customer" in wrong.text
        assert technician.get("/").status_code == 403
        landed = customer.get(alert)
        assert landed.headers["location"] == f"/my/tickets/{ticket_id}"
        assert customer.get("/tech").status_code == 403
        assert customer.get(f"/rate/{ticket_id}").headers["location"] == (
            f"/my/tickets/{ticket_id}#rate"
        )


def test_the_customer_page_speaks_the_customers_language(world: World) -> None:
    ticket_id = world.open_ticket("fridge-ben")  # c-ben reads Japanese
    alert = world.link(ticket_id=ticket_id, audience="customer", kind="fault_alert")
    with httpx.Client(base_url=world.url, timeout=10, follow_redirects=True) as customer:
        page = customer.get(alert)
        assert page.status_code == 200
        assert '<html lang="ja">' in page.text
        assert "見つかった問題" in page.text and "今していただきたいこと" in page.text
        assert "冷蔵庫の冷えが弱くなっています" in page.text  # the fault, in Japanese
        home = customer.get("/my")
        assert "お使いの家電" in home.text and "fridge-anna" not in home.text
    # Her messages are wholly Japanese too: never English sentences around Japanese names.
    with world.sessions() as session:
        sent = outbox.list_page(session=session, customer_id="c-ben")
    assert sent and all(m.language == "ja" and "冷蔵庫" in m.body for m in sent)
    assert not any("We noticed" in m.body or "technician" in m.body for m in sent)


def test_turning_monitoring_off_on_the_page_needs_the_pages_csrf_value(world: World) -> None:
    with world.operator() as desk:
        link = desk.post(
            "/api/v1/tokens",
            json={"role": "customer", "subject": "c-anna", "kind": "link", "next": "/my"},
        ).json()["sign_in_url"]
    with httpx.Client(base_url=world.url, timeout=10, follow_redirects=True) as customer:
        home = customer.get(link)
        csrf = _csrf(home.text)
        forged = customer.post("/my/devices/fridge-anna/monitoring", data={"on": "false"})
        assert forged.status_code == 403
        done = customer.post(
            "/my/devices/fridge-anna/monitoring", data={"on": "false", "csrf_token": csrf}
        )
        assert done.status_code == 200 and "Monitoring is off" in done.text
        refused = customer.post(
            "/my/devices/fridge-ben/monitoring", data={"on": "false", "csrf_token": csrf}
        )
        assert refused.status_code == 403
    with world.sessions() as session:
        assert consents.unmonitored_device_ids(session=session) == {"fridge-anna"}


def test_the_ingest_page_shows_health_checks_that_use_the_database(world: World) -> None:
    """The checks open their own connection: run inside the page's transaction they would wait
    for the lock that transaction holds (SQLite's busy timeout, 30 s) and stall ingest too."""
    with httpx.Client(base_url=world.url, timeout=10) as browser:
        browser.post("/signin", data={"token": TOKEN})
        page = browser.get("/console/ingest")
        assert page.status_code == 200
        assert "database: ok" in page.text and "No dead letters" in page.text
