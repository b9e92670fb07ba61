"""Stopping the service mid-stream loses nothing: the broker keeps the persistent session."""

from __future__ import annotations

import threading
from pathlib import Path

from domain import Reading
from domain.wire import encode_reading
from faultline.settings import Settings
from storage.embedded_telemetry import EmbeddedTelemetryStore
from tests.clock import SCENARIO_START
from tests.mosquitto import Mosquitto
from tests.service_harness import (
    Device,
    api,
    provision_fridge,
    service_settings,
    start_service,
    wait_until,
)

TOTAL = 6000


def message(seq: int, start: float) -> tuple[str, bytes]:
    reading = Reading(
        "fridge-0001", start + seq * 10.0, seq, {"cabinet_temp_c": 4.0, "power_w": 90.0}
    )
    return "devices/fridge-0001/telemetry", encode_reading(reading)


def test_restart_mid_stream_loses_nothing_and_stores_nothing_twice(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    settings = service_settings(mosquitto, tmp_path)
    service = start_service(settings)
    with api(service) as client:
        provision_fridge(client, "fridge-0001")
    start = SCENARIO_START
    device = Device(mosquitto)
    half_published = threading.Event()

    def publish_all() -> None:
        for first in range(1, TOTAL + 1, 200):
            device.publish_many(message(seq, start) for seq in range(first, first + 200))
            if first > TOTAL // 3:
                half_published.set()

    publisher = threading.Thread(target=publish_all)
    publisher.start()
    try:
        assert half_published.wait(30)
        wait_until(lambda: service.telemetry.count() > 0, 10, "some readings stored")
        service.stop()
        stored_before = _count(settings)
        publisher.join(60)
        assert not publisher.is_alive()
        assert stored_before < TOTAL, "the service stopped only after everything arrived"

        service = start_service(settings)
        wait_until(lambda: service.telemetry.count() >= TOTAL, 30, "every reading stored")
        with api(service) as client:
            seqs: list[int] = []
            cursor = None
            while True:
                params = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
                page = client.get("/api/v1/devices/fridge-0001/telemetry", params=params).json()
                seqs += [item["seq"] for item in page["items"]]
                cursor = page["next"]
                if cursor is None:
                    break
        assert seqs == list(range(1, TOTAL + 1))
    finally:
        device.close()
        service.stop()


def _count(settings: Settings) -> int:
    store = EmbeddedTelemetryStore(settings.telemetry_path)
    try:
        return store.count()
    finally:
        store.close()
