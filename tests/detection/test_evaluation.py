"""Scoring alarms against labelled episodes."""

from __future__ import annotations

import pytest

from detection.evaluation import Episode, format_report, score
from domain import Anomaly, AnomalySource, FaultCode, Severity

DRIFT = FaultCode.FRIDGE_TEMP_DRIFT
STUCK = FaultCode.SENSOR_STUCK


def alarm(device: str, code: FaultCode, at: float, update: str = "opened") -> Anomaly:
    return Anomaly(device, code, Severity.HIGH, at, at - 10, 0.9, "", {"alarm": {"update": update}})


EPISODES = [
    Episode("a", DRIFT, 100.0),
    Episode("b", DRIFT, 100.0),
    Episode("c", STUCK, 50.0, end_ts=500.0),
]


def test_matching_per_device_and_code() -> None:
    report = score(
        EPISODES,
        [
            alarm("a", DRIFT, 160.0),  # found, 60 s late
            alarm("a", DRIFT, 900.0),  # the same episode again: a duplicate, not false
            alarm("a", DRIFT, 950.0, update="escalated"),  # not a new alarm at all
            alarm("b", STUCK, 300.0),  # wrong code on b: false
            alarm("c", STUCK, 700.0),  # after the episode ended: false
            alarm("d", DRIFT, 10.0),  # a healthy device: false
        ],
        device_days=4.0,
        end_ts=1000.0,
    )
    drift, stuck = report.codes[DRIFT], report.codes[STUCK]
    assert (drift.episodes, drift.found, drift.alarms, drift.false_alarms) == (2, 1, 3, 1)
    assert drift.duplicates == 1
    assert drift.recall == 0.5
    assert drift.precision == pytest.approx(2 / 3)
    assert drift.delays_s == [60.0]
    assert (stuck.found, stuck.alarms, stuck.false_alarms) == (0, 2, 2)
    assert report.false_alarms == 3
    assert report.false_per_kdd == pytest.approx(750.0)
    assert not report.meets(recall=0.95, precision=0.95, false_per_kdd=1.0)


def test_delay_quantiles_and_a_clean_report() -> None:
    episodes = [Episode(f"d{i}", DRIFT, 0.0) for i in range(10)]
    alarms = [alarm(f"d{i}", DRIFT, 60.0 * (i + 1)) for i in range(10)]
    report = score(episodes, alarms, device_days=1000.0, end_ts=1e6, codes=[STUCK])
    drift = report.codes[DRIFT]
    assert drift.median_delay_s == pytest.approx(330.0)
    assert drift.p90_delay_s == pytest.approx(546.0)
    assert drift.f1 == 1.0
    assert report.codes[STUCK].recall is None and report.codes[STUCK].precision is None
    assert report.meets(recall=0.95, precision=0.95, false_per_kdd=1.0)
    table = format_report(report)
    assert "FRIDGE_TEMP_DRIFT" in table and "0.00 per 1,000 device-days" in table


def test_alarms_and_false_alarms_are_counted_per_source() -> None:
    def raised(device: str, at: float, source: AnomalySource) -> Anomaly:
        evidence = {"source": source.value}
        return Anomaly(device, DRIFT, Severity.HIGH, at, at, 0.9, "", evidence)

    found = [
        raised("f-1", 1000.0, AnomalySource.TELEMETRY),  # matches the labelled drift
        raised("f-9", 2000.0, AnomalySource.ERROR_CODE),  # a healthy unit's spurious code
        raised("f-8", 3000.0, AnomalySource.FLEET_MODEL),
    ]
    report = score([Episode("f-1", DRIFT, 500.0)], found, device_days=10.0, end_ts=10_000.0)
    assert report.sources == {
        AnomalySource.ERROR_CODE: [1, 1],
        AnomalySource.FLEET_MODEL: [1, 1],
        AnomalySource.TELEMETRY: [1, 0],
    }
    assert (
        "alarms by source: error_code 1 (1 false), fleet_model 1 (1 false), telemetry 1 (0 false)"
        in format_report(report)
    )
