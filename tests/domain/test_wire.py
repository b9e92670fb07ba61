"""The wire contract: what decodes, and the exact reason for what does not."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import Reading
from domain.wire import (
    MAX_ABS_METRIC,
    MAX_PAYLOAD_BYTES,
    MAX_SEQ,
    MIN_TS,
    Channel,
    PayloadRejected,
    RejectReason,
    decode_reading,
    encode_reading,
    parse_topic,
    topic_for,
)


def reason_of(payload: bytes, device_id: str = "fridge-0001") -> RejectReason:
    with pytest.raises(PayloadRejected) as caught:
        decode_reading(device_id, payload)
    return caught.value.reason


def test_a_contract_reading_decodes() -> None:
    payload = (
        b'{"ts": 1764040000.25, "seq": 1812, "metrics": {"cabinet_temp_c": 4.1, "door_open": 0}}'
    )
    reading = decode_reading("fridge-0001", payload)
    assert reading == Reading(
        "fridge-0001", 1764040000.25, 1812, {"cabinet_temp_c": 4.1, "door_open": 0.0}
    )


def test_rfc3339_timestamp_with_offset_is_accepted() -> None:
    reading = decode_reading(
        "f", b'{"ts": "2025-11-25T03:06:40+00:00", "seq": 1, "metrics": {"a": 1}}'
    )
    assert reading.ts == 1764040000.0


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", RejectReason.BAD_JSON),
        (b"\xff\xfe", RejectReason.BAD_JSON),
        (b'{"ts": 1764040000, "seq": 1}', RejectReason.MISSING_FIELDS),
        (b'{"seq": 1, "metrics": {"a": 1}}', RejectReason.MISSING_FIELDS),
        (b'{"ts": 1764040000, "seq": 1, "metrics": {}}', RejectReason.MISSING_FIELDS),
        (b'{"ts": 1764040000, "seq": 1, "metrics": {"a": NaN}}', RejectReason.NON_FINITE),
        (b'{"ts": 1764040000, "seq": 1, "metrics": {"a": Infinity}}', RejectReason.NON_FINITE),
        (b'{"ts": 1764040000, "seq": 1, "metrics": {"a": 1e999}}', RejectReason.NON_FINITE),
        (b'{"ts": NaN, "seq": 1, "metrics": {"a": 1}}', RejectReason.NON_FINITE),
        (b'{"ts": 1764040000, "seq": "one", "metrics": {"a": 1}}', RejectReason.BAD_SCHEMA),
        (b'{"ts": "yesterday", "seq": 1, "metrics": {"a": 1}}', RejectReason.BAD_SCHEMA),
        (b'{"ts": "2025-11-25T03:06:40", "seq": 1, "metrics": {"a": 1}}', RejectReason.BAD_SCHEMA),
        (b"[1, 2]", RejectReason.BAD_SCHEMA),
        (
            b'{"ts": 1764040000, "seq": 1, "metrics": {"a": 1}, "device_id": "fridge-0002"}',
            RejectReason.DEVICE_MISMATCH,
        ),
        (
            b'{"ts": 1764040000, "seq": 1, "metrics": {"a": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}}',
            RejectReason.OVERSIZE,
        ),
    ],
)
def test_each_broken_payload_is_rejected_with_its_reason(
    payload: bytes, reason: RejectReason
) -> None:
    assert reason_of(payload) is reason


def test_payload_naming_its_own_device_is_accepted() -> None:
    payload = b'{"ts": 1764040000, "seq": 1, "metrics": {"a": 1}, "device_id": "fridge-0001"}'
    assert decode_reading("fridge-0001", payload).device_id == "fridge-0001"


def test_topics_round_trip_and_foreign_topics_are_refused() -> None:
    assert parse_topic(topic_for("ac-7", Channel.STATUS)) == ("ac-7", Channel.STATUS)
    assert parse_topic("home/x/telemetry", prefix="home") == ("x", Channel.TELEMETRY)
    for topic in (
        "devices/telemetry",
        "other/x/telemetry",
        "devices/x/y/telemetry",
        "devices/x/nope",
    ):
        with pytest.raises(PayloadRejected) as caught:
            parse_topic(topic)
        assert caught.value.reason is RejectReason.BAD_TOPIC


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


metric_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.:/-]{0,19}", fullmatch=True)
in_range = st.floats(min_value=-MAX_ABS_METRIC, max_value=MAX_ABS_METRIC)


@given(
    ts=st.floats(min_value=MIN_TS, max_value=4e9),
    seq=st.integers(min_value=0, max_value=MAX_SEQ),
    metrics=st.dictionaries(metric_names, in_range, min_size=1, max_size=10),
)
def test_encode_then_decode_is_identity(ts: float, seq: int, metrics: dict[str, float]) -> None:
    reading = Reading("dev-1", ts, seq, metrics)
    assert decode_reading("dev-1", encode_reading(reading, include_device_id=True)) == reading


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_either_decode_or_raise_payload_rejected(payload: bytes) -> None:
    try:
        reading = decode_reading("dev-1", payload)
    except PayloadRejected as rejected:
        assert isinstance(rejected.reason, RejectReason)
    else:
        assert json.loads(payload)["seq"] == reading.seq


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b'{"ts": 1764040000, "seq": 9223372036854775808, "metrics": {"a": 1}}', "seq 2^63"),
        (b'{"ts": 1764040000, "seq": 99999999999999999999999, "metrics": {"a": 1}}', "seq 1e23"),
        (b'{"ts": 1764040000, "seq": -1, "metrics": {"a": 1}}', "negative seq"),
        (b'{"ts": -1e300, "seq": 1, "metrics": {"a": 1}}', "ts -1e300"),
        (b'{"ts": "0001-01-01T00:00:00+00:00", "seq": 1, "metrics": {"a": 1}}', "year 0001"),
        (b'{"ts": 12, "seq": 1, "metrics": {"a": 1}}', "a clock never set"),
        (b'{"ts": 1764040000, "seq": 1, "metrics": {"a": 1e300}}', "an absurd value"),
    ],
)
def test_values_no_store_or_detector_can_hold_are_rejected_at_the_edge(
    payload: bytes, why: str
) -> None:
    assert reason_of(payload) is RejectReason.OUT_OF_RANGE, why


@pytest.mark.parametrize("name", ["", "a\x00b", "x" * 65, "1abc", "temp c", "caf\u00e9"])
def test_metric_names_that_are_empty_hold_nul_or_odd_characters_are_rejected(name: str) -> None:
    payload = json.dumps({"ts": 1764040000, "seq": 1, "metrics": {name: 1.0}}).encode()
    with pytest.raises(PayloadRejected) as caught:
        decode_reading("fridge-0001", payload)
    assert caught.value.reason is RejectReason.BAD_SCHEMA
    assert "metric name" in caught.value.detail
