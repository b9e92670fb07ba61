"""A broker outage: the service reports it, keeps running, reconnects and loses nothing."""

from __future__ import annotations

from pathlib import Path

from domain import Reading
from domain.wire import encode_reading
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


def batch(first: int, count: int, start: float) -> list[tuple[str, bytes]]:
    return [
        (
            "devices/fridge-0001/telemetry",
            encode_reading(
                Reading("fridge-0001", start + seq * 60.0, seq, {"cabinet_temp_c": 4.0})
            ),
        )
        for seq in range(first, first + count)
    ]


def test_service_survives_a_broker_restart_and_receives_what_was_queued(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    service = start_service(service_settings(mosquitto, tmp_path))
    start = SCENARIO_START
    try:
        with api(service) as client:
            provision_fridge(client, "fridge-0001")
            device = Device(mosquitto, "before-outage")
            device.publish_many(batch(1, 500, start))
            device.close()
            wait_until(lambda: service.telemetry.count() == 500, 20, "first 500 stored")

            mosquitto.stop()
            wait_until(lambda: client.get("/health").status_code == 503, 10, "health degraded")
            assert client.get("/health").json()["checks"]["broker"]["ok"] is False

            mosquitto.start()
            # Published while the service is still reconnecting: the broker queues them
            # in the service's persistent session.
            device = Device(mosquitto, "after-outage")
            device.publish_many(batch(501, 500, start))
            device.close()
            wait_until(lambda: service.telemetry.count() == 1000, 60, "all 1000 stored")
            wait_until(lambda: client.get("/health").status_code == 200, 10, "health ok again")
    finally:
        service.stop()
