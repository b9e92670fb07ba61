"""Device identity on a real Mosquitto with dynamic security: a device speaks only for
itself and hears only its own commands; a revoked device is cut off; the service reads
every device; MQTT over TLS with certificates made for the test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from faultline.service import Service
from tests.clock import SCENARIO_START
from tests.mosquitto import ADMIN_PASSWORD, Mosquitto
from tests.service_harness import api, reading_message, service_settings, start_service, wait_until
from tests.tls_certs import make_certificates

SERVICE_SECRET = "service-secret"


class Appliance:
    """A device with its own broker login, as a real one connects."""

    def __init__(
        self, broker: Mosquitto, device_id: str, password: str, *, port: int | None = None
    ) -> None:
        self.device_id = device_id
        self.refused: str | None = None
        self.connected = threading.Event()
        self.gone = threading.Event()
        self.commands: list[bytes] = []
        self.granted: list[int] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=device_id)
        self.client.username_pw_set(device_id, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.gone.set()
        self.client.on_message = lambda _c, _u, m: self.commands.append(m.payload)
        self.client.on_subscribe = self._on_subscribe
        self.client.connect("127.0.0.1", port or broker.port)
        self.client.loop_start()
        assert self.connected.wait(10)

    def _on_connect(self, _c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            self.refused = str(reason)
        self.connected.set()

    def _on_subscribe(self, _c: object, _u: object, _mid: object, codes: list, _p: object) -> None:
        self.granted = [code.value for code in codes]
        self.subscribed.set()

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def may_subscribe(self, topic: str) -> bool:
        """Whether the broker grants the subscription: Mosquitto answers a refused one
        with a failure code or by closing the connection."""
        self.subscribed.clear()
        self.gone.clear()
        self.client.subscribe(topic, qos=1)
        wait_until(lambda: self.subscribed.is_set() or self.gone.is_set(), 10, "an answer")
        return self.subscribed.is_set() and all(code < 0x80 for code in self.granted)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "broker", dynsec=True)
    broker.start()
    yield broker
    broker.stop()


def start(broker: Mosquitto, tmp_path: Path) -> Service:
    return start_service(
        service_settings(
            broker,
            tmp_path,
            mqtt_url=broker.url_as("faultline", SERVICE_SECRET),
            mqtt_admin_url=broker.url_as("admin", ADMIN_PASSWORD),
        )
    )


def provision(client: httpx.Client, device_id: str) -> dict[str, str]:
    body = {
        "device_id": device_id,
        "type": "fridge",
        "model": "FR-300",
        "customer_id": f"c-{device_id}",
        "location": {"lat": 31.23, "lon": 121.47},
    }
    response = client.post("/api/v1/devices", json=body)
    assert response.status_code == 201, response.text
    mqtt_login: dict[str, str] = response.json()["mqtt"]
    assert mqtt_login["username"] == device_id and len(mqtt_login["password"]) >= 24
    return mqtt_login


def test_a_device_speaks_only_for_itself_and_hears_only_its_own_commands(
    secured: Mosquitto, tmp_path: Path
) -> None:
    service = start(secured, tmp_path)
    try:
        with api(service) as client:
            login_a = provision(client, "fridge-a")
            login_b = provision(client, "fridge-b")
            assert "mqtt" not in client.get("/api/v1/devices/fridge-a").json() or (
                client.get("/api/v1/devices/fridge-a").json()["mqtt"] is None
            ), "the secret is shown once, at provisioning"
        a = Appliance(secured, "fridge-a", login_a["password"])
        b = Appliance(secured, "fridge-b", login_b["password"])
        try:
            # A publishes its own reading, then tries to speak for B (Mosquitto drops the
            # message, and may close A's connection for it).
            a.publish(*reading_message("fridge-a", 1, SCENARIO_START))
            wait_until(lambda: service.telemetry.count() == 1, 20, "A's own reading")
            a.publish(*reading_message("fridge-b", 1, SCENARIO_START))
            b.publish(*reading_message("fridge-b", 7, SCENARIO_START + 60))
            wait_until(lambda: service.telemetry.count("fridge-b") == 1, 20, "B's reading")
            assert [r.seq for r in service.telemetry.query(device_id="fridge-b")] == [7]
            # A (on fresh connections) may not listen to B's commands nor to everyone's;
            # B hears its own.
            for topic in ("devices/fridge-b/commands", "devices/+/commands"):
                listener = Appliance(secured, "fridge-a", login_a["password"])
                try:
                    assert not listener.may_subscribe(topic), topic
                finally:
                    listener.close()
            assert b.may_subscribe("devices/fridge-b/commands")
            operator = Appliance(secured, "faultline", SERVICE_SECRET)
            try:
                operator.publish("devices/fridge-b/commands", b'{"command": "diagnostic_snapshot"}')
            finally:
                operator.close()
            wait_until(lambda: b.commands != [], 10, "B to receive its command")
            assert a.commands == []
        finally:
            a.close()
            b.close()
    finally:
        service.stop()


def test_a_revoked_device_is_cut_off_and_a_rotated_secret_replaces_the_old_one(
    secured: Mosquitto, tmp_path: Path
) -> None:
    service = start(secured, tmp_path)
    try:
        with api(service) as client:
            login_a = provision(client, "fridge-a")
            login_b = provision(client, "fridge-b")
            a = Appliance(secured, "fridge-a", login_a["password"])
            try:
                assert client.delete("/api/v1/devices/fridge-a/credentials").status_code == 204
                assert a.gone.wait(10), "the revoked device was not disconnected"
            finally:
                a.close()
            again = Appliance(secured, "fridge-a", login_a["password"])
            assert again.refused is not None
            again.close()
            rotated = client.post("/api/v1/devices/fridge-b/credentials")
            assert rotated.status_code == 200
            old = Appliance(secured, "fridge-b", login_b["password"])
            assert old.refused is not None
            old.close()
            new = Appliance(secured, "fridge-b", rotated.json()["password"])
            try:
                assert new.refused is None
                new.publish(*reading_message("fridge-b", 1, SCENARIO_START))
                wait_until(lambda: service.telemetry.count("fridge-b") == 1, 20, "B's reading")
            finally:
                new.close()
            unknown = client.post("/api/v1/devices/nobody/credentials")
            assert unknown.status_code == 404
    finally:
        service.stop()


def test_the_service_and_devices_speak_mqtt_over_tls(tmp_path: Path) -> None:
    ca, cert, key = make_certificates(tmp_path / "certs")
    broker = Mosquitto(tmp_path / "broker", dynsec=True, tls=(ca, cert, key))
    broker.start()
    try:
        service = start_service(
            service_settings(
                broker,
                tmp_path,
                mqtt_url=broker.url_as("faultline", SERVICE_SECRET, tls=True),
                mqtt_admin_url=broker.url_as("admin", ADMIN_PASSWORD, tls=True),
                mqtt_ca_file=str(ca),
            )
        )
        try:
            with api(service) as client:
                login = provision(client, "fridge-a")
            device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fridge-a")
            device.username_pw_set("fridge-a", login["password"])
            device.tls_set(ca_certs=str(ca))
            device.connect("localhost", broker.tls_port or 0)
            device.loop_start()
            try:
                device.publish(
                    *reading_message("fridge-a", 1, SCENARIO_START), qos=1
                ).wait_for_publish(10)
                wait_until(lambda: service.telemetry.count() == 1, 20, "the reading sent over TLS")
            finally:
                device.disconnect()
                device.loop_stop()
        finally:
            service.stop()
    finally:
        broker.stop()


def test_the_simulator_connects_each_device_with_its_own_credentials(
    secured: Mosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faultline.cli import main as faultline

    service = start(secured, tmp_path)
    try:
        # The simulator's own login may connect but speaks for nobody: only the devices'
        # credentials (issued at provisioning) can publish their readings.
        monkeypatch.setenv("FAULTLINE_MQTT_URL", secured.url_as("faultline", SERVICE_SECRET))
        monkeypatch.setenv("FAULTLINE_ADMIN_TOKEN", "test-operator-token")
        code = faultline(
            [
                "sim",
                "--devices",
                "3",
                "--days",
                "0.05",
                "--start",
                str(SCENARIO_START),
                "--api-url",
                service.base_url,
                "--ground-truth",
                str(tmp_path / "truth.jsonl"),
            ]
        )
        assert code == 0
        expected = 3 * int(0.05 * 86_400 / 60)
        wait_until(lambda: service.telemetry.count() == expected, 30, "every device's readings")
        assert {f"fridge-{n:04d}" for n in (1, 2, 3)} == {
            r.device_id
            for n in (1, 2, 3)
            for r in service.telemetry.query(device_id=f"fridge-{n:04d}", limit=1)
        }
    finally:
        service.stop()
