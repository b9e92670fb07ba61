"""The MQTT side of ingest: a persistent QoS 1 session whose messages are acknowledged
only after they are stored.

aiomqtt acknowledges a message as soon as it arrives and discards messages when its
bounded queue is full, so a crash or an overload would lose readings the broker thinks
were delivered. paho's `manual_ack` lets ingest send PUBACK after the batch is stored;
until then the broker keeps the message in the session and redelivers it after a
reconnect. Blocking in `on_message` when the queue is full pushes back on the broker
instead of growing memory.

The session is MQTT 5 so that ingest can say how many unacknowledged messages it takes
(Receive Maximum): over MQTT 3.1.1 a stock Mosquitto sends a subscriber only 20 at a time
(`max_inflight_messages`), so batches stay tiny, ingest falls behind any fleet of size and
the broker silently drops what passes its queue limit (`max_queued_messages`, 1000).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.broker_address import BrokerAddress
from ingest.inbox import Inbox
from ingest.messages import RawMessage
from ingest.stats import IngestStats

log = logging.getLogger(__name__)

# How long the broker keeps our session (and queues for it) while ingest is away.
SESSION_EXPIRY_S = 7 * 86_400


class Subscriber:
    """Receives `topics` into `inbox`; call `ack()` for messages once they are stored."""

    def __init__(
        self,
        *,
        address: BrokerAddress,
        client_id: str,
        topics: Sequence[str],
        inbox: Inbox[RawMessage],
        stats: IngestStats,
        receive_maximum: int = 10_000,
        reconnect_delay: tuple[int, int] = (1, 30),
        session_expiry_s: int = SESSION_EXPIRY_S,
        ca_file: str | None = None,
        mqtt5: bool = True,
    ) -> None:
        """`mqtt5=False` speaks MQTT 3.1.1, for brokers without 5 (the demo's embedded one):
        the broker then decides how many messages are in flight."""
        self.address = address
        self.topics = list(topics)
        self.inbox = inbox
        self.stats = stats
        self.mqtt5 = mqtt5
        self._accepting = threading.Event()
        if mqtt5:
            self._client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=mqtt.MQTTv5,
                manual_ack=True,
            )
        else:
            self._client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=mqtt.MQTTv311,
                clean_session=False,
                manual_ack=True,
            )
        self._connect_properties = Properties(PacketTypes.CONNECT)
        self._connect_properties.ReceiveMaximum = min(max(receive_maximum, 1), 65_535)
        self._connect_properties.SessionExpiryInterval = session_expiry_s
        self._client.reconnect_delay_set(*reconnect_delay)
        self.reconnect_max_s = reconnect_delay[1]
        if address.username:
            self._client.username_pw_set(address.username, address.password)
        if address.tls:
            self._client.tls_set_context(ssl.create_default_context(cafile=ca_file))
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    def start(self) -> None:
        """Connect in the background; paho keeps reconnecting with backoff if it fails."""
        self._accepting.set()
        if self.mqtt5:
            self._client.connect_async(
                self.address.host,
                self.address.port,
                keepalive=30,
                clean_start=False,  # keep the session: what arrived while we were away waits
                properties=self._connect_properties,
            )
        else:
            self._client.connect_async(self.address.host, self.address.port, keepalive=30)
        self._client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._client.is_connected():
                return True
            time.sleep(0.02)
        return self._client.is_connected()

    def pause(self) -> None:
        """Stop taking messages; those arriving now stay unacknowledged at the broker."""
        self._accepting.clear()

    def ack(self, messages: Sequence[RawMessage]) -> None:
        for message in messages:
            if message.qos > 0:
                self._client.ack(message.mid, message.qos)

    def stop(self) -> None:
        self.pause()
        self._client.disconnect()
        self._client.loop_stop()
        self.stats.connected = False

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self._failed(f"the broker refused the connection: {reason}")
            return
        self.stats.connected = True
        self.stats.last_connect_error = None
        log.info("connected to %s", self.address)
        if self.mqtt5:
            client.subscribe([(topic, SubscribeOptions(qos=1)) for topic in self.topics])
        else:
            client.subscribe([(topic, 1) for topic in self.topics])

    def _on_connect_fail(self, _c: mqtt.Client, _u: Any) -> None:
        self._failed(_why_unreachable(self.address))

    def _failed(self, why: str) -> None:
        """Every failed attempt is logged (paho retries with backoff up to the maximum)."""
        self.stats.add(connect_failures=1)
        self.stats.last_connect_error = why
        log.warning(
            "cannot connect to the MQTT broker %s (attempt %d): %s; retrying, waiting up to %d s",
            self.address,
            self.stats.connect_failures,
            why,
            self.reconnect_max_s,
        )

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.stats.connected = False
        if self._accepting.is_set():
            log.warning("lost broker %s (%s); reconnecting", self.address, reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        raw = RawMessage(msg.topic, bytes(msg.payload), time.time(), msg.mid, msg.qos)
        while self._accepting.is_set():
            if self.inbox.put(raw, timeout=0.5):
                return
            # Full: backpressure. The broker holds the rest in our session.


def _why_unreachable(address: BrokerAddress) -> str:
    """The operating system's reason the broker cannot be reached (paho does not say)."""
    try:
        with socket.create_connection((address.host, address.port), timeout=2.0):
            return "the connection was dropped during the MQTT handshake"
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__
