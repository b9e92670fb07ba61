"""What simulated devices send, before and after it is put on the wire.

A `Delivery` is a message and the event time at which the device hands it to the network
(`at`): usually the reading's own `ts`, later for a backlog uploaded on reconnect or a
redelivered duplicate. `Outgoing` is the same message encoded for its MQTT topic, which
is what the publisher sends and what a recording stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from domain import Reading
from domain.wire import ApplianceEvent, Channel, encode_event, encode_reading

ONLINE = b"online"
OFFLINE = b"offline"


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """The device's retained status: `online` when it connects, `offline` as its last will."""

    device_id: str
    ts: float
    online: bool


Message = Reading | ApplianceEvent | DeviceStatus


class Delivery(NamedTuple):
    """`message`, handed to the network at event time `at`."""

    at: float
    message: Message


class Outgoing(NamedTuple):
    """One MQTT message: published on `{prefix}/{device_id}/{channel}` at event time `at`."""

    at: float
    device_id: str
    channel: Channel
    payload: bytes
    retain: bool = False


def encode(delivery: Delivery) -> Outgoing:
    """The MQTT message for a delivery (the wire contract's topic, payload and retain flag)."""
    at, message = delivery
    if isinstance(message, Reading):
        return Outgoing(at, message.device_id, Channel.TELEMETRY, encode_reading(message))
    if isinstance(message, ApplianceEvent):
        return Outgoing(at, message.device_id, Channel.EVENTS, encode_event(message))
    payload = ONLINE if message.online else OFFLINE
    return Outgoing(at, message.device_id, Channel.STATUS, payload, True)
