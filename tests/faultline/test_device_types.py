"""Every device type of DESIGN.md can be provisioned and has its telemetry stored."""

from __future__ import annotations

from pathlib import Path

from domain import Reading
from domain.devices import EXPECTED_METRICS, DeviceType
from domain.wire import encode_reading
from tests.clock import SCENARIO_START
from tests.mosquitto import Mosquitto
from tests.service_harness import Device, api, service_settings, start_service, wait_until


def test_all_four_types_are_provisioned_and_their_readings_stored(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    service = start_service(service_settings(mosquitto, tmp_path))
    device = Device(mosquitto)
    now = SCENARIO_START
    try:
        with api(service) as client:
            for kind in DeviceType:
                body = {
                    "device_id": f"{kind.value}-1",
                    "type": kind.value,
                    "model": "M-1",
                    "customer_id": "c-1",
                    "location": {"lat": 31.2, "lon": 121.5},
                    "customer_tier": "vip",
                    "install_date": "2024-05-01",
                }
                assert client.post("/api/v1/devices", json=body).status_code == 201
                metrics = {name: float(i) for i, name in enumerate(EXPECTED_METRICS[kind])}
                device.publish(
                    f"devices/{kind.value}-1/telemetry",
                    encode_reading(Reading(f"{kind.value}-1", now - 60, 1, metrics)),
                )
            wait_until(
                lambda: service.telemetry.count() == len(DeviceType), 10, "one reading per type"
            )

            listed = client.get("/api/v1/devices", params={"limit": 2}).json()
            assert len(listed["items"]) == 2 and listed["next"]
            rest = client.get("/api/v1/devices", params={"cursor": listed["next"]}).json()
            assert len(listed["items"]) + len(rest["items"]) == len(DeviceType)
            assert rest["next"] is None

            washer = client.get("/api/v1/devices/washer-1/telemetry", params={"metric": "drum_rpm"})
            assert washer.json()["items"] == [
                {"ts": now - 60, "seq": 1, "metrics": {"drum_rpm": 0.0}}
            ]
            assert client.get("/api/v1/devices/battery_pack-1").json()["customer_tier"] == "vip"
            assert client.post("/api/v1/devices", json=body).status_code == 409
            assert client.get("/api/v1/devices/nope").status_code == 404
            bad = client.post(
                "/api/v1/devices", json={**body, "device_id": "x-2", "type": "toaster"}
            )
            assert bad.status_code == 422
            assert (
                client.get("/api/v1/devices", headers={"Authorization": "Bearer wrong"}).status_code
                == 401
            )
    finally:
        device.close()
        service.stop()
