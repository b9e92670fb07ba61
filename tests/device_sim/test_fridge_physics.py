"""The simulated fridge behaves like a fridge, and its faults leave their signatures."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from device_sim.faults import FaultSpec
from device_sim.fleet import build_fridge_fleet
from device_sim.fridge import METRICS, FridgeUnit
from device_sim.scenario import readings
from domain import FaultCode, Reading

HOUR = 3600.0
DAY = 86400.0
# Local (UTC+8) midnight, so hours below are Shanghai kitchen hours.
START = 1_764_000_000.0 - (1_764_000_000.0 + 8 * HOUR) % DAY


def _series(stream: Iterator[Reading]) -> dict[str, np.ndarray]:
    rows = list(stream)
    out = {"ts": np.array([r.ts for r in rows])}
    for name in METRICS:
        out[name] = np.array([r.metrics[name] for r in rows])
    return out


@pytest.fixture(scope="module")
def healthy() -> dict[str, np.ndarray]:
    unit = FridgeUnit.sample("fridge-h", 21, model="FR-300", warm_kitchen=False)
    return _series(unit.readings(start_ts=START, duration_s=3 * DAY))


def test_same_seed_gives_identical_readings_and_another_seed_does_not() -> None:
    def run(seed: int) -> list[Reading]:
        fleet = build_fridge_fleet(
            count=4, seed=seed, start_ts=START, faulty={FaultCode.FRIDGE_COMPRESSOR_FAILURE: 1}
        )
        return list(readings(fleet, start_ts=START, duration_s=6 * HOUR))

    first, again, other = run(5), run(5), run(6)
    assert first == again
    assert [r.metrics for r in first] != [r.metrics for r in other]


def test_readings_come_tick_by_tick_with_seq_from_one_per_device() -> None:
    fleet = build_fridge_fleet(count=3, seed=1, start_ts=START)
    rows = list(readings(fleet, start_ts=START, duration_s=10 * 60, interval_s=60))
    assert len(rows) == 30
    assert [r.ts for r in rows] == sorted(r.ts for r in rows)
    assert rows[0].ts == START + 60
    for device in fleet.devices:
        mine = [r for r in rows if r.device_id == device.device_id]
        assert [r.seq for r in mine] == list(range(1, 11))
        assert set(mine[0].metrics) == set(METRICS)


def test_a_unit_alone_reads_the_same_as_in_its_fleet() -> None:
    fleet = build_fridge_fleet(count=3, seed=2, start_ts=START)
    in_fleet = [
        r
        for r in readings(fleet, start_ts=START, duration_s=3 * HOUR)
        if r.device_id == "fridge-0002"
    ]
    alone = list(fleet.unit("fridge-0002").readings(start_ts=START, duration_s=3 * HOUR))
    assert in_fleet == alone


def test_temperatures_are_quantised_to_a_tenth_of_a_degree(healthy: dict[str, np.ndarray]) -> None:
    for name in ("cabinet_temp_c", "freezer_temp_c"):
        tenths = healthy[name] * 10
        assert np.allclose(tenths, np.round(tenths))
    assert set(np.unique(healthy["compressor_on"])) == {0, 1}
    assert set(np.unique(healthy["door_open"])) == {0, 1}


def test_healthy_fridge_cycles_around_its_setpoint(healthy: dict[str, np.ndarray]) -> None:
    setpoint = healthy["setpoint_c"][0]
    duty = healthy["compressor_on"].mean()
    assert 0.2 <= duty <= 0.55
    assert abs(np.median(healthy["cabinet_temp_c"]) - setpoint) < 0.8
    assert -22.0 < healthy["freezer_temp_c"].mean() < -15.0
    # Many short cycles a day, not a handful of long ones.
    starts = np.count_nonzero(np.diff(healthy["compressor_on"]) > 0)
    assert 20 * 3 <= starts <= 60 * 3


def test_power_matches_what_is_running(healthy: dict[str, np.ndarray]) -> None:
    power, comp = healthy["power_w"], healthy["compressor_on"]
    running = power[(comp == 1) & (power < 180)]
    idle = power[(comp == 0) & (healthy["door_open"] == 0)]
    assert 70 < np.median(running) < 160
    assert 4 < np.median(idle) < 12
    # Defrost: the heater draws 200-400 W every 8-12 h for 20-40 min, compressor off.
    heater = (power > 180) & (comp == 0)
    episodes = np.count_nonzero(np.diff(heater.astype(int)) > 0)
    assert 5 <= episodes <= 10
    assert heater.sum() <= episodes * 40


def test_defrost_warms_the_freezer_a_lot_and_the_cabinet_a_little(
    healthy: dict[str, np.ndarray],
) -> None:
    heater = (healthy["power_w"] > 180) & (healthy["compressor_on"] == 0)
    ends = np.nonzero(np.diff(heater.astype(int)) < 0)[0]
    for end in ends[1:3]:
        before = slice(end - 90, end - 50)  # well before the heater came on
        peak = healthy["freezer_temp_c"][end - 5 : end + 5].max()
        assert peak - np.median(healthy["freezer_temp_c"][before]) > 6
        bump = healthy["cabinet_temp_c"][end : end + 8].max() - healthy["setpoint_c"][0]
        assert 0.5 < bump < 4.0


def test_doors_open_most_around_dinner(healthy: dict[str, np.ndarray]) -> None:
    hour = ((healthy["ts"] + 8 * HOUR) % DAY) / HOUR
    door = healthy["door_open"]
    dinner = door[(hour >= 17) & (hour < 21)].mean()
    small_hours = door[(hour >= 1) & (hour < 5)].mean()
    assert dinner > 5 * max(small_hours, 0.002)
    # A door opening shows on the cabinet sensor.
    opened = np.nonzero(door[:-1] == 1)[0]
    jumps = healthy["cabinet_temp_c"][opened + 1] - healthy["cabinet_temp_c"][opened - 1]
    assert np.median(jumps) > 0.2


def test_warm_kitchen_makes_the_compressor_work_harder() -> None:
    cool = FridgeUnit.sample("fridge-c", 31, model="FR-500", warm_kitchen=False)
    warm = FridgeUnit.sample("fridge-c", 31, model="FR-500", warm_kitchen=True)
    duty = [
        _series(u.readings(start_ts=START, duration_s=DAY))["compressor_on"].mean()
        for u in (cool, warm)
    ]
    assert duty[1] > duty[0] + 0.03
    assert duty[1] < 0.65


def test_compressor_failure_stops_the_compressor_from_onset_and_the_cabinet_warms() -> None:
    onset = START + 20 * HOUR
    unit = FridgeUnit.sample(
        "fridge-f", 41, fault=FaultSpec(FaultCode.FRIDGE_COMPRESSOR_FAILURE, onset)
    )
    s = _series(unit.readings(start_ts=START, duration_s=30 * HOUR))
    before, after = s["ts"] <= onset, s["ts"] > onset
    assert 0.2 < s["compressor_on"][before].mean() < 0.6
    assert s["compressor_on"][after].max() == 0
    # Power falls to the electronics, bar the odd defrost heater.
    assert np.median(s["power_w"][after]) < 12
    setpoint = s["setpoint_c"][0]
    six_h_later = (s["ts"] > onset + 5 * HOUR) & (s["ts"] <= onset + 6 * HOUR)
    assert s["cabinet_temp_c"][six_h_later].mean() > setpoint + 3
    assert s["freezer_temp_c"][six_h_later].mean() > s["freezer_temp_c"][before].mean() + 8


def test_temp_drift_runs_the_compressor_ever_longer_and_the_cabinet_warms() -> None:
    onset = START + 6 * HOUR
    unit = FridgeUnit.sample(
        "fridge-d", 51, model="FR-300", fault=FaultSpec(FaultCode.FRIDGE_TEMP_DRIFT, onset)
    )
    s = _series(unit.readings(start_ts=START, duration_s=3 * DAY))
    setpoint = s["setpoint_c"][0]

    def window(h0: float, h1: float) -> np.ndarray:
        return (s["ts"] > onset + h0 * HOUR) & (s["ts"] <= onset + h1 * HOUR)

    duty = [s["compressor_on"][window(h, h + 12)].mean() for h in (-6, 12, 48)]
    assert duty[0] < duty[1] < duty[2]
    assert duty[2] > 0.9
    late = window(48, 60)
    assert s["cabinet_temp_c"][late].mean() > setpoint + 1.5
    # A starved circuit draws a little less while it runs.
    assert np.median(s["power_w"][late & (s["compressor_on"] == 1)]) < np.median(
        s["power_w"][window(-6, 0) & (s["compressor_on"] == 1)]
    )
