"""Retention in the embedded store: raw readings for N days of event time (relative to the
newest reading), hourly min/mean/max after, and no reading counted twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain import Reading
from faultline.retention import RetentionSchedule
from storage.embedded_telemetry import EmbeddedTelemetryStore
from tests.service_harness import wait_until

HOUR = 3600.0
DAY = 86_400.0
START = 1_764_028_800.0  # on the hour


def _day_of_readings(day: int, device_id: str = "fridge-0001") -> list[Reading]:
    """One reading every 10 minutes; cabinet_temp_c counts minutes within the hour."""
    readings = []
    for i in range(144):
        ts = START + day * DAY + i * 600.0
        seq = day * 144 + i + 1
        readings.append(
            Reading(device_id, ts, seq, {"cabinet_temp_c": float(i % 6 * 10), "power_w": 90.0})
        )
    return readings


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedTelemetryStore]:
    opened = EmbeddedTelemetryStore(tmp_path / "telemetry.db")
    yield opened
    opened.close()


def test_readings_older_than_the_raw_window_become_hourly_min_mean_max(
    store: EmbeddedTelemetryStore,
) -> None:
    for day in range(5):
        store.write(_day_of_readings(day))
    report = store.compact(raw_days=2)
    newest = START + 4 * DAY + 143 * 600.0
    # Two days before the newest reading (day 2, 23:50), down to the hour.
    assert report.cutoff == START + 2 * DAY + 23 * HOUR
    assert newest - 2 * DAY - HOUR < report.cutoff <= newest - 2 * DAY
    assert report.readings_folded == 2 * 144 + 23 * 6
    raw = store.query(device_id="fridge-0001", limit=10_000)
    assert raw[0].ts == report.cutoff and len(raw) == 5 * 144 - report.readings_folded
    hours = store.hourly(device_id="fridge-0001", metric="cabinet_temp_c")
    assert len(hours) == 48 + 23
    assert (hours[0].hour, hours[0].count, hours[0].min, hours[0].mean, hours[0].max) == (
        START,
        6,
        0.0,
        25.0,
        50.0,
    )
    assert {h.metric for h in store.hourly(device_id="fridge-0001")} == {
        "cabinet_temp_c",
        "power_w",
    }
    assert store.compact(raw_days=2).readings_folded == 0  # nothing new to fold


def test_a_reading_redelivered_after_its_hour_was_folded_is_not_counted_twice(
    store: EmbeddedTelemetryStore, tmp_path: Path
) -> None:
    for day in range(4):
        store.write(_day_of_readings(day))
    store.compact(raw_days=1)
    old = _day_of_readings(0)[:6]
    assert store.write(old) == 0
    store.close()
    reopened = EmbeddedTelemetryStore(tmp_path / "telemetry.db")  # the marks are on disk
    try:
        assert reopened.write(old) == 0
        reopened.compact(raw_days=1)
        assert reopened.hourly(device_id="fridge-0001", metric="power_w")[0].count == 6
    finally:
        reopened.close()


def test_a_late_backlog_older_than_the_window_is_kept_and_folded_next_time(
    store: EmbeddedTelemetryStore,
) -> None:
    for day in range(4):
        store.write(_day_of_readings(day))
    store.compact(raw_days=1)
    backlog = Reading("fridge-0001", START + 30.0, 100_000, {"cabinet_temp_c": 99.0})
    assert store.write([backlog]) == 1
    assert store.compact(raw_days=1).readings_folded == 1
    first_hour = store.hourly(device_id="fridge-0001", metric="cabinet_temp_c", end=START + 1)
    assert (first_hour[0].count, first_hour[0].max) == (7, 99.0)


def test_the_window_follows_the_newest_reading_of_any_device(
    store: EmbeddedTelemetryStore,
) -> None:
    store.write(_day_of_readings(0, "fridge-0001"))
    store.write(_day_of_readings(3, "fridge-0002"))
    report = store.compact(raw_days=1)
    assert report.devices == 1
    assert store.query(device_id="fridge-0001") == []
    assert len(store.hourly(device_id="fridge-0001", metric="power_w")) == 24
    assert len(store.query(device_id="fridge-0002", limit=1000)) == 144


def test_the_service_schedule_compacts_at_start_and_then_periodically(
    store: EmbeddedTelemetryStore,
) -> None:
    schedule = RetentionSchedule(store, raw_days=1, every_s=0.05)
    for day in range(3):
        store.write(_day_of_readings(day))
    schedule.start()
    try:
        wait_until(lambda: schedule.runs >= 1, 5, "the first retention run")
        assert schedule.last is not None and schedule.last.readings_folded > 0
        store.write(_day_of_readings(3))
        wait_until(
            lambda: store.query(device_id="fridge-0001", limit=1)[0].ts >= START + 2 * DAY,
            5,
            "a later run",
        )
    finally:
        schedule.stop()
    assert schedule.failures == 0


def test_raw_days_must_be_positive(store: EmbeddedTelemetryStore) -> None:
    with pytest.raises(ValueError, match="positive"):
        store.compact(raw_days=0)
