"""Generic sensor detectors: a stuck sensor and a railed one, on every device type."""

from __future__ import annotations

import random

import pytest

from detection.engine import DetectionEngine
from detection.hygiene import AlarmStream, policy_for
from detection.profiles.health import HEALTH_PROFILES, HealthProfile, MetricSpec
from detection.sensor import OutOfRangeDetector, StuckSensorDetector
from device_sim import kinds
from device_sim.faults import FaultSpec
from device_sim.sensor_faults import SensorFailure, SensorFault, apply_sensor_faults
from domain import Anomaly, DeviceType, FaultCode, Reading
from tests.detection.conftest import HOUR, START

PROFILE = HealthProfile(
    metrics=(
        MetricSpec("t", -35.0, 60.0, stuck_after_s=HOUR),
        MetricSpec("level", 0.0, 100.0, stuck_after_s=20 * 60.0, moving_while=("phase", 1.0)),
        MetricSpec("phase", 0.0, 10.0),
    )
)


def _unit_readings(device_type: DeviceType, hours: float, seed: int = 5) -> list[Reading]:
    kind = kinds.kind(device_type)
    unit = kind.sample(f"{kind.id_prefix}-0001", seed, model=kind.models[0], fault=None)
    bank = kind.bank([unit], start_ts=START, interval_s=60.0)
    return [
        Reading(unit.device_id, ts, bank.seq, {k: v[0] for k, v in metrics.items()})
        for ts, metrics in bank.ticks(hours * HOUR)
    ]


def _alarms(device_type: DeviceType, rows: list[Reading]) -> list[Anomaly]:
    engine = DetectionEngine()
    return [a for r in rows for a in engine.process(device_type, r)]


@pytest.mark.parametrize("device_type", list(DeviceType))
def test_every_sensor_that_can_fail_is_covered_by_the_health_profile(
    device_type: DeviceType,
) -> None:
    profile = HEALTH_PROFILES[device_type]
    for sensor in kinds.kind(device_type).sensors:
        spec = profile.spec(sensor.metric)
        assert spec is not None, sensor.metric
        assert spec.stuck_after_s is not None, f"{sensor.metric} is never judged stuck"
        for broken in sensor.broken:
            assert not spec.low <= broken <= spec.high, f"{sensor.metric} railed at {broken}"


def test_stuck_sensor_fires_after_its_limit_with_onset_when_it_froze() -> None:
    detector = StuckSensorDetector(PROFILE)
    found = [
        detector.update(Reading("d", 60.0 * i, i, {"t": 4.0 + (0.1 * (i % 7) if i < 100 else 0)}))
        for i in range(200)
    ]
    first = next(a for a in found if a is not None)
    assert first.fault_code is FaultCode.SENSOR_STUCK
    assert first.onset_at == 100 * 60.0
    assert first.detected_at == 160 * 60.0
    assert first.evidence["metric"] == "t"
    assert first.evidence["normal_max_unchanged_min"] == 60.0
    assert detector.stuck_ == ("t",)


def test_a_metric_only_has_to_move_while_the_appliance_runs() -> None:
    detector = StuckSensorDetector(PROFILE)
    rows = []
    for i in range(24 * 60):  # level sits at 0 all day; the machine runs 10 minutes an hour
        running = i % 60 < 10
        rows.append(Reading("w", 60.0 * i, i, {"level": 0.0, "phase": 2.0 if running else 0.0}))
    found = [a for r in rows if (a := detector.update(r)) is not None]
    assert found and found[0].detected_at == 120 * 60.0  # 9 + 10 + 1 running minutes


def test_a_gap_in_the_data_does_not_count_as_frozen_time() -> None:
    detector = StuckSensorDetector(PROFILE)
    rows = [Reading("d", 0.0, 1, {"t": 4.0}), Reading("d", 5 * HOUR, 2, {"t": 4.0})]
    assert [detector.update(r) for r in rows] == [None, None]


def test_railed_sensor_fires_and_a_loose_connector_too() -> None:
    profile = HEALTH_PROFILES[DeviceType.FRIDGE]
    rng = random.Random(3)
    for share in (1.0, 0.25):
        detector = OutOfRangeDetector(profile)
        hits = []
        for i in range(200):
            value = -40.0 if rng.random() < share else 4.0 + rng.random()
            found = detector.update(Reading("f", 60.0 * i, i, {"cabinet_temp_c": value}))
            hits += [found] if found else []
        assert hits and hits[0].evidence["baseline"] == [-35.0, 60.0]


def test_scattered_impossible_values_are_not_a_broken_sensor() -> None:
    detector = OutOfRangeDetector(HEALTH_PROFILES[DeviceType.WASHER])
    rng = random.Random(4)
    rows = [
        Reading("w", 60.0 * i, i, {"water_level_l": round(rng.gauss(0.0, 4.0), 2)})
        for i in range(2000)
    ]
    stream = AlarmStream(FaultCode.SENSOR_OUT_OF_RANGE, policy_for(FaultCode.SENSOR_OUT_OF_RANGE))
    assert [r for r in rows if stream.observe(r.ts, detector.update(r))] == []


@pytest.mark.parametrize("device_type", list(DeviceType))
def test_normal_life_raises_no_sensor_alarm(device_type: DeviceType) -> None:
    assert _alarms(device_type, _unit_readings(device_type, 36)) == []


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (SensorFailure.STUCK, FaultCode.SENSOR_STUCK),
        (SensorFailure.OUT_OF_RANGE, FaultCode.SENSOR_OUT_OF_RANGE),
    ],
)
@pytest.mark.parametrize("device_type", [DeviceType.FRIDGE, DeviceType.AIR_CONDITIONER])
def test_a_failed_sensor_raises_exactly_its_own_alarm(
    device_type: DeviceType, failure: SensorFailure, code: FaultCode
) -> None:
    rows = _unit_readings(device_type, 24)
    metric = kinds.kind(device_type).sensors[0]
    fault = SensorFault(
        rows[0].device_id,
        failure,
        metric.metric,
        START + 6 * HOUR,
        value=metric.broken[0] if failure is SensorFailure.OUT_OF_RANGE else None,
    )
    alarms = _alarms(device_type, list(apply_sensor_faults(rows, [fault])))
    assert [a.fault_code for a in alarms] == [code]
    (alarm,) = alarms
    assert alarm.evidence["metric"] == metric.metric
    assert fault.onset_ts - 60.0 <= alarm.onset_at <= alarm.detected_at <= fault.onset_ts + 2 * HOUR


def test_state_round_trip_resumes_a_stuck_run() -> None:
    rows = [Reading("d", 60.0 * i, i, {"t": 4.0}) for i in range(100)]
    whole = StuckSensorDetector(PROFILE)
    expected = [whole.update(r) is not None for r in rows]
    first = StuckSensorDetector(PROFILE)
    got = [first.update(r) is not None for r in rows[:30]]
    second = StuckSensorDetector.from_state(PROFILE, first.state())
    got += [second.update(r) is not None for r in rows[30:]]
    assert got == expected


GENERIC = {
    FaultCode.SENSOR_STUCK,
    FaultCode.SENSOR_OUT_OF_RANGE,
    FaultCode.DEVICE_OFFLINE,
    FaultCode.APPLIANCE_ERROR_CODE,
    FaultCode.UNCLASSIFIED_ANOMALY,
}


@pytest.mark.parametrize(
    ("device_type", "code"),
    [(t, c) for t, k in kinds.available().items() for c in k.faults],
    ids=lambda v: getattr(v, "value", v),
)
def test_the_types_own_faults_raise_no_generic_alarm(
    device_type: DeviceType, code: FaultCode
) -> None:
    kind = kinds.kind(device_type)
    fault = FaultSpec(code, START + 6 * HOUR, 1.0)
    unit = kind.sample(f"{kind.id_prefix}-0001", 17, model=kind.models[0], fault=fault)
    bank = kind.bank([unit], start_ts=START, interval_s=60.0)
    rows = [
        Reading(unit.device_id, ts, bank.seq, {k: v[0] for k, v in metrics.items()})
        for ts, metrics in bank.ticks(3 * 24 * HOUR)
    ]
    assert [a.fault_code for a in _alarms(device_type, rows) if a.fault_code in GENERIC] == []
