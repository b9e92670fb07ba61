"""The door seal detector: fires once on a leaking seal, and on no other fridge's life."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest

from detection.catalog import CATALOG
from detection.fridge import CompressorFailureDetector, DoorSealLeakDetector, TempDriftDetector
from detection.profiles import FridgeProfile
from device_sim.faults import FaultSpec
from device_sim.fleet import build_fridge_fleet
from device_sim.fridge import FridgeUnit
from device_sim.scenario import readings
from domain import Anomaly, FaultCode, Reading, Severity
from tests.detection.conftest import DAY, HOUR, START, states_with_late_and_repeated

Detector = CompressorFailureDetector | TempDriftDetector | DoorSealLeakDetector
ONSET = START + 1.5 * DAY


def _run(detector: Detector, stream: Iterable[Reading]) -> list[Anomaly]:
    return [a for a in map(detector.update, stream) if a is not None]


def _stream(code: FaultCode, seed: int, *, days: float = 6.0, **kw: object) -> list[Reading]:
    fault = FaultSpec(code, ONSET, severity=0.9)
    unit = FridgeUnit.sample(f"fridge-{seed}", seed, fault=fault, **kw)  # type: ignore[arg-type]
    return list(unit.readings(start_ts=START, duration_s=days * DAY))


@pytest.fixture(scope="module")
def seal_leak() -> list[Reading]:
    return _stream(FaultCode.FRIDGE_DOOR_SEAL_LEAK, 81, model="FR-500", warm_kitchen=True)


@pytest.fixture(scope="module")
def refrigerant_leak() -> list[Reading]:
    return _stream(FaultCode.FRIDGE_TEMP_DRIFT, 82, model="FR-300")


@pytest.fixture(scope="module")
def dead_compressor() -> list[Reading]:
    return _stream(FaultCode.FRIDGE_COMPRESSOR_FAILURE, 83, days=3.0)


def test_leaking_seal_is_flagged_medium_once_with_evidence_and_diagnosis(
    seal_leak: list[Reading],
) -> None:
    (anomaly,) = _run(DoorSealLeakDetector(), seal_leak)
    assert anomaly.fault_code is FaultCode.FRIDGE_DOOR_SEAL_LEAK
    assert anomaly.severity is Severity.MEDIUM
    assert ONSET < anomaly.detected_at <= ONSET + 3 * DAY
    assert ONSET - 12 * HOUR <= anomaly.onset_at < anomaly.detected_at
    assert 0.6 <= anomaly.confidence <= 1.0
    evidence = anomaly.evidence
    # What moved: the freezer, well below its own normal, with the compressor working
    # harder than usual and the cabinet holding its setpoint.
    assert evidence["metric"] == "freezer_temp_c"
    assert evidence["delta"] == pytest.approx(evidence["observed"] - evidence["baseline"], abs=0.02)
    assert evidence["delta"] <= -FridgeProfile().seal_freezer_drop_c
    assert evidence["duty_cycle"] > evidence["baseline_duty_cycle"]
    assert evidence["observed_cabinet_c"] < evidence["setpoint_c"] + 1.0
    assert evidence["window_start"] == anomaly.onset_at
    assert evidence["window_end"] == anomaly.detected_at
    assert "door seal" in anomaly.summary
    assert anomaly.diagnosis == CATALOG[FaultCode.FRIDGE_DOOR_SEAL_LEAK].as_dict()
    json.dumps(dict(anomaly.evidence))


def test_healthy_fridges_restocked_in_warm_and_cool_kitchens_raise_nothing() -> None:
    fleet = build_fridge_fleet(count=8, seed=17, start_ts=START, warm_kitchens=3)
    detectors = {d.device_id: DoorSealLeakDetector() for d in fleet.devices}
    found = [
        a
        for r in readings(fleet, start_ts=START, duration_s=7 * DAY)
        if (a := detectors[r.device_id].update(r)) is not None
    ]
    assert found == []


def test_a_refrigerant_leak_or_a_dead_compressor_is_not_a_door_seal(
    refrigerant_leak: list[Reading], dead_compressor: list[Reading]
) -> None:
    assert _run(DoorSealLeakDetector(), refrigerant_leak) == []
    assert _run(DoorSealLeakDetector(), dead_compressor) == []
    # ...and each still gets its own code.
    assert [a.fault_code for a in _run(TempDriftDetector(), refrigerant_leak)] == [
        FaultCode.FRIDGE_TEMP_DRIFT
    ]


def test_a_leaking_seal_is_not_a_drift_nor_a_stopped_compressor(seal_leak: list[Reading]) -> None:
    # The cabinet holds and the compressor still cycles: the drift detector's "flat out
    # and warm" never holds, so the two detectors agree on one code.
    assert _run(TempDriftDetector(), seal_leak) == []
    assert _run(CompressorFailureDetector(), seal_leak) == []


def test_state_hand_off_mid_stream_changes_nothing(seal_leak: list[Reading]) -> None:
    whole = _run(DoorSealLeakDetector(), seal_leak)
    assert len(whole) == 1
    cut = next(i for i, r in enumerate(seal_leak) if r.ts >= whole[0].detected_at) - 7
    for at in (cut, cut // 3):
        first = DoorSealLeakDetector()
        before = _run(first, seal_leak[:at])
        saved = json.loads(json.dumps(first.state()))
        resumed = DoorSealLeakDetector.from_state(FridgeProfile(), saved)
        assert before + _run(resumed, seal_leak[at:]) == whole


def test_late_and_repeated_readings_are_ignored(seal_leak: list[Reading]) -> None:
    noisy, clean = states_with_late_and_repeated(
        lambda: (DoorSealLeakDetector(),), seal_leak[: 3 * 1440]
    )
    assert noisy == clean


def _synthetic(rows: Iterable[tuple[float, float, float, int]]) -> list[Reading]:
    """Readings from (ts, setpoint, freezer, compressor_on), the cabinet at setpoint."""
    return [
        Reading(
            "f",
            ts,
            seq,
            {"cabinet_temp_c": sp, "setpoint_c": sp, "freezer_temp_c": frz, "compressor_on": c},
        )
        for seq, (ts, sp, frz, c) in enumerate(rows, start=1)
    ]


def test_a_broken_freezer_sensor_is_not_an_overcooled_freezer() -> None:
    minute = 60.0
    normal = [(i * minute, 4.0, -18.0, int(i % 3 == 0)) for i in range(2 * 24 * 60)]
    t = normal[-1][0]
    # An open thermistor reads -40 °C for two days; the fridge itself is fine.
    broken = [(t + i * minute, 4.0, -40.0, int(i % 2 == 0)) for i in range(1, 2 * 24 * 60)]
    assert _run(DoorSealLeakDetector(), _synthetic(normal + broken)) == []


def test_turning_the_dial_down_is_a_new_normal_not_a_leak() -> None:
    minute = 60.0
    normal = [(i * minute, 5.0, -18.0, int(i % 3 == 0)) for i in range(2 * 24 * 60)]
    t = normal[-1][0]
    # Colder cabinet: the compressor runs more and the freezer settles colder for good.
    colder = [(t + i * minute, 2.0, -23.0, int(i % 2 == 0)) for i in range(1, 4 * 24 * 60)]
    stream = _synthetic(normal + colder)
    assert _run(DoorSealLeakDetector(), stream) == []
    # The same numbers without the dial turned are a leak.
    same_dial = _synthetic([(ts, 5.0, frz, c) for ts, _, frz, c in normal + colder])
    assert [a.fault_code for a in _run(DoorSealLeakDetector(), same_dial)] == [
        FaultCode.FRIDGE_DOOR_SEAL_LEAK
    ]


def test_latch_holds_while_leaking_and_rearms_after_the_seal_is_replaced() -> None:
    minute = 60.0
    day = 24 * 60
    rows = [(i * minute, 4.0, -18.0, int(i % 3 == 0)) for i in range(2 * day)]

    def more(freezer: float, duty_every: int, days: float) -> None:
        t = rows[-1][0]
        rows.extend(
            (t + i * minute, 4.0, freezer, int(i % duty_every == 0))
            for i in range(1, int(days * day))
        )

    more(-24.0, 2, 3)  # leaking
    more(-18.0, 3, 2)  # new gasket
    more(-24.5, 2, 3)  # torn again
    found = _run(DoorSealLeakDetector(), _synthetic(rows))
    assert [a.fault_code for a in found] == [FaultCode.FRIDGE_DOOR_SEAL_LEAK] * 2
    assert found[1].detected_at - found[0].detected_at > 3 * DAY


def test_flat_out_and_warm_is_a_drift_only_if_the_freezer_is_not_overcooled() -> None:
    minute = 60.0

    def stream(freezer_when_broken: float) -> list[Reading]:
        # (ts, cabinet, freezer, compressor_on): a normal day, then flat out for 8 h with
        # the cabinet 3 K above its setpoint of 4 °C.
        rows = [(i * minute, 4.0, -18.0, int(i % 3 == 0)) for i in range(24 * 60)]
        t = rows[-1][0]
        rows += [(t + i * minute, 7.0, freezer_when_broken, 1) for i in range(1, 8 * 60)]
        return [
            Reading(
                "f",
                ts,
                seq,
                {
                    "cabinet_temp_c": cab,
                    "setpoint_c": 4.0,
                    "freezer_temp_c": frz,
                    "compressor_on": c,
                },
            )
            for seq, (ts, cab, frz, c) in enumerate(rows, start=1)
        ]

    # Lost capacity: the freezer warms too.
    assert [a.fault_code for a in _run(TempDriftDetector(), stream(-15.0))] == [
        FaultCode.FRIDGE_TEMP_DRIFT
    ]
    # Full capacity, all of it needed: the freezer is overcooled, the cabinet has an extra
    # heat load. That is the door seal's code, not a drift.
    assert _run(TempDriftDetector(), stream(-26.0)) == []
