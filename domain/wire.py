"""The MQTT wire contract shared by devices (and the simulator) and ingest.

Topics are `{prefix}/{device_id}/{channel}`; a telemetry payload is
`{"ts": <unix seconds | RFC 3339>, "seq": <int>, "metrics": {name: number}, "device_id"?: str}`.
Decoding is pure: it turns bytes into a `Reading` or raises `PayloadRejected` with a reason.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import msgspec

from domain.readings import Reading

DEFAULT_PREFIX = "devices"
MAX_PAYLOAD_BYTES = 16 * 1024
MAX_METRICS = 64
# Ranges every store can hold and every detector can use, checked here at the edge:
# a seq must fit a signed 64-bit integer (SQLite, PostgreSQL BIGINT); a timestamp before
# 2000 means the device's clock was never set; a metric beyond 1e12 in magnitude is no
# household measurement (and squares of it overflow what detectors compute).
MAX_SEQ = 2**63 - 1
MIN_TS = 946_684_800.0  # 2000-01-01T00:00:00Z
MAX_ABS_METRIC = 1e12
MAX_CODE_CHARS = 32
MAX_MESSAGE_CHARS = 500
# A metric name: a letter or underscore first, then letters, digits, _ . - : / (at most 64).
METRIC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/-]{0,63}")


class Channel(StrEnum):
    """The last topic level: what a message is about."""

    TELEMETRY = "telemetry"
    EVENTS = "events"
    STATUS = "status"
    COMMANDS = "commands"


class RejectReason(StrEnum):
    """Why ingest refused a message; every one is counted and dead-lettered."""

    BAD_TOPIC = "bad_topic"
    OVERSIZE = "oversize"
    BAD_JSON = "bad_json"
    MISSING_FIELDS = "missing_fields"
    BAD_SCHEMA = "bad_schema"
    NON_FINITE = "non_finite"
    FUTURE_TIMESTAMP = "future_timestamp"
    UNKNOWN_DEVICE = "unknown_device"
    DEVICE_MISMATCH = "device_mismatch"
    OUT_OF_RANGE = "out_of_range"
    UNSTORABLE = "unstorable"


class PayloadRejected(ValueError):
    """A message that breaks the wire contract; `reason` says which rule."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected message kept for inspection."""

    topic: str
    payload: bytes
    reason: RejectReason
    detail: str
    received_at: float
    device_id: str | None = None


def topic_for(device_id: str, channel: Channel, prefix: str = DEFAULT_PREFIX) -> str:
    """The topic a device publishes `channel` messages on."""
    return f"{prefix}/{device_id}/{channel.value}"


def subscription_for(channel: Channel, prefix: str = DEFAULT_PREFIX) -> str:
    """The wildcard filter that receives `channel` messages from every device."""
    return f"{prefix}/+/{channel.value}"


def parse_topic(topic: str, prefix: str = DEFAULT_PREFIX) -> tuple[str, Channel]:
    """Split a topic into `(device_id, channel)`; raises `PayloadRejected` if it is not ours."""
    parts = topic.split("/")
    want = prefix.split("/")
    if len(parts) != len(want) + 2 or parts[: len(want)] != want or not parts[-2]:
        raise PayloadRejected(RejectReason.BAD_TOPIC, f"topic {topic!r} is not {prefix}/<id>/<ch>")
    try:
        channel = Channel(parts[-1])
    except ValueError:
        raise PayloadRejected(RejectReason.BAD_TOPIC, f"unknown channel {parts[-1]!r}") from None
    return parts[-2], channel


# The fast path: ranges checked while decoding, in C. A payload it refuses is explained
# (which rule it breaks) by `_explain`, on the loose schema.
_Value = Annotated[float, msgspec.Meta(ge=-MAX_ABS_METRIC, le=MAX_ABS_METRIC)]
_Seq = Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQ)]


class _Payload(msgspec.Struct):
    ts: float | str
    seq: _Seq
    metrics: dict[str, _Value]
    device_id: str | None = None


class _LoosePayload(msgspec.Struct):
    ts: float | str
    seq: int
    metrics: dict[str, float]
    device_id: str | None = None


_decoder = msgspec.json.Decoder(_Payload)
# Metric names already seen to be well formed (names repeat: a regex per name per reading
# would cost more than decoding); bounded.
_known_names: set[str] = set()
_MAX_KNOWN_NAMES = 4096
_encoder = msgspec.json.Encoder()


def encode_reading(reading: Reading, *, include_device_id: bool = False) -> bytes:
    """The JSON payload a device publishes for `reading`."""
    body: dict[str, Any] = {"ts": reading.ts, "seq": reading.seq, "metrics": reading.metrics}
    if include_device_id:
        body["device_id"] = reading.device_id
    return _encoder.encode(body)


def decode_reading(device_id: str, payload: bytes) -> Reading:
    """Decode and validate one telemetry payload published on `device_id`'s topic."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadRejected(
            RejectReason.OVERSIZE, f"{len(payload)} bytes, limit {MAX_PAYLOAD_BYTES}"
        )
    try:
        body = _decoder.decode(payload)
    except msgspec.DecodeError:
        # The fast path refuses anything off-contract; find out exactly why, slowly.
        raise _explain(payload) from None
    ts = body.ts
    if ts.__class__ is not float or ts < MIN_TS:
        ts = _parse_ts(ts)
    if body.device_id is not None and body.device_id != device_id:
        raise PayloadRejected(
            RejectReason.DEVICE_MISMATCH,
            f"payload claims device {body.device_id!r} on the topic of {device_id!r}",
        )
    metrics = body.metrics
    if not 0 < len(metrics) <= MAX_METRICS or not _known_names.issuperset(metrics):
        _check_metrics(metrics)
    return Reading(device_id=device_id, ts=ts, seq=body.seq, metrics=metrics)


def _parse_ts(value: float | str) -> float:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise PayloadRejected(
                RejectReason.BAD_SCHEMA, f"ts {value[:40]!r} is not RFC 3339"
            ) from None
        if parsed.tzinfo is None:
            raise PayloadRejected(
                RejectReason.BAD_SCHEMA, f"ts {value[:40]!r} has no UTC offset"
            )
        try:
            ts = parsed.timestamp()
        except (OverflowError, ValueError):
            raise PayloadRejected(
                RejectReason.OUT_OF_RANGE, f"ts {value[:40]!r} is not a usable instant"
            ) from None
    else:
        if not math.isfinite(value):
            raise PayloadRejected(RejectReason.NON_FINITE, f"ts is {value}")
        ts = float(value)
    if ts < MIN_TS:
        raise PayloadRejected(
            RejectReason.OUT_OF_RANGE,
            f"ts {ts:.6g} is before 2000-01-01: the device's clock is not set",
        )
    return ts


def _check_metrics(metrics: Mapping[str, float]) -> None:
    if not metrics:
        raise PayloadRejected(RejectReason.MISSING_FIELDS, "metrics is empty")
    if len(metrics) > MAX_METRICS:
        raise PayloadRejected(RejectReason.OVERSIZE, f"{len(metrics)} metrics, limit {MAX_METRICS}")
    for name, value in metrics.items():
        if name not in _known_names:
            if METRIC_NAME.fullmatch(name) is None:
                raise PayloadRejected(
                    RejectReason.BAD_SCHEMA,
                    f"metric name {name[:70]!r} is not 1-64 of letters, digits, _ . - : /"
                    " starting with a letter or _",
                )
            if len(_known_names) < _MAX_KNOWN_NAMES:
                _known_names.add(name)
        if not math.isfinite(value):
            raise PayloadRejected(RejectReason.NON_FINITE, f"metric {name!r} is {value}")
        if abs(value) > MAX_ABS_METRIC:
            raise PayloadRejected(
                RejectReason.OUT_OF_RANGE, f"metric {name!r} is {value:.6g}, beyond ±1e12"
            )


_REQUIRED = ("ts", "seq", "metrics")


def _explain(payload: bytes) -> PayloadRejected:
    """Classify a payload the strict decoder refused (json accepts NaN/Infinity tokens)."""
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        return PayloadRejected(RejectReason.BAD_JSON, str(exc)[:200])
    if not isinstance(body, dict):
        return PayloadRejected(RejectReason.BAD_SCHEMA, "payload is not a JSON object")
    missing = [key for key in _REQUIRED if key not in body]
    if missing:
        return PayloadRejected(RejectReason.MISSING_FIELDS, f"missing {', '.join(missing)}")
    values = [body["ts"]]
    if isinstance(body["metrics"], dict):
        values += list(body["metrics"].values())
    if any(isinstance(v, float) and not math.isfinite(v) for v in values):
        return PayloadRejected(RejectReason.NON_FINITE, "NaN or infinity in ts or metrics")
    try:
        loose = msgspec.convert(body, _LoosePayload)
    except msgspec.ValidationError as exc:
        return PayloadRejected(RejectReason.BAD_SCHEMA, str(exc)[:200])
    if not 0 <= loose.seq <= MAX_SEQ:
        return PayloadRejected(RejectReason.OUT_OF_RANGE, f"seq {loose.seq} is not in 0..2^63-1")
    try:
        _check_metrics(loose.metrics)
    except PayloadRejected as rejected:
        return rejected
    return PayloadRejected(RejectReason.BAD_SCHEMA, "payload does not match the reading schema")


class _Event(msgspec.Struct):
    ts: float | str
    code: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class ApplianceEvent:
    """An error code the appliance reports about itself on its events topic."""

    device_id: str
    ts: float
    code: str
    message: str


_event_decoder = msgspec.json.Decoder(_Event)


def encode_event(event: ApplianceEvent) -> bytes:
    return _encoder.encode({"ts": event.ts, "code": event.code, "message": event.message})


def decode_event(device_id: str, payload: bytes) -> ApplianceEvent:
    """Decode an appliance's self-reported error code."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadRejected(RejectReason.OVERSIZE, f"{len(payload)} bytes")
    try:
        body = _event_decoder.decode(payload)
    except msgspec.DecodeError as exc:
        raise PayloadRejected(RejectReason.BAD_SCHEMA, str(exc)[:200]) from None
    if not body.code or len(body.code) > MAX_CODE_CHARS or not body.code.isprintable():
        raise PayloadRejected(
            RejectReason.BAD_SCHEMA,
            f"code {body.code[:40]!r} is not 1-{MAX_CODE_CHARS} printable characters",
        )
    if len(body.message) > MAX_MESSAGE_CHARS or "\x00" in body.message:
        raise PayloadRejected(
            RejectReason.BAD_SCHEMA,
            f"message is over {MAX_MESSAGE_CHARS} characters or holds a NUL",
        )
    return ApplianceEvent(device_id, _parse_ts(body.ts), body.code, body.message)
