"""Through the running service: a single cell reporting 3.3 V daily is a broken sensor
and an offline device by a battery pack's type profile; once its model is in the catalog
(range 2.5-4.3 V, a reading a day) it raises neither."""

from __future__ import annotations

from pathlib import Path

from domain import Reading
from domain.wire import encode_reading
from tests.clock import SCENARIO_START
from tests.mosquitto import Mosquitto
from tests.service_harness import Device, api, service_settings, start_service, wait_until

DAY = 86400.0
CELL = {
    "type": "battery_pack",
    "reporting_interval_s": DAY,
    "ranges": {"voltage_v": [2.5, 4.3]},
    "ratings": {"design_capacity_ah": 2.0},
}


def _day(device_id: str, day: int) -> Reading:
    metrics = {
        "voltage_v": 3.3,
        "current_a": -2.0 + 0.01 * (day % 7),
        "temp_c": 24.0 + 0.1 * (day % 5),
        "soc_pct": 100.0 - 0.5 * (day % 9),
        "cycle_count": float(day),
        "full_charge_capacity_mah": 2000.0 - 2.0 * day,
        "design_capacity_mah": 2000.0,
    }
    return Reading(device_id, SCENARIO_START + DAY * day, day + 1, metrics)


def test_a_cell_is_judged_on_its_models_catalog_entry(mosquitto: Mosquitto, tmp_path: Path) -> None:
    service = start_service(service_settings(mosquitto, tmp_path))
    device = Device(mosquitto, client_id="cells")
    try:
        with api(service) as client:
            for device_id, model in (("cell-0001", "CELL-18650"), ("pack-0001", "UNLISTED")):
                body = {
                    "device_id": device_id,
                    "type": "battery_pack",
                    "model": model,
                    "customer_id": "c-1",
                    "location": {"lat": 31.2, "lon": 121.5},
                }
                assert client.post("/api/v1/devices", json=body).status_code == 201
            assert client.put("/api/v1/device-models/CELL-18650", json=CELL).status_code == 200
            days = range(30)
            device.publish_many(
                (f"devices/{d}/telemetry", encode_reading(_day(d, day)))
                for day in days
                for d in ("cell-0001", "pack-0001")
            )
            wait_until(lambda: service.telemetry.count() == 2 * len(days), 30, "every reading")

            def codes(device_id: str) -> set[str]:
                items = client.get("/api/v1/tickets", params={"device_id": device_id}).json()
                return {t["fault_code"] for t in items["items"]}

            # The unlisted model is judged on the type's pack range: the control.
            wait_until(lambda: "SENSOR_OUT_OF_RANGE" in codes("pack-0001"), 30, "control")
            assert codes("cell-0001") == set()
    finally:
        device.close()
        service.stop()
