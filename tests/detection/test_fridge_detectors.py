"""Each fridge detector on its own: fires on its fault, once, and on nothing else."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

import pytest

from detection.catalog import CATALOG
from detection.fridge import CompressorFailureDetector, TempDriftDetector
from detection.profiles import FridgeProfile
from device_sim.faults import FaultSpec
from device_sim.fridge import FridgeUnit
from domain import Anomaly, AnomalySource, FaultCode, Reading, Severity, source_of
from tests.detection.conftest import DAY, HOUR, START, states_with_late_and_repeated

Detector = CompressorFailureDetector | TempDriftDetector


def _run(detector: Detector, stream: Iterable[Reading]) -> list[Anomaly]:
    return [a for a in map(detector.update, stream) if a is not None]


@pytest.fixture(scope="module")
def failed_compressor() -> tuple[FridgeUnit, list[Reading]]:
    onset = START + 30 * HOUR
    unit = FridgeUnit.sample(
        "fridge-cf", 61, fault=FaultSpec(FaultCode.FRIDGE_COMPRESSOR_FAILURE, onset)
    )
    return unit, list(unit.readings(start_ts=START, duration_s=40 * HOUR))


@pytest.fixture(scope="module")
def leaking() -> tuple[FridgeUnit, list[Reading]]:
    onset = START + 6 * HOUR
    unit = FridgeUnit.sample(
        "fridge-leak", 62, model="FR-500", fault=FaultSpec(FaultCode.FRIDGE_TEMP_DRIFT, onset)
    )
    return unit, list(unit.readings(start_ts=START, duration_s=3.5 * DAY))


def test_failed_compressor_is_critical_with_evidence_and_diagnosis(
    failed_compressor: tuple[FridgeUnit, list[Reading]],
) -> None:
    unit, stream = failed_compressor
    assert unit.fault is not None
    (anomaly,) = _run(CompressorFailureDetector(), stream)
    assert anomaly.device_id == "fridge-cf"
    assert anomaly.fault_code is FaultCode.FRIDGE_COMPRESSOR_FAILURE
    assert anomaly.severity is Severity.CRITICAL
    assert 0 < anomaly.detected_at - unit.fault.onset_ts <= 2.25 * HOUR
    assert abs(anomaly.onset_at - unit.fault.onset_ts) <= HOUR
    assert 0.0 <= anomaly.confidence <= 1.0
    assert "not starting" in anomaly.summary
    evidence = anomaly.evidence
    assert evidence["metric"] == "compressor_on"
    assert evidence["window_start"] == anomaly.onset_at
    assert evidence["window_end"] == anomaly.detected_at
    assert evidence["observed_cabinet_c"] > evidence["setpoint_c"] + 2
    assert evidence["off_run_min"] >= 90
    assert source_of(anomaly) is AnomalySource.TELEMETRY
    assert anomaly.diagnosis == CATALOG[FaultCode.FRIDGE_COMPRESSOR_FAILURE].as_dict()
    json.dumps({"evidence": dict(anomaly.evidence), "diagnosis": dict(anomaly.diagnosis)})


def test_leaking_fridge_drifts_warm_and_is_flagged_high_once(
    leaking: tuple[FridgeUnit, list[Reading]],
) -> None:
    unit, stream = leaking
    assert unit.fault is not None
    (anomaly,) = _run(TempDriftDetector(), stream)
    assert anomaly.fault_code is FaultCode.FRIDGE_TEMP_DRIFT
    assert anomaly.severity is Severity.HIGH
    assert unit.fault.onset_ts <= anomaly.onset_at < anomaly.detected_at
    assert anomaly.detected_at - unit.fault.onset_ts <= 3 * DAY
    evidence = anomaly.evidence
    assert evidence["duty_cycle"] >= 0.9
    assert evidence["baseline_duty_cycle"] < 0.6
    assert evidence["observed"] >= evidence["setpoint_c"] + 1.0
    assert evidence["delta"] > 0.5
    assert anomaly.diagnosis == CATALOG[FaultCode.FRIDGE_TEMP_DRIFT].as_dict()
    json.dumps(dict(anomaly.evidence))


def test_a_stopped_compressor_is_not_a_drift(
    failed_compressor: tuple[FridgeUnit, list[Reading]],
) -> None:
    assert _run(TempDriftDetector(), failed_compressor[1]) == []


def test_a_leak_is_not_a_stopped_compressor(leaking: tuple[FridgeUnit, list[Reading]]) -> None:
    assert _run(CompressorFailureDetector(), leaking[1]) == []


@pytest.mark.parametrize("kind", [CompressorFailureDetector, TempDriftDetector])
def test_state_hand_off_mid_stream_changes_nothing(
    kind: type[Detector],
    failed_compressor: tuple[FridgeUnit, list[Reading]],
    leaking: tuple[FridgeUnit, list[Reading]],
) -> None:
    stream = failed_compressor[1] if kind is CompressorFailureDetector else leaking[1]
    whole = _run(kind(), stream)
    assert len(whole) == 1
    # Hand over just before the anomaly is confirmed, in the middle of the episode.
    cut = next(i for i, r in enumerate(stream) if r.ts >= whole[0].detected_at) - 7
    first = kind()
    before = _run(first, stream[:cut])
    saved = json.loads(json.dumps(first.state()))
    resumed = kind.from_state(FridgeProfile(), saved)
    assert before + _run(resumed, stream[cut:]) == whole


def test_late_and_repeated_readings_are_ignored(
    failed_compressor: tuple[FridgeUnit, list[Reading]],
) -> None:
    noisy, clean = states_with_late_and_repeated(
        lambda: (CompressorFailureDetector(), TempDriftDetector()), failed_compressor[1][:600]
    )
    assert noisy == clean


def _synthetic(device_id: str, rows: Iterable[tuple[float, float, float, int]]) -> list[Reading]:
    """Readings from (ts, setpoint, cabinet, compressor_on)."""
    return [
        Reading(
            device_id,
            ts,
            seq,
            {"cabinet_temp_c": cab, "setpoint_c": sp, "compressor_on": comp, "freezer_temp_c": -18},
        )
        for seq, (ts, sp, cab, comp) in enumerate(rows, start=1)
    ]


def test_time_offline_does_not_count_as_compressor_off() -> None:
    minute = 60.0
    normal = [(i * minute, 4.0, 4.0, int(i % 40 < 14)) for i in range(180)]
    # A three-hour power cut: nothing arrives; then the cabinet is warm, the compressor
    # waits out its protection delay and starts.
    back = 180 * minute + 3 * HOUR
    after = [(back + i * minute, 4.0, 9.0 - 0.02 * i, int(i >= 8)) for i in range(120)]
    assert _run(CompressorFailureDetector(), _synthetic("f", normal + after)) == []


def test_turning_the_dial_down_is_not_a_drift() -> None:
    minute = 60.0
    normal = [(i * minute, 5.0, 5.0, int(i % 3 == 0)) for i in range(8 * 60)]
    # Setpoint 5 -> 2 °C: a well-stocked fridge runs flat out for hours pulling its
    # contents down (e-folding time 3.5 h), then cycles again.
    t0 = 8 * 60 * minute
    pull_down = []
    for i in range(12 * 60):
        cabinet = round(2.0 + 3.0 * math.exp(-i / 60 / 3.5), 1)
        pull_down.append((t0 + i * minute, 2.0, cabinet, 1 if cabinet > 2.5 else int(i % 2 == 0)))
    stream = _synthetic("f", normal + pull_down)
    assert _run(TempDriftDetector(), stream) == []
    # Without the grace period the same stream would look like a drift.
    eager = TempDriftDetector(FridgeProfile(setpoint_change_grace_s=0.0))
    assert [a.fault_code for a in _run(eager, stream)] == [FaultCode.FRIDGE_TEMP_DRIFT]


def test_drift_latch_holds_through_a_cool_night_and_rearms_after_repair() -> None:
    minute = 60.0
    rows = [(i * minute, 4.0, 4.0, int(i % 3 == 0)) for i in range(6 * 60)]
    t = rows[-1][0]
    # Broken: flat out and warm for 8 h, a cooler hour, then flat out again.
    for i in range(1, 14 * 60):
        cabinet = 4.3 if 8 * 60 <= i < 9 * 60 else 7.0
        rows.append((t + i * minute, 4.0, cabinet, 1))
    t = rows[-1][0]
    # Repaired: a day of normal cycling, then it breaks again.
    rows += [(t + i * minute, 4.0, 4.0, int(i % 3 == 0)) for i in range(1, 24 * 60)]
    t = rows[-1][0]
    rows += [(t + i * minute, 4.0, 7.5, 1) for i in range(1, 10 * 60)]
    found = _run(TempDriftDetector(), _synthetic("f", rows))
    assert len(found) == 2
    assert found[1].detected_at - found[0].detected_at > 24 * HOUR


def test_compressor_latch_rearms_once_the_compressor_runs_again() -> None:
    minute = 60.0
    off = [(i * minute, 4.0, 4.0 + 0.03 * i, 0) for i in range(180)]
    fixed = [(off[-1][0] + i * minute, 4.0, 6.0, int(i % 3 == 0)) for i in range(1, 120)]
    t = fixed[-1][0]
    again = [(t + i * minute, 4.0, 4.0 + 0.03 * i, 0) for i in range(1, 180)]
    found = _run(CompressorFailureDetector(), _synthetic("f", off + fixed + again))
    assert [a.fault_code for a in found] == [FaultCode.FRIDGE_COMPRESSOR_FAILURE] * 2


def _share(i: int, share: float) -> int:
    """1 for an evenly spread `share` of the minutes `i`, else 0."""
    percent = round(share * 100)
    return int(i * percent % 100 >= 100 - percent)


def _working(
    duty_after: float, *, door_after: float = 0.1, freezer_after: float = -18.0
) -> list[Reading]:
    """Two normal days (duty 0.3, door open 10 % of minutes), then two days at
    `duty_after` with the cabinet held at setpoint, the door open `door_after` of the
    time and the freezer at `freezer_after`."""
    minute = 60.0
    rows = []
    for i in range(4 * 24 * 60):
        late = i >= 2 * 24 * 60
        duty, door = (duty_after, door_after) if late else (0.3, 0.1)
        metrics = {
            "cabinet_temp_c": 4.0 + (0.3 if i % 7 == 0 else 0.0),
            "setpoint_c": 4.0,
            "freezer_temp_c": freezer_after if late else -18.0,
            "compressor_on": _share(i, duty),
            "door_open": _share(i, door),
        }
        rows.append(Reading("f", i * minute, i + 1, metrics))
    return rows


def test_a_compressor_working_far_harder_for_the_same_cabinet_is_a_drift() -> None:
    found = _run(TempDriftDetector(), _working(0.8))
    assert [a.fault_code for a in found] == [FaultCode.FRIDGE_TEMP_DRIFT]
    assert found[0].evidence["observed"] == pytest.approx(4.0, abs=0.2)  # cabinet held
    assert found[0].evidence["baseline_duty_cycle"] == pytest.approx(0.3, abs=0.03)
    assert 2 * DAY + 12 * HOUR < found[0].detected_at < 3 * DAY + 12 * HOUR


def test_working_a_little_harder_in_a_warm_room_is_not_a_drift() -> None:
    # A kitchen 10 K warmer lifts the heat leak by about half: duty 0.3 -> 0.45.
    assert _run(TempDriftDetector(), _working(0.45)) == []


def test_more_door_openings_explain_more_work() -> None:
    assert _run(TempDriftDetector(), _working(0.8, door_after=0.3)) == []


def test_an_overcooled_freezer_is_an_extra_load_not_lost_capacity() -> None:
    assert _run(TempDriftDetector(), _working(0.8, freezer_after=-23.0)) == []
