"""The telemetry server going away mid-stream: readings wait in the spool, /health says so,
and once the server is back every reading is there exactly once, in order.

VictoriaMetrics stands in for InfluxDB (same `/api/v2/write`); it runs here WITHOUT
deduplication, so a reading written twice would show as two samples.
"""

from __future__ import annotations

from pathlib import Path

from faultline.victoria_metrics import VictoriaMetrics
from tests.clock import SCENARIO_START
from tests.mosquitto import Mosquitto
from tests.outage.fridges import failing_fridge, points_per_device, publish
from tests.outage.service_process import ServiceProcess
from tests.service_harness import Device, provision_fridge, wait_until

FRIDGES = ["fridge-0001", "fridge-0002"]


def influx_settings(server: VictoriaMetrics) -> dict[str, object]:
    return {
        "telemetry_url": server.url,
        "telemetry_org": "home",
        "telemetry_bucket": "telemetry",
        "telemetry_token": "test-token",
    }


def test_telemetry_server_down_mid_stream_then_back_every_reading_once(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    victoria = VictoriaMetrics(tmp_path / "victoria-metrics", dedup=False)
    victoria.start()
    service = ServiceProcess(tmp_path / "service", mosquitto, **influx_settings(victoria))
    device = Device(mosquitto)
    try:
        service.start()
        with service.api() as client:
            for fridge in FRIDGES:
                provision_fridge(client, fridge)
        start = SCENARIO_START
        streams = {fridge: failing_fridge(fridge, start) for fridge in FRIDGES}
        parts = [
            [r for fridge in FRIDGES for r in streams[fridge][first:last]]
            for first, last in ((0, 200), (200, 450), (450, 600))
        ]

        publish(device, parts[0])
        wait_until(
            lambda: sum(map(len, points_per_device(victoria).values())) == len(parts[0]),
            20,
            "the first part in the telemetry server",
        )

        # SIGTERM, not SIGKILL: VictoriaMetrics keeps the last seconds of accepted samples
        # in memory and would lose them (InfluxDB's WAL would not). From the service's side
        # it is the same outage: connections refused until it is back.
        victoria.stop()
        publish(device, parts[1])
        wait_until(
            lambda: service.stats()["telemetry_spool"]["readings"] == len(parts[1]),
            20,
            "the second part spooled",
        )
        status, health = service.health()
        assert status == 503 and not health["checks"]["telemetry"]["ok"]
        assert health["checks"]["telemetry_spool"]["ok"]  # waiting, not full
        assert f"{len(parts[1])} readings waiting" in health["checks"]["telemetry_spool"]["detail"]

        victoria.start()
        publish(device, parts[2])  # arrives while the spool replays: queued behind it
        wait_until(
            lambda: service.stats()["telemetry_spool"]["readings"] == 0, 30, "the spool drained"
        )
        expected = {fridge: [r.seq for r in streams[fridge]] for fridge in FRIDGES}
        wait_until(lambda: points_per_device(victoria) == expected, 20, "every reading, once")
        assert service.health()[0] == 200
        assert service.stats()["telemetry_spool"]["replayed"] >= len(parts[1])
    finally:
        device.close()
        service.discard()
        victoria.stop()
