"""The detection engine: lazy per-device detectors, and a state that survives a hand-off."""

from __future__ import annotations

import json

import pytest

from detection.engine import DetectionEngine, DetectionStateError
from detection.profiles import FridgeProfile
from device_sim.faults import FaultSpec
from device_sim.fleet import build_fridge_fleet
from device_sim.scenario import readings
from domain import Anomaly, DeviceType, FaultCode, Reading
from tests.detection.conftest import DAY, HOUR, START


@pytest.fixture(scope="module")
def stream() -> list[Reading]:
    fleet = build_fridge_fleet(
        count=4,
        seed=303,
        start_ts=START,
        faults={
            "fridge-0001": FaultSpec(FaultCode.FRIDGE_COMPRESSOR_FAILURE, START + 20 * HOUR),
            "fridge-0002": FaultSpec(FaultCode.FRIDGE_TEMP_DRIFT, START + 2 * HOUR),
        },
    )
    return list(readings(fleet, start_ts=START, duration_s=3 * DAY))


def _process(engine: DetectionEngine, rows: list[Reading]) -> list[Anomaly]:
    return [a for r in rows for a in engine.process(DeviceType.FRIDGE, r)]


def test_engine_finds_each_fault_on_its_device(stream: list[Reading]) -> None:
    engine = DetectionEngine()
    found = _process(engine, stream)
    assert [(a.device_id, a.fault_code) for a in found] == [
        ("fridge-0001", FaultCode.FRIDGE_COMPRESSOR_FAILURE),
        ("fridge-0002", FaultCode.FRIDGE_TEMP_DRIFT),
    ]
    assert engine.device_count == 4


@pytest.mark.parametrize("cut_hours", [20.5, 21.3, 40.0, 60.0])
def test_engine_state_hand_off_mid_stream_gives_identical_results(
    stream: list[Reading], cut_hours: float
) -> None:
    whole = _process(DetectionEngine(), stream)
    cut = next(i for i, r in enumerate(stream) if r.ts >= START + cut_hours * HOUR)
    first = DetectionEngine()
    before = _process(first, stream[:cut])
    saved = json.loads(json.dumps(first.state()))  # as it would travel or be stored
    second = DetectionEngine.from_state(saved)
    assert before + _process(second, stream[cut:]) == whole


def test_device_types_without_specific_detectors_get_the_generic_ones() -> None:
    engine = DetectionEngine()
    reading = Reading("washer-0001", START, 1, {"drum_rpm": 1400.0, "vibration_g": 3.0})
    assert engine.process(DeviceType.WASHER, reading) == []
    saved = engine.state()["devices"]["washer-0001"]
    assert saved["type"] == "washer"
    assert {"sensor_range", "sensor_stuck"} <= set(saved["detectors"])
    again = DetectionEngine.from_state(engine.state())
    assert again.process(DeviceType.WASHER, reading) == []  # already seen: a repeat


def test_profiles_passed_in_are_used() -> None:
    eager = FridgeProfile(compressor_min_off_run_s=600.0, compressor_warm_hold_s=60.0)
    engine = DetectionEngine({DeviceType.FRIDGE: eager})
    rows = [
        Reading("f", i * 60.0, i, {"cabinet_temp_c": 4.0 + 0.1 * i, "compressor_on": 0})
        for i in range(40)
    ]
    found = _process(engine, rows)
    assert [a.fault_code for a in found] == [FaultCode.FRIDGE_COMPRESSOR_FAILURE]
    assert _process(DetectionEngine(), rows) == []


def test_state_from_another_version_is_refused() -> None:
    with pytest.raises(DetectionStateError, match="version"):
        DetectionEngine.from_state({"version": 99, "devices": {}})


def test_registering_a_model_puts_its_detectors_on_that_models_profile_and_keeps_state() -> None:
    from detection.profiles import WasherProfile

    # A maker's figure for the model, as provisioned (none is built in).
    WASHER_MODEL_PROFILES = {"WM-700": WasherProfile(bearing_rated_current_a=1.7)}
    engine = DetectionEngine(model_profiles=WASHER_MODEL_PROFILES)
    washer = DeviceType.WASHER
    reading = Reading("w-1", 1_764_000_000.0, 1, {"drum_rpm": 0.0, "water_level_l": 0.0})
    engine.process(washer, reading)
    before = engine.state()["devices"]["w-1"]["detectors"]
    engine.register("w-1", washer, model="WM-700")
    bearing = engine._devices["w-1"].detectors["bearing_wear"]
    assert bearing.profile is WASHER_MODEL_PROFILES["WM-700"]
    assert engine.state()["devices"]["w-1"]["detectors"] == before, "rebuilt from its state"
    resumed = DetectionEngine.from_state(engine.state(), model_profiles=WASHER_MODEL_PROFILES)
    assert (
        resumed._devices["w-1"].detectors["bearing_wear"].profile == WASHER_MODEL_PROFILES["WM-700"]
    )
    engine.register("w-2", washer, model="WM-unknown")
    assert engine._devices["w-2"].detectors["bearing_wear"].profile == engine.profiles[washer]


def _fridge(ts: float, seq: int, cabinet: float, running: int) -> Reading:
    metrics = {"cabinet_temp_c": cabinet, "setpoint_c": 4.0, "compressor_on": running}
    return Reading("f-1", ts, seq, metrics)


def test_a_fault_shows_until_its_own_clear_condition_holds() -> None:
    engine = DetectionEngine()
    code = FaultCode.FRIDGE_COMPRESSOR_FAILURE
    assert engine.clear_status("f-1", code) is None  # never seen
    seq, found = 0, []
    for minute in range(6 * 60):  # the compressor stops; the cabinet warms
        seq += 1
        reading = _fridge(START + 60 * minute, seq, 4.0 + min(minute, 400) * 0.03, 0)
        found += engine.process(DeviceType.FRIDGE, reading)
    assert [a.fault_code for a in found] == [code]
    status = engine.clear_status("f-1", code)
    assert status is not None and status.present and "has not run" in status.detail
    assert engine.take_cleared() == []
    repaired_at = START + 6 * HOUR
    for minute in range(60):  # repaired: it runs and the cabinet cools
        seq += 1
        engine.process(DeviceType.FRIDGE, _fridge(repaired_at + 60 * minute, seq, 8.0, 1))
    status = engine.clear_status("f-1", code)
    assert status is not None and not status.present
    assert status.cleared_since == repaired_at
    assert engine.take_cleared() == [("f-1", code, repaired_at)]


def test_an_offline_device_coming_back_is_reported_cleared() -> None:
    engine = DetectionEngine(scan_every_s=60.0)
    for minute in range(120):
        engine.process(DeviceType.FRIDGE, _fridge(START + 60 * minute, minute + 1, 4.0, minute % 3))
        engine.advance(START + 60 * minute)
    # Silence for six hours of fleet time (another device keeps event time moving).
    for minute in range(120, 480):
        other = Reading("f-2", START + 60 * minute, minute, {"cabinet_temp_c": 4.0})
        engine.process(DeviceType.FRIDGE, other)
        found = engine.advance(START + 60 * minute)
        assert all(a.device_id == "f-1" for a in found)
    status = engine.clear_status("f-1", FaultCode.DEVICE_OFFLINE)
    assert status is not None and status.present
    back = START + 480 * 60
    engine.process(DeviceType.FRIDGE, _fridge(back, 500, 4.0, 1))
    assert ("f-1", FaultCode.DEVICE_OFFLINE, back) in engine.take_cleared()
