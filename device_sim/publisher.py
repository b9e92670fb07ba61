"""Publish simulated readings to an MQTT broker the way a real appliance does.

Topics and payloads follow the wire contract (`domain.wire`); QoS 1 messages count as
delivered only once the broker has acknowledged them (PUBACK). `publish` sends readings;
`publish_messages` sends any `Outgoing` message (telemetry, events, retained status),
through paho or, with `fast=True`, through `MqttWriter` (packets built and written in
bulk: ~10x paho's rate).

All simulated devices share one connection: 10,000 MQTT connections, each with its own
last will, would cost the broker and the simulator far more than the fleet's traffic.
A device's will is emulated instead: when the simulation takes it offline the shared
connection publishes its retained `offline` (see `device_sim.connectivity`). If the
simulator itself dies, its devices' status stays `online`: the shared connection has no
will of its own, as no single topic could carry one for every device.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from device_sim.messages import Outgoing
from domain import Reading
from domain.wire import DEFAULT_PREFIX, Channel, encode_reading, topic_for

if TYPE_CHECKING:
    from device_sim.pacing import Gate

MAX_INFLIGHT = 1000
PROGRESS_EVERY = 1000
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
    messages = (Outgoing(r.ts, r.device_id, Channel.TELEMETRY, encode_reading(r)) for r in readings)
    return publish_messages(
        messages,
        host=host,
        port=port,
        prefix=prefix,
        speed=speed,
        qos=qos,
        client_id=client_id,
        username=username,
        password=password,
        ack_timeout_s=ack_timeout_s,
    )


def publish_messages(
    messages: Iterable[Outgoing],
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
    tls: bool = False,
    fast: bool = False,
    window: int = MAX_INFLIGHT,
    gate: Gate | None = None,
    progress: Callable[[int], None] | None = None,
) -> PublishStats:
    """Publish each message on `{prefix}/{device_id}/{channel}`; return once all are acked.

    Pacing (`speed`) follows each message's `at`, as `publish` does with `ts`; `retain`
    is honoured (status). `fast=True` uses `MqttWriter` (QoS 0 or 1; `window` messages
    may wait for their PUBACK, e.g. 20,000 for a 10k-device fleet), else paho. `gate`
    (an `IngestPacer`) holds publishing back while the receiving service is behind;
    `progress` is told the count sent every `PROGRESS_EVERY` messages.
    """
    if speed is not None and speed <= 0:
        raise ValueError(f"speed must be positive or None, got {speed}")
    if qos not in (0, 1, 2):
        raise ValueError(f"qos must be 0, 1 or 2, got {qos}")
    if fast:
        return _publish_fast(
            messages,
            host=host,
            port=port,
            prefix=prefix,
            speed=speed,
            qos=qos,
            client_id=client_id,
            username=username,
            password=password,
            ack_timeout_s=ack_timeout_s,
            tls=tls,
            window=window,
            gate=gate,
            progress=progress,
        )
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
    if tls:
        client.tls_set()
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
        sent = _send(
            client,
            acks,
            messages,
            prefix=prefix,
            qos=qos,
            speed=speed,
            window=window,
            gate=gate,
            progress=progress,
        )
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
    messages: Iterable[Outgoing],
    *,
    prefix: str,
    qos: int,
    speed: float | None,
    window: int,
    gate: Gate | None,
    progress: Callable[[int], None] | None,
) -> int:
    sent = 0
    first_ts: float | None = None
    wall0 = time.perf_counter()
    topics: dict[tuple[str, Channel], str] = {}
    for at, device_id, channel, payload, retain in messages:
        if speed is not None:
            if first_ts is None:
                first_ts = at
            due = wall0 + (at - first_ts) / speed
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing to event time, not waiting for acks
        topic = topics.get((device_id, channel))
        if topic is None:
            topic = topics[(device_id, channel)] = topic_for(device_id, channel, prefix)
        info = client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise SimulatorError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        sent += 1
        if (
            qos > 0
            and sent - acks.count > window
            and not acks.wait_until(sent - window, ACK_TIMEOUT_S)
        ):
            raise SimulatorError(f"broker stopped acknowledging ({acks.count} of {sent})")
        if gate is not None and gate.behind(sent):
            gate.wait(sent)
        if progress is not None and sent % PROGRESS_EVERY == 0:
            progress(sent)
    return sent


def _publish_fast(
    messages: Iterable[Outgoing],
    *,
    host: str,
    port: int,
    prefix: str,
    speed: float | None,
    qos: int,
    client_id: str,
    username: str | None,
    password: str | None,
    ack_timeout_s: float,
    tls: bool,
    window: int,
    gate: Gate | None = None,
    progress: Callable[[int], None] | None = None,
) -> PublishStats:
    from device_sim.mqtt_writer import MqttWriter

    if qos > 1:
        raise ValueError("the fast publisher speaks QoS 0 and 1 only")
    writer = MqttWriter(
        host,
        port,
        client_id=client_id,
        username=username,
        password=password,
        tls=tls,
        window=min(max(window, 1), 65_534),
    )
    writer.connect()
    try:
        started = time.perf_counter()
        sent = 0
        first_ts: float | None = None
        topics: dict[tuple[str, Channel], str] = {}
        for at, device_id, channel, payload, retain in messages:
            if speed is not None:
                if first_ts is None:
                    first_ts = at
                _pace(writer, started + (at - first_ts) / speed)
            topic = topics.get((device_id, channel))
            if topic is None:
                topic = topics[(device_id, channel)] = topic_for(device_id, channel, prefix)
            writer.publish(topic, payload, qos=qos, retain=retain)
            sent += 1
            if gate is not None and gate.behind(sent):
                writer.flush()
                gate.wait(sent, idle=writer.idle)
            if progress is not None and sent % PROGRESS_EVERY == 0:
                progress(sent)
        if not writer.wait_acked(ack_timeout_s):
            raise SimulatorError(
                f"only {writer.acked} of {writer.sent} messages acknowledged after "
                f"{ack_timeout_s:.0f} s"
            )
        elapsed = time.perf_counter() - started
        return PublishStats(published=sent, acknowledged=writer.acked, elapsed_s=elapsed)
    finally:
        writer.close()


def _pace(writer: Any, due: float) -> None:
    """Sleep until `due` (perf_counter), flushing first and keeping the connection alive."""
    delay = due - time.perf_counter()
    if delay <= 0:
        return
    writer.flush()
    while delay > 0:
        time.sleep(min(delay, 1.0))
        writer.idle()
        delay = due - time.perf_counter()
