"""MQTT downlink: a QoS 1 publish to the appliance (`{prefix}/{device_id}/commands`) or to a
customer topic, delivered once the broker acknowledges it (PUBACK).

The payload carries `idempotency_key`; an appliance or app that gets the same key twice
(a retry after a crash) shows it once.
"""

from __future__ import annotations

import json
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fieldservice.errors import DeliveryError
from fieldservice.notifications.delivery import Envelope


class MqttDownlinkChannel:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        client_id: str,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        timeout_s: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.username = username
        self.password = password
        self.tls = tls
        self.timeout_s = timeout_s
        self._client: mqtt.Client | None = None
        self._lock = threading.Lock()

    def send(self, envelope: Envelope) -> None:
        payload = json.dumps(
            {
                **dict(envelope.payload.get("mqtt") or {}),
                "idempotency_key": envelope.key,
                "kind": envelope.kind,
                "ticket_id": envelope.ticket_id,
                "language": envelope.language,
                "title": envelope.subject,
                "message": envelope.body,
            },
            ensure_ascii=False,
        )
        client = self._connected()
        try:
            info = client.publish(envelope.recipient, payload, qos=1)
            info.wait_for_publish(self.timeout_s)
        except (RuntimeError, ValueError, OSError) as exc:
            raise DeliveryError(f"MQTT publish to {envelope.recipient}: {exc!r}") from exc
        if info.rc != mqtt.MQTT_ERR_SUCCESS or not info.is_published():
            raise DeliveryError(
                f"MQTT publish to {envelope.recipient} not acknowledged within {self.timeout_s}s "
                f"(rc={info.rc})"
            )

    def _connected(self) -> mqtt.Client:
        with self._lock:
            if self._client is not None and self._client.is_connected():
                return self._client
            self.close()
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id)
            if self.username:
                client.username_pw_set(self.username, self.password)
            if self.tls:
                client.tls_set()
            connected = threading.Event()
            client.on_connect = lambda *_args: connected.set()
            try:
                client.connect(self.host, self.port)
            except OSError as exc:
                raise DeliveryError(f"MQTT broker {self.host}:{self.port}: {exc!r}") from exc
            client.loop_start()
            if not connected.wait(self.timeout_s):
                client.loop_stop()
                raise DeliveryError(f"MQTT broker {self.host}:{self.port} did not accept us")
            self._client = client
            return client

    def close(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
