"""SIGKILL the service mid-stream and start it again: nothing lost, nothing doubled.

What makes it hold: the broker keeps every unacknowledged message in the persistent
session and redelivers it; ingest acknowledges a batch only once it is stored (in the
telemetry store or the fsynced spool); and writes are idempotent — the embedded store
keeps one row per (device, seq), InfluxDB one point per series and timestamp (the
VictoriaMetrics stand-in runs with deduplication, which is that rule).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from domain import Reading
from tests.clock import SCENARIO_START
from tests.mosquitto import Mosquitto
from tests.outage.fridges import points_per_device, publish
from tests.outage.service_process import ServiceProcess, has_reading_at, stored_seqs
from tests.outage.test_telemetry_outage import influx_settings
from tests.service_harness import Device, provision_fridge, wait_until

FRIDGES = ["fridge-0001", "fridge-0002"]
PER_FRIDGE = 2500


def _stream(start: float) -> list[Reading]:
    return [
        Reading(fridge, start + seq * 10.0, seq, {"cabinet_temp_c": 4.0 + seq % 7 / 10, "power_w": 90.0})
        for seq in range(1, PER_FRIDGE + 1)
        for fridge in FRIDGES
    ]  # fmt: skip


def _publish_steadily(
    device: Device, readings: list[Reading], halfway: threading.Event, done: threading.Event
) -> None:
    try:
        for first in range(0, len(readings), 200):
            publish(device, readings[first : first + 200])
            if first >= len(readings) // 3:
                halfway.set()
            time.sleep(0.1)  # a steady stream, so the kill lands mid-batch
    finally:
        done.set()


@pytest.mark.parametrize("backend", ["embedded", "influx"])
def test_sigkill_mid_batch_then_restart_loses_nothing_and_stores_nothing_twice(
    backend: str, mosquitto: Mosquitto, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    victoria = request.getfixturevalue("victoria_metrics") if backend == "influx" else None
    settings = influx_settings(victoria) if victoria is not None else {}
    service = ServiceProcess(tmp_path / "service", mosquitto, **settings)
    device = Device(mosquitto)
    halfway, done = threading.Event(), threading.Event()
    try:
        service.start()
        with service.api() as client:
            for fridge in FRIDGES:
                provision_fridge(client, fridge)
        readings = _stream(SCENARIO_START)
        publisher = threading.Thread(
            target=_publish_steadily, args=(device, readings, halfway, done)
        )
        publisher.start()
        assert halfway.wait(30)
        if victoria is not None:
            # The store goes away too, so the crash also hits a spool with readings in it.
            victoria.stop()
            wait_until(
                lambda: service.stats()["telemetry_spool"]["readings"] > 0, 20, "readings spooled"
            )
        stored_before = service.stats()["stored"]
        service.kill()
        assert 0 < stored_before < len(readings), "the kill must land mid-stream"
        publisher.join(60)

        service.start()
        expected = {fridge: list(range(1, PER_FRIDGE + 1)) for fridge in FRIDGES}
        if victoria is not None:
            victoria.start()
            wait_until(lambda: points_per_device(victoria) == expected, 40, "every reading, once")
        else:
            last_ts = readings[-1].ts
            wait_until(
                lambda: all(has_reading_at(service, f, last_ts) for f in FRIDGES),
                40,
                "the last readings stored",
            )
            wait_until(
                lambda: {f: stored_seqs(service, f) for f in FRIDGES} == expected,
                10,
                "every reading, once",
            )
    finally:
        done.wait(60)
        device.close()
        service.discard()
