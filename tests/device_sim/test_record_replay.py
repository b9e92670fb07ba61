"""Record a run to a file and replay it over MQTT: the same messages, byte for byte, at any speed."""

from __future__ import annotations

import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from device_sim.appliance_errors import ErrorRates
from device_sim.fleet import build_fleet
from device_sim.messages import Outgoing
from device_sim.publisher import SimulatorError, publish_messages
from device_sim.recording import RecordingError, read_meta, read_recording, write_recording
from device_sim.scenario import deliveries, messages
from device_sim.transport import TransportConfig
from domain.wire import Channel, decode_reading, topic_for
from tests.device_sim.small_fleets import HOUR, START, definition
from tests.mosquitto import Mosquitto

PERFECT = ErrorRates(missed=0.0, false_per_device_day=0.0)

NETWORK = TransportConfig(
    drop_rate=0.01, duplicate_rate=0.01, reorder_rate=0.01, clock_skew_sd_s=1.0, seed=3
)


def _run(hours: float = 2.0) -> list[Outgoing]:
    fleet = build_fleet(
        definition(
            faults={
                "pinned": [
                    {"device_id": "fridge-0001", "code": "FRIDGE_COMPRESSOR_FAILURE", "onset_s": 0},
                    {
                        "device_id": "ac-0001",
                        "code": "DEVICE_OFFLINE",
                        "onset_s": 1800,
                        "end_s": 3600,
                    },
                ]
            }
        )
    )
    # Controllers that never miss: the stopped compressor's E21 is in every recording
    # that lasts until the cabinet has warmed (a few hours).
    sent = deliveries(
        fleet, start_ts=START, duration_s=hours * HOUR, transport=NETWORK, error_rates=PERFECT
    )
    return list(messages(sent))


@pytest.mark.parametrize("name", ["run.ndjson", "run.ndjson.gz"])
def test_a_recording_reads_back_exactly_what_was_recorded(tmp_path: Path, name: str) -> None:
    sent = _run(hours=6.0)
    assert {m.channel for m in sent} == {Channel.TELEMETRY, Channel.EVENTS, Channel.STATUS}
    path = tmp_path / name
    assert write_recording(path, sent, meta={"fleet": "mixed", "seed": 5}) == len(sent)
    assert list(read_recording(path)) == sent
    assert read_meta(path) == {"fleet": "mixed", "seed": 5}


def test_a_file_that_is_not_a_recording_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_text('{"something": "else"}\n')
    with pytest.raises(RecordingError, match="not a Faultline recording"):
        list(read_recording(path))
    path.write_text('{"recording": "faultline-sim", "version": 1, "meta": {}}\n{"at": 1}\n')
    with pytest.raises(RecordingError, match=r"x\.ndjson:2"):
        list(read_recording(path))


class _Subscriber:
    def __init__(self, port: int, pattern: str, expected: int) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.expected = expected
        self.done = threading.Event()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="replay-sub")
        self.client.on_connect = lambda c, *_: c.subscribe(pattern, qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert subscribed.wait(10)

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.received.append((message.topic, bytes(message.payload)))
        if len(self.received) >= self.expected:
            self.done.set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _per_topic(pairs: list[tuple[str, bytes]]) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = defaultdict(list)
    for topic, payload in pairs:
        out[topic].append(payload)
    return out


@pytest.mark.parametrize("fast", [True, False], ids=["packet-writer", "paho"])
def test_replay_publishes_the_recorded_bytes_on_their_topics(
    mosquitto: Mosquitto, tmp_path: Path, fast: bool
) -> None:
    sent = _run(hours=1.0 if fast else 0.5)
    path = tmp_path / "run.ndjson.gz"
    write_recording(path, sent)
    subscriber = _Subscriber(mosquitto.port, "sim/#", expected=len(sent))
    try:
        stats = publish_messages(
            read_recording(path),
            host="127.0.0.1",
            port=mosquitto.port,
            prefix="sim",
            fast=fast,
            client_id="replayer",
        )
        assert subscriber.done.wait(20), f"{len(subscriber.received)} of {len(sent)} arrived"
    finally:
        subscriber.close()
    assert stats.published == stats.acknowledged == len(sent)
    expected = [(topic_for(m.device_id, m.channel, "sim"), m.payload) for m in sent]
    assert _per_topic(subscriber.received) == _per_topic(expected)
    readings = [
        decode_reading(t.split("/")[1], p)
        for t, p in subscriber.received
        if t.endswith("/telemetry")
    ]
    assert len(readings) == sum(m.channel is Channel.TELEMETRY for m in sent)


def test_status_is_retained_for_whoever_subscribes_later(mosquitto: Mosquitto) -> None:
    status = [m for m in _run(hours=0.1) if m.channel is Channel.STATUS]
    publish_messages(status, host="127.0.0.1", port=mosquitto.port, fast=True)
    late = _Subscriber(mosquitto.port, "devices/+/status", expected=len(status))
    try:
        assert late.done.wait(10)
    finally:
        late.close()
    assert {t: p for t, p in late.received} == {
        topic_for(m.device_id, m.channel): m.payload for m in status
    }


def test_replay_runs_at_the_requested_speed(mosquitto: Mosquitto, tmp_path: Path) -> None:
    sent = [m for m in _run(hours=0.5) if m.channel is Channel.TELEMETRY and m.at <= START + 1200]
    path = tmp_path / "run.ndjson"
    write_recording(path, sent)
    span = sent[-1].at - sent[0].at
    stats = publish_messages(
        read_recording(path), host="127.0.0.1", port=mosquitto.port, speed=span / 0.3, fast=True
    )
    assert stats.published == len(sent)
    assert 0.28 <= stats.elapsed_s < 2.0


def test_the_packet_writer_says_when_there_is_no_broker() -> None:
    from faultline.sockets import free_port

    with pytest.raises(SimulatorError, match="cannot reach MQTT broker"):
        publish_messages(_run(hours=0.02), host="127.0.0.1", port=free_port(), fast=True)
