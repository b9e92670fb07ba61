"""The simulator speaks to real things: a Mosquitto broker and an HTTP API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from device_sim.fleet import build_fridge_fleet
from device_sim.provision import provision
from device_sim.publisher import SimulatorError, publish
from device_sim.scenario import readings
from domain.wire import decode_reading, parse_topic
from tests.mosquitto import Mosquitto

START = 1_764_000_000.0


class _Subscriber:
    def __init__(self, port: int, expected: int) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self.expected = expected
        self.done = threading.Event()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-sub")
        self.client.on_connect = lambda c, *_: c.subscribe("devices/+/telemetry", qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.subscribed.wait(10)

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.messages.append(message)
        if len(self.messages) >= self.expected:
            self.done.set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_publish_delivers_every_reading_on_its_topic(mosquitto: Mosquitto) -> None:
    fleet = build_fridge_fleet(count=10, seed=1, start_ts=START)
    sent = list(readings(fleet, start_ts=START, duration_s=3600))
    subscriber = _Subscriber(mosquitto.port, expected=len(sent))
    try:
        stats = publish(iter(sent), host="127.0.0.1", port=mosquitto.port, client_id="test-pub")
        assert subscriber.done.wait(20)
    finally:
        subscriber.close()
    assert stats.published == stats.acknowledged == len(sent) == 600
    assert stats.elapsed_s > 0 and stats.rate > 0
    received = []
    for message in subscriber.messages:
        device_id, _ = parse_topic(message.topic)
        received.append(decode_reading(device_id, bytes(message.payload)))
    key = sorted((r.device_id, r.seq) for r in received)
    assert key == sorted((r.device_id, r.seq) for r in sent)
    by_key = {(r.device_id, r.seq): r for r in received}
    assert all(by_key[(r.device_id, r.seq)] == r for r in sent)


def test_publish_paces_event_time_at_the_requested_speed(mosquitto: Mosquitto) -> None:
    fleet = build_fridge_fleet(count=1, seed=1, start_ts=START)
    # 20 minutes of event time at 6000x: ~0.19 s of wall clock from first to last.
    stream = readings(fleet, start_ts=START, duration_s=1200)
    stats = publish(stream, host="127.0.0.1", port=mosquitto.port, speed=6000)
    assert stats.published == 20
    assert 0.18 <= stats.elapsed_s < 2.0


def test_publish_to_a_broker_that_is_not_there_says_so() -> None:
    from faultline.sockets import free_port

    port = free_port()
    with pytest.raises(SimulatorError, match=f"127.0.0.1:{port}"):
        publish(iter([]), host="127.0.0.1", port=port)


class _Api(BaseHTTPRequestHandler):
    known: set[str]
    bodies: list[dict[str, Any]]
    tokens: list[str]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else {}
        self.tokens.append(self.headers.get("Authorization", ""))
        if self.path == "/api/v1/devices":
            self.bodies.append(body)
        if self.path != "/api/v1/devices":
            status = 404  # e.g. /credentials: a Faultline without device identities
        elif body["device_id"] == "fridge-0004":
            status = 422
        elif body["device_id"] in self.known:
            status = 409
        else:
            self.known.add(body["device_id"])
            status = 201
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[tuple[str, type[_Api]]]:
    handler = type("Handler", (_Api,), {"known": set(), "bodies": [], "tokens": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_provision_posts_each_device_and_accepts_already_known(
    api: tuple[str, type[_Api]],
) -> None:
    url, handler = api
    fleet = build_fridge_fleet(count=3, seed=2, start_ts=START)
    first = provision(fleet.devices, base_url=url, token="s3cret")
    again = provision(fleet.devices, base_url=url + "/", token="s3cret")
    assert (first.created, first.existing) == (3, 0)
    assert (again.created, again.existing) == (0, 3)
    assert set(handler.tokens) == {"Bearer s3cret"}
    body = handler.bodies[0]
    device = fleet.devices[0]
    assert body == {
        "device_id": device.device_id,
        "type": "fridge",
        "model": device.model,
        "customer_id": device.customer_id,
        "location": {"lat": device.location.lat, "lon": device.location.lon},
        "serial": device.serial,
        "production_batch": device.production_batch,
        "firmware": device.firmware,
        "install_date": device.install_date.isoformat() if device.install_date else None,
        "customer_tier": device.customer_tier.value,
    }
    assert body["production_batch"]  # cohort surveillance compares batches


def test_provision_stops_on_a_refusal_with_the_reason(api: tuple[str, type[_Api]]) -> None:
    url, _ = api
    fleet = build_fridge_fleet(count=5, seed=2, start_ts=START)
    with pytest.raises(SimulatorError, match="fridge-0004 failed: HTTP 422"):
        provision(fleet.devices, base_url=url, token="t")
