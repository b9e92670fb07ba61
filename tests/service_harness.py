"""Starting the real service against a test broker, and publishing to it like a device."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from domain import Reading
from domain.wire import encode_reading
from faultline.service import Service
from faultline.settings import Settings
from faultline.sockets import free_port
from tests.mosquitto import Mosquitto

TOKEN = "test-operator-token"


def service_settings(broker: Mosquitto, workdir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "mqtt_url": broker.url,
        "database_url": f"sqlite:///{workdir / 'faultline.db'}",
        "telemetry_path": str(workdir / "telemetry.db"),
        "http_port": free_port(),
        "admin_token": TOKEN,
        "ingest_batch_age_s": 0.05,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def start_service(settings: Settings) -> Service:
    service = Service(settings)
    service.start()
    assert service.subscriber.wait_connected(10), "service did not connect to the test broker"
    return service


def api(service: Service) -> httpx.Client:
    return httpx.Client(
        base_url=service.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )


def provision_fridge(client: httpx.Client, device_id: str) -> None:
    body = {
        "device_id": device_id,
        "type": "fridge",
        "model": "FR-300",
        "customer_id": f"c-{device_id}",
        "location": {"lat": 31.23, "lon": 121.47},
    }
    response = client.post("/api/v1/devices", json=body)
    assert response.status_code == 201, response.text


def reading_message(device_id: str, seq: int, ts: float) -> tuple[str, bytes]:
    """A healthy fridge's reading on its telemetry topic."""
    metrics = {"cabinet_temp_c": 4.0, "compressor_on": 1.0, "door_open": 0.0, "power_w": 95.0}
    return f"devices/{device_id}/telemetry", encode_reading(Reading(device_id, ts, seq, metrics))


class Device:
    """A plain MQTT publisher standing in for appliances (QoS 1, waits for every PUBACK)."""

    def __init__(
        self,
        broker: Mosquitto,
        client_id: str = "test-device",
        *,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.max_inflight_messages_set(1000)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def publish_many(self, messages: Iterable[tuple[str, bytes]]) -> None:
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(30)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
