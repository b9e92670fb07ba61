"""Readings as line protocol: one point per reading, names that survive any text, and
timestamps that map the same reading to the same point every time."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import Reading
from storage.line_protocol import (
    LineEncoder,
    decode_name,
    encode_name,
    from_timestamp,
    timestamp,
)

# What a key or tag value may contain so that it needs no escaping at all.
PLAIN = re.compile(r"[A-Za-z0-9_.:%-]+")


def test_a_reading_becomes_one_point_tagged_with_device_and_type() -> None:
    encoder = LineEncoder(device_type={"fridge-0001": "fridge"}.get)
    reading = Reading(
        "fridge-0001", 1_764_040_000.25, 1812, {"cabinet_temp_c": 4.1, "power_w": 92.5}
    )
    assert encoder.lines([reading]) == [
        "telemetry,device_id=fridge-0001,type=fridge "
        "cabinet_temp_c=4.1,power_w=92.5,seq=1812i 1764040000250000000"
    ]


def test_an_unknown_device_gets_no_type_tag_until_its_type_is_known() -> None:
    types: dict[str, str] = {}
    encoder = LineEncoder(device_type=types.get)
    reading = Reading("washer-7", 10.0, 1, {"drum_rpm": 1200.0})
    assert encoder.lines([reading])[0].startswith("telemetry,device_id=washer-7 ")
    types["washer-7"] = "washer"
    assert encoder.lines([reading])[0].startswith("telemetry,device_id=washer-7,type=washer ")


def test_second_precision_rounds_to_whole_seconds() -> None:
    encoder = LineEncoder(precision="s")
    (line,) = encoder.lines([Reading("d", 1_764_040_000.75, 1, {"x": 1.0})])
    assert line.endswith(" 1764040001")


def test_booleans_and_integers_are_written_as_float_fields() -> None:
    (line,) = LineEncoder().lines([Reading("d", 1.0, 1, {"door_open": True, "cycles": 3})])
    assert "door_open=1.0,cycles=3.0,seq=1i" in line


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_metric_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="metric 'x'"):
        LineEncoder().lines([Reading("d", 1.0, 1, {"x": value})])


@pytest.mark.parametrize(
    "name", ["seq", "_time", "type", "device_id", "table", "result", "time", "", "%"]
)
def test_names_influxdb_or_flux_reserve_are_stored_under_another_name(name: str) -> None:
    stored = encode_name(name, field=True)
    assert stored != name
    assert decode_name(stored) == name


@given(st.text(max_size=40))
def test_any_name_survives_encoding_and_needs_no_escaping(name: str) -> None:
    for field in (False, True):
        stored = encode_name(name, field=field)
        assert PLAIN.fullmatch(stored), stored
        assert decode_name(stored) == name


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_ns_timestamps_round_trip_so_a_rewrite_hits_the_same_point(ts: float) -> None:
    stamp = timestamp(ts, "ns")
    assert stamp == timestamp(ts, "ns")
    assert timestamp(from_timestamp(stamp, "ns"), "ns") == stamp
    assert abs(from_timestamp(stamp, "ns") - ts) <= 1e-6
