"""Publish simulated readings to an MQTT broker the way a real appliance does.

Topics and payloads follow the wire contract (`domain.wire`); QoS 1 messages count as
delivered only once the broker has acknowledged them (PUBACK).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from domain import Reading
from domain.wire import DEFAULT_PREFIX, Channel, encode_reading, topic_for

MAX_INFLIGHT = 1000
CONNECT_TIMEOUT_S = 10.0
ACK_TIMEOUT_S = 60.0


class SimulatorError(RuntimeError):
    """The simulator could not do what it was asked (broker unreachable, refused, ...)."""


@dataclass(frozen=True, slots=True)
class PublishStats:
    """How a publishing run went."""

    published: int
    acknowledged: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        """Messages per second, publish to last acknowledgement."""
        return self.published / self.elapsed_s if self.elapsed_s > 0 else 0.0


class _Acks:
    """Counts PUBACKs from paho's network thread and lets the publisher wait on them."""

    def __init__(self) -> None:
        self.count = 0
        self.connected = threading.Event()
        self.connect_error: str | None = None
        self._awaited = 0  # wake the publisher only once this many have arrived
        self._cond = threading.Condition()

    def on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self.connect_error = str(reason)
        self.connected.set()

    def on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        with self._cond:
            self.count += 1
            if self.count >= self._awaited:
                self._cond.notify_all()

    def wait_until(self, count: int, timeout: float) -> bool:
        """Block until at least `count` acknowledgements arrived, or `timeout` passed."""
        with self._cond:
            self._awaited = count
            return self._cond.wait_for(lambda: self.count >= count, timeout=timeout)


def publish(
    readings: Iterable[Reading],
    *,
    host: str,
    port: int,
    prefix: str = DEFAULT_PREFIX,
    speed: float | None = None,
    qos: int = 1,
    client_id: str = f"faultline-sim-{os.getpid()}",
    username: str | None = None,
    password: str | None = None,
    ack_timeout_s: float = ACK_TIMEOUT_S,
) -> PublishStats:
    """Publish every reading on its device's telemetry topic; return once all are acked.

    `speed=None` publishes as fast as the broker takes them; `speed=N` paces them so event
    time runs N times faster than the wall clock (relative to the first reading's `ts`).
    At most `MAX_INFLIGHT` messages wait unacknowledged: past that the publisher waits
    for the broker's PUBACKs instead of queueing without bound.
    """
    if speed is not None and speed <= 0:
        raise ValueError(f"speed must be positive or None, got {speed}")
    if qos not in (0, 1, 2):
        raise ValueError(f"qos must be 0, 1 or 2, got {qos}")
    acks = _Acks()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    # The in-flight window is ours (`_send` keeps at most MAX_INFLIGHT unacknowledged):
    # paho's own limit rescans every in-flight message on each PUBACK, which costs more
    # the larger the window (1,000 in flight: ~5k msg/s; paho unlimited + ours: ~19k).
    client.max_inflight_messages_set(0)
    client.on_connect = acks.on_connect
    client.on_publish = acks.on_publish
    if username is not None:
        client.username_pw_set(username, password)
    try:
        client.connect(host, port, keepalive=30)
    except OSError as exc:
        raise SimulatorError(f"cannot reach MQTT broker at {host}:{port}: {exc}") from exc
    client.loop_start()
    try:
        if not acks.connected.wait(CONNECT_TIMEOUT_S):
            raise SimulatorError(f"MQTT broker at {host}:{port} did not answer CONNECT")
        if acks.connect_error:
            raise SimulatorError(f"MQTT broker at {host}:{port} refused: {acks.connect_error}")
        started = time.perf_counter()
        sent = _send(client, acks, readings, prefix=prefix, qos=qos, speed=speed)
        if qos > 0 and not acks.wait_until(sent, ack_timeout_s):
            raise SimulatorError(
                f"only {acks.count} of {sent} messages acknowledged after {ack_timeout_s:.0f} s"
            )
        elapsed = time.perf_counter() - started
        return PublishStats(
            published=sent, acknowledged=acks.count if qos else 0, elapsed_s=elapsed
        )
    finally:
        client.disconnect()
        client.loop_stop()


def _send(
    client: mqtt.Client,
    acks: _Acks,
    readings: Iterable[Reading],
    *,
    prefix: str,
    qos: int,
    speed: float | None,
) -> int:
    sent = 0
    first_ts: float | None = None
    wall0 = time.perf_counter()
    topics: dict[str, str] = {}
    window = MAX_INFLIGHT
    for reading in readings:
        if speed is not None:
            if first_ts is None:
                first_ts = reading.ts
            due = wall0 + (reading.ts - first_ts) / speed
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing to event time, not waiting for acks
        topic = topics.get(reading.device_id)
        if topic is None:
            topic = topics[reading.device_id] = topic_for(
                reading.device_id, Channel.TELEMETRY, prefix
            )
        info = client.publish(topic, encode_reading(reading), qos=qos)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise SimulatorError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        sent += 1
        if (
            qos > 0
            and sent - acks.count > window
            and not acks.wait_until(sent - window, ACK_TIMEOUT_S)
        ):
            raise SimulatorError(f"broker stopped acknowledging ({acks.count} of {sent})")
    return sent
