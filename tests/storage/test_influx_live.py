"""Against a real InfluxDB 2.x: writes, Flux history queries, counts, start-up checks.

InfluxDB 2.x is not packaged for Debian, so these run only when you point them at one:

    FAULTLINE_TEST_INFLUX_URL=http://127.0.0.1:8086 FAULTLINE_TEST_INFLUX_ORG=home \\
    FAULTLINE_TEST_INFLUX_TOKEN=... [FAULTLINE_TEST_INFLUX_BUCKET=telemetry] \\
    python3 -m pytest tests/storage/test_influx_live.py

The token needs read and write access to the bucket. Each run writes to device ids of
its own, so it can share a bucket with anything else.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from domain import Reading
from storage.influx_telemetry import InfluxConfigError, InfluxTelemetryStore

URL = os.environ.get("FAULTLINE_TEST_INFLUX_URL", "")
pytestmark = pytest.mark.skipif(
    not URL,
    reason="no InfluxDB 2.x here (not packaged for Debian): set FAULTLINE_TEST_INFLUX_URL, "
    "_ORG, _TOKEN (and _BUCKET) to run against one; the write path is tested against "
    "VictoriaMetrics in test_influx_telemetry.py",
)
ORG = os.environ.get("FAULTLINE_TEST_INFLUX_ORG", "faultline")
BUCKET = os.environ.get("FAULTLINE_TEST_INFLUX_BUCKET", "telemetry")
TOKEN = os.environ.get("FAULTLINE_TEST_INFLUX_TOKEN", "")
START = 1_764_000_000.5


def _store(**overrides: object) -> InfluxTelemetryStore:
    options: dict[str, object] = {
        "url": URL,
        "org": ORG,
        "bucket": BUCKET,
        "token": TOKEN,
        "device_type": lambda _device_id: "fridge",
    }
    options.update(overrides)
    return InfluxTelemetryStore(**options)  # type: ignore[arg-type]


@pytest.fixture
def store() -> Iterator[InfluxTelemetryStore]:
    opened = _store()
    opened.verify()
    yield opened
    opened.close()


@pytest.fixture
def device_id() -> str:
    return f"test fridge,{uuid.uuid4().hex[:8]}"  # a space and a comma: escaping matters


def _readings(device_id: str, count: int) -> list[Reading]:
    return [
        Reading(device_id, START + 30.0 * i, i + 1, {"cabinet_temp_c": 4.0 + i / 10, "power_w": 90.0})
        for i in range(count)
    ]  # fmt: skip


def test_written_readings_come_back_through_flux_oldest_first(
    store: InfluxTelemetryStore, device_id: str
) -> None:
    readings = _readings(device_id, 25)
    store.write(readings)
    store.write(readings[5:15])  # rewritten: overwrites, no duplicates
    assert store.query(device_id=device_id, limit=100) == readings
    assert store.count(device_id) == 25


def test_metric_filter_time_range_and_cursor_pages(
    store: InfluxTelemetryStore, device_id: str
) -> None:
    readings = _readings(device_id, 12)
    readings.append(Reading(device_id, START + 1000.0, 99, {"door_open": 1.0}))
    store.write(readings)
    only_power = store.query(device_id=device_id, metric="power_w", limit=100)
    assert [r.seq for r in only_power] == list(range(1, 13))
    assert all(dict(r.metrics) == {"power_w": 90.0} for r in only_power)
    window = store.query(device_id=device_id, start=START + 60, end=START + 150)
    assert [r.seq for r in window] == [3, 4, 5]
    first = store.query(device_id=device_id, limit=5)
    rest = store.query(device_id=device_id, after=(first[-1].ts, first[-1].seq), limit=100)
    assert [r.seq for r in first + rest] == [*range(1, 13), 99]


def test_a_missing_bucket_is_reported_at_start() -> None:
    store = _store(bucket=f"missing-{uuid.uuid4().hex[:8]}")
    try:
        with pytest.raises(InfluxConfigError, match="not found in org"):
            store.verify()
    finally:
        store.close()


def test_a_wrong_token_is_reported_at_start() -> None:
    store = _store(token="not-a-token")
    try:
        with pytest.raises(InfluxConfigError, match="FAULTLINE_TELEMETRY_TOKEN"):
            store.verify()
    finally:
        store.close()
