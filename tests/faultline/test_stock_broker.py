"""Against Mosquitto as Debian ships it (queue 1000, 20 in flight): the simulator paces
itself to the service so nothing is lost, and loss that does happen is counted, warned
about with its likely cause, shown in health, and never taken for devices going offline."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from domain.wire import Channel
from faultline.cli import main as faultline
from faultline.simulate import fleet_run
from tests.clock import SCENARIO_START
from tests.mosquitto import Mosquitto
from tests.service_harness import (
    TOKEN,
    Device,
    api,
    provision_fridge,
    reading_message,
    service_settings,
    start_service,
    wait_until,
)


def test_sim_against_a_stock_broker_paces_itself_and_every_reading_is_stored(
    stock_mosquitto: Mosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = start_service(service_settings(stock_mosquitto, tmp_path))
    days = 0.5
    run = fleet_run("default", start=SCENARIO_START, days=days)
    telemetry = {(m.device_id, m.payload) for m in run.messages() if m.channel is Channel.TELEMETRY}
    try:
        monkeypatch.setenv("FAULTLINE_MQTT_URL", stock_mosquitto.url)
        monkeypatch.setenv("FAULTLINE_ADMIN_TOKEN", TOKEN)
        code = faultline(
            [
                "sim",
                "--fleet",
                "default",
                "--days",
                str(days),
                "--start",
                str(SCENARIO_START),
                "--api-url",
                service.base_url,
                "--ground-truth",
                str(tmp_path / "truth.jsonl"),
            ]
        )
        assert code == 0
        wait_until(
            lambda: (
                service.stats.snapshot()["inbox_depth"] == 0
                and service.telemetry.count() == len(telemetry)
            ),
            60,
            "every distinct reading the fleet published stored",
        )
        assert "Outgoing messages are being dropped" not in stock_mosquitto.log
        with api(service) as client:
            tickets = client.get("/api/v1/tickets", params={"limit": 500}).json()["items"]
        offline = {t["device_id"] for t in tickets if t["fault_code"] == "DEVICE_OFFLINE"}
        truth = {
            t.device_id for t in run.fleet.ground_truth if t.fault_code.value == "DEVICE_OFFLINE"
        }
        assert offline <= truth, (
            f"offline tickets for devices that never went offline: {offline - truth}"
        )
    finally:
        service.stop()


def test_readings_a_stock_broker_drops_are_counted_warned_about_and_never_mean_offline(
    stock_mosquitto: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = service_settings(stock_mosquitto, tmp_path)
    service = start_service(settings)
    fridges = [f"fridge-{n:04d}" for n in range(1, 21)]
    with api(service) as client:
        for fridge in fridges:
            provision_fridge(client, fridge)
    service.stop()  # the broker keeps our session: at most 1000 messages for it
    device = Device(stock_mosquitto)
    try:
        device.publish_many(
            reading_message(f, seq, SCENARIO_START + 60 * seq)
            for seq in range(1, 201)
            for f in fridges
        )
        caplog.set_level(logging.WARNING, logger="ingest.loss")
        service = start_service(settings)
        # Live again: the next readings show the gaps the broker left.
        device.publish_many(
            reading_message(f, seq, SCENARIO_START + 60 * seq)
            for seq in range(201, 206)
            for f in fridges
        )
        sent = len(fridges) * 205

        def accounted() -> bool:
            stats = service.stats.snapshot()
            return (
                stats["accepted"] + stats["missing_readings"] == sent
                and stats["inbox_depth"] == 0
                # accepted at validation; stored once the pipeline is done with the batch
                and stats["stored"] == stats["accepted"]
            )

        wait_until(accounted, 60, "every reading stored or counted as lost")
        stats = service.stats.snapshot()
        assert stats["missing_readings"] >= 2000, "the stock broker's queue holds 1000 at most"
        assert service.telemetry.count() == stats["accepted"]
        assert "max_queued_messages" in caplog.text
        with api(service) as client:
            health = client.get("/health")
            assert health.status_code == 503
            loss = health.json()["checks"]["loss"]
            assert loss["ok"] is False and "max_queued_messages" in loss["detail"]
            tickets = client.get("/api/v1/tickets").json()["items"]
        assert [t for t in tickets if t["fault_code"] == "DEVICE_OFFLINE"] == []
    finally:
        device.close()
        service.stop()
