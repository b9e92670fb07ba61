"""Through the running service: a 48 V pack whose voltage sensor is railed at 20 V reads
a value some battery pack could report, so by the type's range nothing is wrong; once its
model is in the catalog (36-58.8 V) the broken sensor is found."""

from __future__ import annotations

from pathlib import Path

from domain import Reading
from domain.wire import encode_reading
from tests.clock import SCENARIO_START
from tests.mosquitto import Mosquitto
from tests.service_harness import Device, api, service_settings, start_service, wait_until

PACK_48 = {"type": "battery_pack", "reporting_interval_s": 60, "ranges": {"voltage_v": [36, 58.8]}}


def _minute(device_id: str, minute: int) -> Reading:
    metrics = {
        "voltage_v": 20.0,
        "current_a": 1.0 + 0.1 * (minute % 7),
        "temp_c": 24.0 + 0.1 * (minute % 5),
        "soc_pct": 80.0 - 0.1 * (minute % 9),
    }
    return Reading(device_id, SCENARIO_START + 60.0 * minute, minute + 1, metrics)


def test_a_pack_is_judged_on_its_models_catalog_entry(mosquitto: Mosquitto, tmp_path: Path) -> None:
    service = start_service(service_settings(mosquitto, tmp_path))
    device = Device(mosquitto, client_id="packs")
    try:
        with api(service) as client:
            for device_id, model in (("pack-0001", "PACK-48"), ("pack-0002", "UNLISTED")):
                body = {
                    "device_id": device_id,
                    "type": "battery_pack",
                    "model": model,
                    "customer_id": "c-1",
                    "location": {"lat": 31.2, "lon": 121.5},
                }
                assert client.post("/api/v1/devices", json=body).status_code == 201
            assert client.put("/api/v1/device-models/PACK-48", json=PACK_48).status_code == 200
            minutes = range(60)
            device.publish_many(
                (f"devices/{d}/telemetry", encode_reading(_minute(d, minute)))
                for minute in minutes
                for d in ("pack-0001", "pack-0002")
            )
            wait_until(lambda: service.telemetry.count() == 2 * len(minutes), 30, "every reading")

            def codes(device_id: str) -> set[str]:
                items = client.get("/api/v1/tickets", params={"device_id": device_id}).json()
                return {t["fault_code"] for t in items["items"]}

            wait_until(lambda: "SENSOR_OUT_OF_RANGE" in codes("pack-0001"), 30, "the railed sensor")
            assert codes("pack-0002") == set()  # the same readings, judged on the type's range
    finally:
        device.close()
        service.stop()
