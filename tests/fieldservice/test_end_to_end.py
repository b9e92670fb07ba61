"""The whole field-service loop on real parts: a simulated fridge fails → ticket → the right
technician → work order and customer alerts through a real SMTP server and a signed webhook →
technician events over the API → telemetry-verified closure → satisfaction follow-up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from device_sim.faults import FaultSpec
from device_sim.fleet import build_fridge_fleet
from device_sim.provision import provision
from device_sim.publisher import publish
from device_sim.scenario import readings
from domain import FaultCode, Reading
from domain.wire import encode_reading
from faultline import cli
from tests.clock import SCENARIO_START
from tests.fieldservice.receivers import SmtpReceiver, WebhookReceiver
from tests.mosquitto import Mosquitto
from tests.people import acting_as, issue_token
from tests.service_harness import (
    TOKEN,
    Device,
    api,
    service_settings,
    start_service,
    wait_until,
)

SECRET = "webhook-signing-secret"
DAY = 86400.0
FAULTY = "fridge-0001"
ALL_DAY = {"start": "00:00", "end": "24:00", "weekdays": [0, 1, 2, 3, 4, 5, 6]}


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(SECRET)
    receiver.start()
    yield receiver
    receiver.stop()


def _technician(client: httpx.Client, technician_id: str, **fields: Any) -> None:
    body = {
        "technician_id": technician_id,
        "name": f"Tech {technician_id}",
        "skills": ["fridge"],
        "base": {"lat": 31.23, "lon": 121.47},
        "radius_km": 40,
        "working_hours": ALL_DAY,
        "contact": {"email": f"{technician_id}@faultline.test"},
        **fields,
    }
    response = client.post("/api/v1/technicians", json=body)
    assert response.status_code == 201, response.text


def _event(client: httpx.Client, ticket_id: int, status: str, technician: str) -> httpx.Response:
    """`technician` reports `status`, signed in with a token of their own."""
    with acting_as(client, issue_token(client, "technician", technician)) as them:
        return them.post(
            f"/api/v1/tickets/{ticket_id}/events",
            json={"status": status, "note": f"{technician}: {status}"},
        )


def test_simulated_fault_is_dispatched_repaired_verified_closed_and_followed_up(
    mosquitto: Mosquitto,
    tmp_path: Path,
    smtp: SmtpReceiver,
    webhook: WebhookReceiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    start = SCENARIO_START
    fleet = build_fridge_fleet(
        count=3,
        seed=11,
        start_ts=start,
        faults={FAULTY: FaultSpec(FaultCode.FRIDGE_COMPRESSOR_FAILURE, start + 3 * 3600)},
    )
    customer_id = fleet.device(FAULTY).customer_id
    settings = service_settings(
        mosquitto,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        webhook_url=webhook.url,
        webhook_secret=SECRET,
        desk_email="desk@faultline.test",
        closure_quiet_s=1800.0,
        follow_up_delay_s=1.0,
        fieldservice_interval_s=0.2,
        notify_interval_s=0.05,
    )
    service = start_service(settings)
    device = Device(mosquitto, client_id="after-repair")
    try:
        provision(fleet.devices, base_url=service.base_url, token=TOKEN)
        with api(service) as client:
            response = client.put(
                f"/api/v1/customers/{customer_id}",
                json={
                    "name": "Li Na",
                    "email": "li.na@example.test",
                    "channels": ["email", "webhook"],
                    "access_notes": "ring twice",
                    "preferred_windows": [{"start": "14:00", "end": "18:00"}],
                },
            )
            assert response.status_code == 200, response.text
            _technician(client, "t-wash", skills=["washer"])  # wrong skill, right place
            _technician(client, "t-far", base={"lat": 32.10, "lon": 121.47}, radius_km=25)
            _technician(client, "t-05", name="Wang Wei")

            stats = publish(
                readings(fleet, start_ts=start, duration_s=DAY),
                host="127.0.0.1",
                port=mosquitto.port,
            )
            assert stats.acknowledged == 3 * 1440

            def assigned() -> dict[str, Any] | None:
                items = client.get("/api/v1/tickets", params={"device_id": FAULTY}).json()["items"]
                return items[0] if items and items[0]["status"] == "assigned" else None

            wait_until(lambda: assigned() is not None, 30, "the ticket to be dispatched")
            ticket = assigned()
            assert ticket is not None
            assert ticket["fault_code"] == "FRIDGE_COMPRESSOR_FAILURE"
            assert ticket["technician_id"] == "t-05"  # not t-wash (skill), not t-far (radius)
            assert ticket["assignment"]["name"] == "Wang Wei"
            assert ticket["sla"]["responded_at"] is not None
            assert ticket["work_order"]["content"]["site"]["access_notes"] == "ring twice"
            ticket_id = ticket["id"]

            orders = client.get("/api/v1/technicians/t-05/work-orders").json()["items"]
            assert [o["ticket_id"] for o in orders] == [ticket_id]
            assert orders[0]["content"]["chart"]["svg"].startswith("<svg")
            assert client.get("/api/v1/technicians/t-wash/work-orders").json()["items"] == []

            wait_until(lambda: smtp.to("t-05@faultline.test"), 20, "the work order e-mail")
            [work_order_mail] = smtp.to("t-05@faultline.test")
            assert f"#{ticket_id}" in work_order_mail.subject
            assert work_order_mail.html is not None and "<svg" in work_order_mail.html
            wait_until(lambda: len(smtp.to("li.na@example.test")) >= 2, 20, "customer alert mails")
            alert_mail = smtp.to("li.na@example.test")[0]
            assert "Keep the door closed" in alert_mail.text or "door" in alert_mail.text

            # The lifecycle refuses skipping ahead and strangers, with a reason.
            refused = _event(client, ticket_id, "resolved", "t-05")
            assert refused.status_code == 409 and "assigned" in refused.json()["detail"]
            assert _event(client, ticket_id, "en_route", "t-wash").status_code == 403
            assert _event(client, ticket_id, "bogus", "t-05").status_code == 422
            for status in ("en_route", "on_site", "resolved"):
                response = _event(client, ticket_id, status, "t-05")
                assert response.status_code == 200, response.text
                assert response.json()["status"] == status
            assert response.json()["sla"]["resolved_at"] is not None

            # The repaired fridge keeps reporting normal readings, live, once it is watched.
            wait_until(lambda: service.fieldservice.watch.watching(FAULTY), 20, "closure watch")
            healthy = build_fridge_fleet(count=3, seed=11, start_ts=start + DAY)
            after = [
                r
                for r in readings(healthy, start_ts=start + DAY, duration_s=3600)
                if r.device_id == FAULTY
            ]
            sent = 0

            def closed() -> bool:
                nonlocal sent
                if sent < len(after):
                    chunk = after[sent : sent + 10]
                    device.publish_many(
                        (
                            f"devices/{FAULTY}/telemetry",
                            encode_reading(Reading(FAULTY, r.ts, r.seq + 1440, dict(r.metrics))),
                        )
                        for r in chunk
                    )
                    sent += len(chunk)
                return client.get(f"/api/v1/tickets/{ticket_id}").json()["status"] == "closed"

            wait_until(closed, 30, "telemetry-verified closure")
            final = client.get(f"/api/v1/tickets/{ticket_id}").json()
            kinds = [event["kind"] for event in final["timeline"]]
            assert kinds[0] == "opened" and "assigned" in kinds and kinds[-1] == "closed"
            assert all(event["actor"] for event in final["timeline"])

            def followed_up() -> bool:
                alerts = client.get("/api/v1/alerts", params={"customer_id": customer_id}).json()
                sent = {(a["kind"], a["channel"]) for a in alerts["items"] if a["status"] == "sent"}
                return {("follow_up", "email"), ("follow_up", "webhook")} <= sent

            wait_until(followed_up, 20, "the satisfaction follow-up by e-mail and webhook")
            alerts = client.get("/api/v1/alerts", params={"customer_id": customer_id}).json()[
                "items"
            ]
            kinds_sent = {(a["kind"], a["channel"]) for a in alerts if a["status"] == "sent"}
            for kind in (
                "fault_alert",
                "visit_booked",
                "en_route",
                "resolved",
                "closed",
                "follow_up",
            ):
                assert (kind, "email") in kinds_sent and (kind, "webhook") in kinds_sent, kind

        subjects = [mail.subject for mail in smtp.to("li.na@example.test")]
        assert "How did we do?" in subjects
        assert webhook.rejected == 0
        hooks = webhook.kinds()
        assert "work_order" in hooks and "follow_up" in hooks and "fault_alert" in hooks
    finally:
        device.close()
        service.stop()
    assert cli.main(["audit", "verify", "--database-url", settings.database_url]) == 0
    assert "audit chain intact" in capsys.readouterr().out


def test_a_dead_fridge_claimed_repaired_is_reopened_not_closed(
    mosquitto: Mosquitto, tmp_path: Path, smtp: SmtpReceiver
) -> None:
    """The technician posts `resolved`, the compressor never runs again: the ticket must
    not close as repaired; it reopens and the desk hears why."""
    start = SCENARIO_START
    fleet = build_fridge_fleet(
        count=2,
        seed=11,
        start_ts=start,
        faults={FAULTY: FaultSpec(FaultCode.FRIDGE_COMPRESSOR_FAILURE, start + 3 * 3600)},
    )
    settings = service_settings(
        mosquitto,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        desk_email="desk@faultline.test",
        closure_quiet_s=1800.0,
        closure_verify_s=3 * 3600.0,
        fieldservice_interval_s=0.2,
        notify_interval_s=0.05,
    )
    service = start_service(settings)
    device = Device(mosquitto, client_id="still-dead")
    try:
        provision(fleet.devices, base_url=service.base_url, token=TOKEN)
        with api(service) as client:
            _technician(client, "t-05", name="Wang Wei")
            customer_id = fleet.device(FAULTY).customer_id
            contact = {"name": "Li Na", "email": "li.na@example.test"}
            assert client.put(f"/api/v1/customers/{customer_id}", json=contact).status_code == 200
            publish(
                readings(fleet, start_ts=start, duration_s=DAY / 2),
                host="127.0.0.1",
                port=mosquitto.port,
            )

            def ticket() -> dict[str, Any] | None:
                items = client.get("/api/v1/tickets", params={"device_id": FAULTY}).json()["items"]
                return items[0] if items else None

            wait_until(lambda: (ticket() or {}).get("status") == "assigned", 30, "dispatch")
            found = ticket()
            assert found is not None and found["fault_code"] == "FRIDGE_COMPRESSOR_FAILURE"
            for status in ("en_route", "on_site", "resolved"):
                assert _event(client, found["id"], status, "t-05").status_code == 200
            wait_until(lambda: service.fieldservice.watch.watching(FAULTY), 20, "closure watch")
            # The same dead fridge carries on: the compressor never starts again.
            after = [
                r
                for r in readings(fleet, start_ts=start + DAY / 2, duration_s=4 * 3600)
                if r.device_id == FAULTY
            ]
            sent = 0

            def reopened() -> bool:
                nonlocal sent
                if sent < len(after):
                    chunk = after[sent : sent + 20]
                    device.publish_many(
                        (f"devices/{FAULTY}/telemetry", encode_reading(r)) for r in chunk
                    )
                    sent += len(chunk)
                events = client.get(f"/api/v1/tickets/{found['id']}").json()["timeline"]
                return any(event["kind"] == "reopened" for event in events)

            wait_until(reopened, 60, "the failed repair to reopen the ticket")
            final = client.get(f"/api/v1/tickets/{found['id']}").json()
            kinds = [event["kind"] for event in final["timeline"]]
            assert "closed" not in kinds
            wait_until(lambda: smtp.to("desk@faultline.test"), 20, "the desk notice")
            [desk] = [m for m in smtp.to("desk@faultline.test") if "did not hold" in m.subject]
            assert "has not cleared" in desk.text and "Compressor" in desk.text
            alerts = client.get("/api/v1/alerts", params={"customer_id": customer_id}).json()
            told = {alert["kind"] for alert in alerts["items"]}
            assert "reopened" in told and "closed" not in told
    finally:
        device.close()
        service.stop()
