"""Publishing as real devices do when the broker checks identities: one MQTT connection
per device, each logged in with that device's own credentials (username = device id).

The shared connection of `device_sim.publisher` speaks for every device, which a broker
enforcing device identity refuses. This costs a connection (and a paho network thread)
per device: fine for fleets of hundreds, not for the 10k-device benchmark, which runs
against a broker without identities.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from device_sim.messages import Outgoing
from device_sim.publisher import (
    ACK_TIMEOUT_S,
    CONNECT_TIMEOUT_S,
    PROGRESS_EVERY,
    PublishStats,
    SimulatorError,
)
from domain.wire import topic_for

if TYPE_CHECKING:
    from device_sim.pacing import Gate


class _Device:
    """One device's connection, and how many of its messages the broker acknowledged."""

    def __init__(self, client: mqtt.Client) -> None:
        self.client = client
        self.connected = threading.Event()
        self.refused: str | None = None


class DeviceConnections:
    """A connection per device, opened on its first message (`credentials[device_id]`)."""

    def __init__(
        self,
        host: str,
        port: int,
        credentials: Mapping[str, str],
        *,
        tls: bool = False,
        ca_file: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.credentials = credentials
        self.tls = tls
        self.ca_file = ca_file
        self.sent = 0
        self._acked = 0
        self._acked_lock = threading.Condition()
        self._devices: dict[str, _Device] = {}

    def publish(
        self, device_id: str, topic: str, payload: bytes, *, qos: int, retain: bool
    ) -> None:
        device = self._devices.get(device_id) or self._open(device_id)
        info = device.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise SimulatorError(
                f"{device_id}: publish to {topic} failed: {mqtt.error_string(info.rc)}"
            )
        self.sent += 1
        if qos == 0:
            self._ack(None, None, 0, None, None)

    def wait_acked(self, timeout: float, target: int | None = None) -> bool:
        """Until `target` (default: every message sent) are acknowledged, or `timeout`."""
        goal = self.sent if target is None else target
        with self._acked_lock:
            return self._acked_lock.wait_for(lambda: self._acked >= goal, timeout)

    @property
    def acked(self) -> int:
        return self._acked

    def close(self) -> None:
        for device in self._devices.values():
            device.client.disconnect()
            device.client.loop_stop()

    def _open(self, device_id: str) -> _Device:
        secret = self.credentials.get(device_id)
        if secret is None:
            raise SimulatorError(f"no broker credentials for {device_id}: provision it first")
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=device_id)
        client.username_pw_set(device_id, secret)
        client.max_inflight_messages_set(0)
        if self.tls:
            client.tls_set_context(ssl.create_default_context(cafile=self.ca_file))
        device = _Device(client)

        def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                device.refused = str(reason)
            device.connected.set()

        client.on_connect = on_connect
        client.on_publish = self._ack
        try:
            client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise SimulatorError(
                f"{device_id} cannot reach {self.host}:{self.port}: {exc}"
            ) from exc
        client.loop_start()
        if not device.connected.wait(CONNECT_TIMEOUT_S) or device.refused:
            client.loop_stop()
            raise SimulatorError(
                f"the broker refused {device_id}: {device.refused or 'no answer to CONNECT'}"
            )
        self._devices[device_id] = device
        return device

    def _ack(self, _c: Any, _u: Any, _mid: int, _reason: Any, _p: Any) -> None:
        with self._acked_lock:
            self._acked += 1
            self._acked_lock.notify_all()


def publish_as_devices(
    messages: Iterable[Outgoing],
    *,
    host: str,
    port: int,
    credentials: Mapping[str, str],
    prefix: str,
    speed: float | None = None,
    qos: int = 1,
    tls: bool = False,
    ca_file: str | None = None,
    gate: Gate | None = None,
    progress: Callable[[int], None] | None = None,
    window: int = 1000,
) -> PublishStats:
    """Publish each message over its device's own connection; return once all are acked."""
    connections = DeviceConnections(host, port, credentials, tls=tls, ca_file=ca_file)
    started = time.perf_counter()
    first_at: float | None = None
    try:
        for at, device_id, channel, payload, retain in messages:
            if speed is not None:
                first_at = at if first_at is None else first_at
                delay = started + (at - first_at) / speed - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            topic = topic_for(device_id, channel, prefix)
            connections.publish(device_id, topic, payload, qos=qos, retain=retain)
            sent = connections.sent
            if sent - connections.acked > window and not connections.wait_acked(
                ACK_TIMEOUT_S, sent - window
            ):
                raise SimulatorError(
                    f"broker stopped acknowledging ({connections.acked} of {sent})"
                )
            if gate is not None and gate.behind(sent):
                gate.wait(sent)
            if progress is not None and sent % PROGRESS_EVERY == 0:
                progress(sent)
        if not connections.wait_acked(ACK_TIMEOUT_S):
            raise SimulatorError(
                f"only {connections.acked} of {connections.sent} messages acknowledged"
            )
        return PublishStats(
            published=connections.sent,
            acknowledged=connections.acked,
            elapsed_s=time.perf_counter() - started,
        )
    finally:
        connections.close()
