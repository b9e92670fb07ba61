"""A leaking door seal leaves its own signature: an extra heat load on an intact circuit."""

from __future__ import annotations

import numpy as np
import pytest

from device_sim.faults import FaultSpec, seal_ajar_spans, seal_leak_ua
from device_sim.fleet import build_fridge_fleet
from device_sim.fridge import METRICS, FridgeUnit
from domain import FaultCode, Reading

HOUR = 3600.0
DAY = 86400.0
# Local (UTC+8) midnight, so hours below are Shanghai kitchen hours.
START = 1_764_000_000.0 - (1_764_000_000.0 + 8 * HOUR) % DAY
ONSET = START + 1.5 * DAY
SEED = 73

Series = dict[str, np.ndarray]


def _series(rows: list[Reading]) -> Series:
    out = {"ts": np.array([r.ts for r in rows])}
    for name in METRICS:
        out[name] = np.array([r.metrics[name] for r in rows])
    return out


def _unit(fault: FaultSpec | None, *, warm_kitchen: bool = False) -> FridgeUnit:
    return FridgeUnit.sample(
        "fridge-s", SEED, model="FR-300", warm_kitchen=warm_kitchen, fault=fault
    )


@pytest.fixture(scope="module")
def healthy_rows() -> list[Reading]:
    return list(_unit(None).readings(start_ts=START, duration_s=4 * DAY))


@pytest.fixture(scope="module")
def leaking_rows() -> list[Reading]:
    fault = FaultSpec(FaultCode.FRIDGE_DOOR_SEAL_LEAK, ONSET, severity=0.9)
    return list(_unit(fault).readings(start_ts=START, duration_s=4 * DAY))


def test_nothing_changes_before_the_seal_fails(
    healthy_rows: list[Reading], leaking_rows: list[Reading]
) -> None:
    before = [r for r in leaking_rows if r.ts <= ONSET]
    assert before == healthy_rows[: len(before)]
    assert leaking_rows[len(before) :] != healthy_rows[len(before) :]


def test_a_leaking_seal_runs_the_compressor_longer_and_overcools_the_freezer(
    healthy_rows: list[Reading], leaking_rows: list[Reading]
) -> None:
    healthy, leaking = _series(healthy_rows), _series(leaking_rows)
    late = leaking["ts"] > ONSET + 1 * DAY  # the tear has widened
    setpoint = leaking["setpoint_c"][0]
    # More heat in: the compressor runs more, and with it off the cabinet warms back up
    # to the cut-in point sooner.
    assert leaking["compressor_on"][late].mean() > healthy["compressor_on"][late].mean() + 0.05

    def mean_off(on: np.ndarray) -> float:
        starts = np.count_nonzero(np.diff(on) > 0)
        return float((1 - on).sum() / max(starts, 1))

    assert mean_off(leaking["compressor_on"][late]) < 0.8 * mean_off(healthy["compressor_on"][late])
    # The circuit keeps its capacity: the cabinet holds, the freezer is overcooled.
    assert abs(np.median(leaking["cabinet_temp_c"][late]) - setpoint) < 0.8
    freezer_drop = healthy["freezer_temp_c"][late].mean() - leaking["freezer_temp_c"][late].mean()
    assert freezer_drop > 3.0


def test_unlike_a_refrigerant_leak_the_freezer_gets_colder_not_warmer() -> None:
    runs = {}
    for code in (FaultCode.FRIDGE_DOOR_SEAL_LEAK, FaultCode.FRIDGE_TEMP_DRIFT):
        rows = list(_unit(FaultSpec(code, ONSET)).readings(start_ts=START, duration_s=4 * DAY))
        runs[code] = _series(rows)
    for s in runs.values():
        assert s["freezer_temp_c"][s["ts"] < ONSET].mean() == pytest.approx(
            runs[FaultCode.FRIDGE_TEMP_DRIFT]["freezer_temp_c"][s["ts"] < ONSET].mean()
        )
    late = runs[FaultCode.FRIDGE_DOOR_SEAL_LEAK]["ts"] > ONSET + 1.5 * DAY
    seal, drift = runs[FaultCode.FRIDGE_DOOR_SEAL_LEAK], runs[FaultCode.FRIDGE_TEMP_DRIFT]
    assert seal["freezer_temp_c"][late].mean() < drift["freezer_temp_c"][late].mean() - 5
    assert seal["compressor_on"][late].mean() < 0.8 < drift["compressor_on"][late].mean()


def test_the_leak_grows_with_severity_and_after_onset_only() -> None:
    ts = np.array([ONSET - 1.0, ONSET, ONSET + DAY, ONSET + 3 * DAY])
    mild = seal_leak_ua(FaultSpec(FaultCode.FRIDGE_DOOR_SEAL_LEAK, ONSET, 0.5), ts)
    bad = seal_leak_ua(FaultSpec(FaultCode.FRIDGE_DOOR_SEAL_LEAK, ONSET, 1.0), ts)
    assert mild[0] == bad[0] == 0.0
    assert 0.0 < mild[1] < mild[2] < mild[3] == pytest.approx(bad[3] / 2)
    assert not seal_leak_ua(FaultSpec(FaultCode.FRIDGE_TEMP_DRIFT, ONSET), ts).any()


def test_a_door_left_ajar_is_drawn_per_closing_and_ends_when_opened_again() -> None:
    fault = FaultSpec(FaultCode.FRIDGE_DOOR_SEAL_LEAK, ONSET)
    opened = np.asarray(ONSET + np.arange(400) * 600.0, dtype=np.float64)
    closed = np.asarray(opened + 20.0, dtype=np.float64)
    starts, ends = seal_ajar_spans(fault, opened, closed, SEED)
    assert 40 < starts.size < 160  # about one closing in four
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        reopened = opened[opened > start]
        assert start + 5 * 60 <= end or (reopened.size and end == reopened[0])
        assert end <= min(start + 25 * 60, reopened[0] if reopened.size else np.inf)
    # The same closing gives the same span whichever stretch is simulated.
    again = seal_ajar_spans(fault, opened[200:], closed[200:], SEED)
    assert np.array_equal(again[0], starts[starts >= closed[200]])
    days_before = np.asarray(opened - 3 * DAY, dtype=np.float64)
    assert seal_ajar_spans(fault, days_before, days_before + 20.0, SEED)[0].size == 0


def test_the_warm_door_shows_on_the_cabinet_sensor_after_some_openings() -> None:
    fault = FaultSpec(FaultCode.FRIDGE_DOOR_SEAL_LEAK, START, severity=1.0)
    healthy = _series(list(_unit(None, warm_kitchen=True).readings(start_ts=START, duration_s=DAY)))
    leaking = _series(
        list(_unit(fault, warm_kitchen=True).readings(start_ts=START, duration_s=DAY))
    )

    def slow_recoveries(s: Series) -> int:
        # Closings after which the cabinet sensor is still 1 K above setpoint 10 min later.
        door, cab, sp = s["door_open"], s["cabinet_temp_c"], s["setpoint_c"][0]
        closings = np.nonzero((door[:-1] == 1) & (door[1:] == 0))[0] + 1
        late = [i + 10 for i in closings if i + 10 < door.size and not door[i : i + 11].any()]
        return int(np.count_nonzero(cab[late] > sp + 1.0))

    assert slow_recoveries(leaking) > slow_recoveries(healthy) + 2


def test_fleets_can_be_asked_for_leaking_seals_and_label_them() -> None:
    fleet = build_fridge_fleet(
        count=6, seed=3, start_ts=START, faulty={FaultCode.FRIDGE_DOOR_SEAL_LEAK: 2}
    )
    labelled = [g for g in fleet.ground_truth if g.fault_code is FaultCode.FRIDGE_DOOR_SEAL_LEAK]
    assert len(labelled) == 2
    for truth in labelled:
        fault = fleet.unit(truth.device_id).fault
        assert fault is not None and fault.code is FaultCode.FRIDGE_DOOR_SEAL_LEAK
        assert fault.onset_ts == truth.onset_ts and 0.85 <= fault.severity <= 1.0
