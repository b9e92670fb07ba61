"""Readings as InfluxDB line protocol: one point per reading, its device and type as tags.

A reading becomes

    telemetry,device_id=fridge-0001,type=fridge cabinet_temp_c=4.1,seq=1812i 1764040000250000000

The point's identity in InfluxDB is (measurement, tags, timestamp): writing the same
reading again overwrites the point instead of adding one, which is what makes a
redelivered or replayed batch harmless. Two readings of one device with the same
timestamp (at the configured precision) are one point: the later write wins.

Names are stored so that any metric name or device id survives the trip and needs no
escaping: characters outside `[A-Za-z0-9_.:-]` are percent-encoded (`%20` for a space),
and so is the first letter of a name InfluxDB or Flux reserve (`_time`, `seq`, `type`…).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final
from urllib.parse import unquote

from domain import Reading

MEASUREMENT: Final = "telemetry"
SEQ_FIELD: Final = "seq"
DEVICE_TAG: Final = "device_id"
TYPE_TAG: Final = "type"

# Units per second for each write precision InfluxDB accepts.
PRECISIONS: Final[dict[str, int]] = {
    "ns": 1_000_000_000,
    "us": 1_000_000,
    "ms": 1_000,
    "s": 1,
}

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")
# Field names that would collide with our own field, our tags, or the columns of a
# pivoted Flux result.
_RESERVED = frozenset({SEQ_FIELD, DEVICE_TAG, TYPE_TAG, "time", "result", "table"})
_MAX_CACHED_FIELDS = 10_000
# What an empty name is stored as: no other name encodes to a lone "%" (it becomes "%25").
_EMPTY = "%"


def encode_name(name: str, *, field: bool = False) -> str:
    """`name` as a tag value or field key: unchanged when plain, percent-encoded otherwise."""
    if name and all(c in _SAFE for c in name):
        if not field or (name[0] != "_" and name not in _RESERVED):
            return name
        return _percent(name[0]) + name[1:]
    if not name:
        return _EMPTY  # InfluxDB refuses empty keys
    return "".join(c if c in _SAFE else _percent(c) for c in name)


def decode_name(stored: str) -> str:
    """The original name of a stored tag value or field key (inverse of `encode_name`)."""
    if "%" not in stored:
        return stored
    if stored == _EMPTY:
        return ""
    return unquote(stored, errors="replace")


def _percent(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def timestamp(ts: float, precision: str) -> int:
    """`ts` (Unix seconds) as an integer in `precision` units; the same `ts` always maps
    to the same integer, so a rewrite hits the same point.

    A float of Unix seconds resolves about a quarter of a microsecond today, so `ns`
    keeps microseconds: the value round-trips through `from_timestamp` exactly.
    """
    if precision == "ns":
        return round(ts * 1_000_000) * 1_000
    return round(ts * PRECISIONS[precision])


def from_timestamp(value: int, precision: str) -> float:
    """Unix seconds of an integer timestamp in `precision` units."""
    return value / PRECISIONS[precision]


class LineEncoder:
    """Turns readings into line-protocol lines; caches each device's series key.

    `device_type(device_id)` answers the type tag (None leaves it off); it is asked once
    per device, so a device's type must not change (it would start a new series).
    """

    def __init__(
        self,
        *,
        precision: str = "ns",
        measurement: str = MEASUREMENT,
        device_type: Callable[[str], str | None] = lambda _device_id: None,
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
        self.precision = precision
        self.measurement = encode_name(measurement)
        self.device_type = device_type
        self._series: dict[str, str] = {}
        self._fields: dict[str, str] = {}

    def lines(self, readings: Iterable[Reading]) -> list[str]:
        series = self._series
        precision = self.precision
        out = []
        for r in readings:
            key = series.get(r.device_id)
            if key is None:
                key = self._series_key(r.device_id)
            out.append(
                f"{key}{self._field_set(r.metrics)},{SEQ_FIELD}={int(r.seq)}i "
                f"{timestamp(r.ts, precision)}"
            )
        return out

    def _series_key(self, device_id: str) -> str:
        key = f"{self.measurement},{DEVICE_TAG}={encode_name(device_id)}"
        device_type = self.device_type(device_id)
        if not device_type:
            return key + " "  # not remembered: the type is tagged once it is known
        key += f",{TYPE_TAG}={encode_name(str(device_type))} "
        self._series[device_id] = key
        return key

    def _field_set(self, metrics: Mapping[str, float]) -> str:
        fields = self._fields
        parts = []
        for name, value in metrics.items():
            key = fields.get(name)
            if key is None:
                if len(fields) > _MAX_CACHED_FIELDS:
                    fields.clear()  # devices may invent names: keep the cache bounded
                key = fields[name] = encode_name(name, field=True) + "="
            if type(value) is not float:
                value = float(value)  # a bool would otherwise be written as a boolean field
            text = repr(value)
            if text[-1] in "nf":  # nan, inf: ingest rejects them; line protocol cannot carry them
                raise ValueError(f"metric {name!r} is {text}")
            parts.append(key + text)
        return ",".join(parts)
