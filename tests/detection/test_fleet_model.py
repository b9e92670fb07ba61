"""The fleet model (UNCLASSIFIED_ANOMALY): scikit-learn's rules, the sign, batching, and
firing only when nothing specific explains the oddity."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from sklearn.base import clone

from detection.engine import DetectionEngine
from detection.fleet_model import FleetModel, HourlyFeatures
from detection.profiles.health import HEALTH_PROFILES
from domain import Anomaly, AnomalySource, DeviceType, FaultCode, Reading, source_of
from domain.wire import ApplianceEvent
from tests.detection.conftest import HOUR, START

FRIDGE = DeviceType.FRIDGE
METRICS = HEALTH_PROFILES[FRIDGE].fleet_metrics


def _reading(device_id: str, minute: int, rng: np.random.Generator, noisy: bool) -> Reading:
    phase = (minute % 40) / 40.0
    cabinet = 4.0 + (phase if phase < 0.5 else 1.0 - phase) * 2.0 + rng.normal(0, 0.05)
    if noisy:
        cabinet += rng.normal(0.0, 1.5)
    return Reading(
        device_id,
        START + 60.0 * minute,
        minute + 1,
        {
            "cabinet_temp_c": round(cabinet, 1),
            "freezer_temp_c": round(-18.0 + rng.normal(0, 0.3), 1),
            "compressor_on": float(phase >= 0.5),
            "door_open": float(rng.random() < 0.02),
            "power_w": round(90.0 * (phase >= 0.5) + 6.0 + rng.normal(0, 0.5), 1),
        },
    )


def _rows(devices: int, hours: int, seed: int) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    out = []
    for d in range(devices):
        acc = HourlyFeatures(METRICS)
        for minute in range(hours * 60 + 1):
            closed = acc.add(*_as_pair(_reading(f"t-{d}", minute, rng, False)))
            if closed is not None:
                out.append(closed[1])
    return out


def _as_pair(r: Reading) -> tuple[float, dict[str, float]]:
    return r.ts, dict(r.metrics)


@pytest.fixture(scope="module")
def model() -> FleetModel:
    return FleetModel(n_estimators=50, random_state=0).fit({"fridge": _rows(20, 24, seed=1)})


def test_follows_scikit_learn_estimator_rules(model: FleetModel) -> None:
    fresh = FleetModel(n_estimators=7, threshold_quantile=0.99)
    assert fresh.get_params()["n_estimators"] == 7
    assert not [k for k in vars(fresh) if k.endswith("_")]  # no work in __init__
    assert clone(fresh).get_params() == fresh.get_params()
    x = np.random.default_rng(0).normal(size=(50, 3))
    assert fresh.fit({"g": x}) is fresh
    assert {"forests_", "threshold_", "low_", "high_"} <= {k for k in vars(fresh)}


def test_higher_abnormality_means_more_abnormal(model: FleetModel) -> None:
    normal = np.array(_rows(2, 6, seed=9))
    weird = normal.copy()
    weird[:, 1:4] += 5.0  # cabinet std, roughness, noise floor: a sensor scattering wildly
    assert model.abnormality("fridge", weird).min() > model.abnormality("fridge", normal).max()
    _, flagged = model.outliers("fridge", weird)
    assert flagged.all()
    assert not model.outliers("fridge", normal)[1].any()


def test_same_seed_same_scores_and_pickles(model: FleetModel) -> None:
    rows = np.array(_rows(2, 4, seed=3))
    again = FleetModel(n_estimators=50, random_state=0).fit({"fridge": _rows(20, 24, seed=1)})
    assert np.array_equal(model.abnormality("fridge", rows), again.abnormality("fridge", rows))
    restored = pickle.loads(pickle.dumps(model))
    assert np.array_equal(model.abnormality("fridge", rows), restored.abnormality("fridge", rows))


def _run(
    engine: DetectionEngine, hours: int, noisy_from: dict[str, int], events: bool = False
) -> list[Anomaly]:
    rng = np.random.default_rng(11)
    found: list[Anomaly] = []
    for minute in range(hours * 60):
        for d in range(6):
            device_id = f"f-{d}"
            start = noisy_from.get(device_id)
            noisy = start is not None and minute >= start * 60
            found += engine.process(FRIDGE, _reading(device_id, minute, rng, noisy))
        if events and minute == 2 * 60:
            found += engine.process_event(FRIDGE, ApplianceEvent("f-1", START + 7200, "E22", ""))
        if minute % 10 == 0:
            found += engine.advance()
    return found + engine.advance()


def test_a_scattering_sensor_raises_one_unclassified_alarm(model: FleetModel) -> None:
    found = _run(DetectionEngine(fleet_model=model), 14, {"f-1": 4})
    assert [(a.device_id, a.fault_code) for a in found] == [("f-1", FaultCode.UNCLASSIFIED_ANOMALY)]
    (alarm,) = found
    assert alarm.onset_at == START + 4 * HOUR
    assert alarm.evidence["metric"] == "cabinet_temp_c"
    assert alarm.evidence["moved"][0]["z"] > 3
    assert alarm.diagnosis["fault_code"] == "UNCLASSIFIED_ANOMALY"
    assert source_of(alarm) is AnomalySource.FLEET_MODEL


def test_silent_when_a_specific_alarm_explains_the_device(model: FleetModel) -> None:
    found = _run(DetectionEngine(fleet_model=model), 14, {"f-1": 4}, events=True)
    assert [a.fault_code for a in found] == [FaultCode.APPLIANCE_ERROR_CODE]


def test_unclassified_state_survives_a_hand_off(model: FleetModel) -> None:
    whole = _run(DetectionEngine(fleet_model=model), 14, {"f-1": 4})
    first = DetectionEngine(fleet_model=model)
    got = _run(first, 5, {"f-1": 4})
    saved = json.loads(json.dumps(first.state()))
    second = DetectionEngine.from_state(saved, fleet_model=model)
    rng_offset = 5  # _run restarts its clock at START: replay the remaining hours directly
    rng = np.random.default_rng(11)
    for minute in range(14 * 60):
        for d in range(6):
            reading = _reading(f"f-{d}", minute, rng, d == 1 and minute >= 4 * 60)
            if minute >= rng_offset * 60:
                got += second.process(FRIDGE, reading)
        if minute >= rng_offset * 60 and minute % 10 == 0:
            got += second.advance()
    got += second.advance()
    assert got == whole


def _battery_hour(rng: np.random.Generator, *, busy_minutes: int, noise: float) -> list[float]:
    """One hour of a pack: `busy_minutes` of varying load, then docked; `noise`: the
    voltage sensor's scatter."""
    acc = HourlyFeatures(("voltage_v", "current_a"), rest_metric="current_a", rest_tolerance=0.05)
    for minute in range(61):
        busy = minute < busy_minutes
        current = float(rng.uniform(0.5, 3.0)) if busy else 0.0
        volts = 16.8 - 0.4 * current + rng.normal(0.0, noise)
        closed = acc.add(
            START + 60.0 * minute, {"voltage_v": round(volts, 2), "current_a": current}
        )
        if closed is not None:
            return closed[1]
    raise AssertionError("the hour did not close")


def test_rest_scatter_tells_a_noisy_sensor_from_a_busy_hour() -> None:
    rng = np.random.default_rng(3)
    v_rest = 4  # voltage_v: mean, std, rough, floor, rest
    busy = _battery_hour(rng, busy_minutes=60, noise=0.0)
    docked_healthy = _battery_hour(rng, busy_minutes=20, noise=0.0)
    docked_noisy = _battery_hour(rng, busy_minutes=20, noise=0.2)
    assert busy[v_rest] == 0.0, "never at rest: no rest figure"
    assert docked_healthy[v_rest] < 0.02
    assert docked_noisy[v_rest] > 0.1
    # The busy hour's own scatter is larger than the noisy sensor's: the floor alone
    # (index 3) cannot tell them apart, the rest figure can.
    assert busy[2] > docked_noisy[2]
    names = HEALTH_PROFILES[DeviceType.BATTERY_PACK].feature_names()
    assert names[v_rest] == "voltage_v_rest" and len(names) == 4 * 5
