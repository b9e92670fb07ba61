"""The simulated air conditioner behaves like a split unit cooling a room, and its faults
leave their signatures from their onset on (and not a reading before)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from device_sim.air_conditioner import (
    AC_FAULTS,
    METRICS,
    AirConditionerBank,
    AirConditionerUnit,
    Climate,
    Heatwave,
    filter_cleanings,
)
from device_sim.faults import FaultSpec, FaultSpecError
from device_sim.plot_air_conditioner import plot_air_conditioners
from domain import DeviceType, FaultCode, Reading
from domain.devices import EXPECTED_METRICS

HOUR = 3600.0
DAY = 86400.0
# Local (UTC+8) midnight of a Monday in July, so hours below are Shanghai hours.
START = datetime(2025, 7, 14, tzinfo=timezone(timedelta(hours=8))).timestamp()
HEATWAVE = Heatwave(START + 6 * DAY, days=3.0, extra_c=4.0)
CLIMATE = Climate(heatwaves=(HEATWAVE,), heatwaves_per_30d=0.0)
ONSET = START + 2 * DAY
Series = dict[str, np.ndarray]


def _run(units: Sequence[AirConditionerUnit], duration_s: float) -> list[Series]:
    bank = AirConditionerBank(units, start_ts=START)
    ticks = list(bank.ticks(duration_s))
    ts = np.array([t for t, _ in ticks])
    out = []
    for i in range(len(units)):
        series = {"ts": ts}
        for name in METRICS:
            series[name] = np.array([m[name][i] for _, m in ticks], dtype=np.float64)
        out.append(series)
    return out


def _unit(name: str, seed: int, model: str, fault: FaultCode | None = None) -> AirConditionerUnit:
    spec = None if fault is None else FaultSpec(fault, ONSET)
    return AirConditionerUnit.sample(name, seed, model=model, fault=spec, climate=CLIMATE)


def _variant(unit: AirConditionerUnit, name: str, **occupants: Any) -> AirConditionerUnit:
    habits = dataclasses.replace(unit.occupants, **occupants)
    return dataclasses.replace(unit, device_id=name, occupants=habits)


def _rinsed_midway(name: str, seed: int) -> AirConditionerUnit:
    """A unit whose owner's filter rinse falls due four and a half days in."""
    base = _unit(name, seed, "AC-2500")
    every = base.params.filter_clean_every_s
    phase = ((START + 4.5 * DAY) % every) / every
    return dataclasses.replace(
        base, params=dataclasses.replace(base.params, filter_clean_phase=phase)
    )


@pytest.fixture(scope="module")
def fleet() -> dict[str, tuple[AirConditionerUnit, Series]]:
    """Ten days in July with a three-day heatwave, all in one bank: healthy units, faulty
    ones and the faulty ones' healthy twins (same seed, no fault), and variants."""
    window = _unit("window", 22, "AC-3500")
    units = [
        _variant(
            _unit("living", 21, "AC-3500"),
            "living",
            away_on_weekdays=True,
            home_hour=18.5,
            bed_hour=23.0,
        ),
        _variant(window, "window-closed", window_open_per_week=0.0),
        _variant(window, "window-open", window_open_per_week=7.0),
        _rinsed_midway("rinsed", 23),
        _unit("inverter", 12, "AC-3500"),  # fan on auto
        _unit("inverter-high-fan", 7, "AC-3500"),  # fan left on high
        _unit("fixed", 8, "AC-2500"),
        _unit("leak-inverter", 11, "AC-3500", FaultCode.AC_REFRIGERANT_LOW),
        _unit("twin-leak-inverter", 11, "AC-3500"),
        _unit("leak-fixed", 12, "AC-2500", FaultCode.AC_REFRIGERANT_LOW),
        _unit("twin-leak-fixed", 12, "AC-2500"),
        _unit("clog-inverter", 14, "AC-3500", FaultCode.AC_FILTER_CLOGGED),
        _unit("twin-clog-inverter", 14, "AC-3500"),
        _unit("clog-fixed", 14, "AC-2500", FaultCode.AC_FILTER_CLOGGED),
        _unit("twin-clog-fixed", 14, "AC-2500"),
    ]
    series = _run(units, 10 * DAY)
    return {u.device_id: (u, s) for u, s in zip(units, series, strict=True)}


def _steady(s: Series, settle: int = 8) -> np.ndarray:
    """Readings where the compressor has run at least `settle` reports in a row."""
    on = s["compressor_on"] == 1
    run = np.zeros(on.size, dtype=np.int64)
    for k in range(1, on.size):
        run[k] = run[k - 1] + 1 if on[k] else 0
    return (run >= settle) & (s["fan_rpm"] > 0)


def _delta(s: Series) -> np.ndarray:
    return s["return_temp_c"] - s["supply_temp_c"]


def _dp_per_krpm2(s: Series) -> np.ndarray:
    """Filter resistance: pressure drop normalised to 1000 rpm (same at every fan stage)."""
    running = s["fan_rpm"] > 0
    return s["filter_dp_pa"][running] / (s["fan_rpm"][running] / 1000.0) ** 2


def _local_hour(ts: np.ndarray) -> np.ndarray:
    return ((ts + 8 * HOUR) % DAY) / HOUR


def _rows(unit: AirConditionerUnit, hours: float) -> list[Reading]:
    return list(unit.readings(start_ts=START, duration_s=hours * HOUR))


def test_same_seed_gives_identical_readings_and_another_seed_does_not() -> None:
    def run(seed: int) -> list[Series]:
        units = [_unit(f"ac-{i}", seed + i, "AC-3500") for i in range(3)]
        return _run(units, 8 * HOUR)

    first, again, other = run(5), run(5), run(6)
    for a, b in zip(first, again, strict=True):
        assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(first[0]["return_temp_c"], other[0]["return_temp_c"])


def test_a_unit_alone_reads_the_same_as_in_its_bank() -> None:
    units = [_unit("a", 1, "AC-2500"), _unit("b", 2, "AC-3500")]
    bank = AirConditionerBank(units, start_ts=START)
    in_bank = [
        Reading("b", ts, bank.seq, {k: v[1] for k, v in m.items()})
        for ts, m in bank.ticks(20 * HOUR)
    ]
    assert in_bank == _rows(units[1], 20)


def test_stepping_in_windows_with_start_ts_moved_on_gives_the_same_reports() -> None:
    units = [_unit("a", 3, "AC-3500"), _unit("b", 4, "AC-2500")]
    whole = list(AirConditionerBank(units, start_ts=START).ticks(20 * HOUR))
    bank = AirConditionerBank(units, start_ts=START)
    windowed = []
    for span in (5 * HOUR, 8 * HOUR, 7 * HOUR):  # how the fleet scenario steps banks
        windowed += list(bank.ticks(span))
        bank.start_ts += span
    assert windowed == whole
    assert bank.seq == len(whole)


def test_readings_carry_the_contract_metrics_at_sensor_resolution() -> None:
    rows = _rows(_unit("ac", 5, "AC-3500"), 24)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].ts == START + 60
    assert tuple(rows[0].metrics) == EXPECTED_METRICS[DeviceType.AIR_CONDITIONER] == METRICS
    for r in rows:
        m = r.metrics
        assert m["compressor_on"] in (0, 1) and isinstance(m["fan_rpm"], int)
        for name in ("supply_temp_c", "return_temp_c", "outdoor_temp_c", "filter_dp_pa"):
            assert round(m[name], 1) == m[name]
        if m["fan_rpm"] == 0:  # switched off: nothing runs, the electronics idle
            assert m["compressor_on"] == 0 and m["power_w"] < 5 and m["filter_dp_pa"] < 4


def test_healthy_units_hold_the_room_near_setpoint_while_switched_on(
    fleet: dict[str, tuple[AirConditionerUnit, Series]],
) -> None:
    for name in ("inverter", "fixed"):
        unit, s = fleet[name]
        sessions = unit.occupants.sessions(START, START + 10 * DAY, unit.seed, unit.climate)
        on, setpoint, _ = sessions.at(s["ts"])
        # An hour into a session the pull-down is over.
        settled = (on > 0) & (sessions.at(s["ts"] - HOUR)[0] > 0)
        error = s["return_temp_c"][settled] - setpoint[settled]
        assert abs(np.median(error)) < 0.8
        assert np.percentile(np.abs(error), 95) < 2.0
        # Switched off, the room drifts up towards the outdoor air.
        assert np.median(s["return_temp_c"][on == 0]) > np.median(setpoint[on > 0]) + 1.0


def test_supply_air_is_well_below_return_while_cooling_and_never_ices(
    fleet: dict[str, tuple[AirConditionerUnit, Series]],
) -> None:
    # A fan left on high spreads a slow compressor's cooling over more air.
    cases = (("inverter", 6.0, 12.0), ("fixed", 9.0, 15.0), ("inverter-high-fan", 3.5, 8.0))
    for name, low, high in cases:
        _, s = fleet[name]
        delta = _delta(s)[_steady(s)]
        assert low < np.median(delta) < high
        assert s["supply_temp_c"][s["compressor_on"] == 1].min() > 7.5  # anti-freeze


def test_fixed_speed_unit_cycles_and_inverter_modulates(
    fleet: dict[str, tuple[AirConditionerUnit, Series]],
) -> None:
    _, fixed = fleet["fixed"]
    _, inverter = fleet["inverter"]
    starts = np.count_nonzero(np.diff(fixed["compressor_on"]) > 0)
    minutes_on = fixed["compressor_on"].sum()
    assert 8 <= minutes_on / starts <= 40  # cycles of minutes, not seconds or hours
    running = inverter["compressor_on"] == 1
    watts = inverter["power_w"][running]
    assert np.percentile(watts, 90) > 2.0 * np.percentile(watts, 10)


def test_power_rises_with_outdoor_temperature(
    fleet: dict[str, tuple[AirConditionerUnit, Series]],
) -> None:
    _, s = fleet["fixed"]  # one speed: the condenser's air sets the input
    steady = _steady(s)
    outdoor, power = s["outdoor_temp_c"][steady], s["power_w"][steady]
    slope = np.polyfit(outdoor, power, 1)[0]
    assert 5.0 < slope < 40.0  # watts per kelvin, ~2 % per kelvin of ~750 W


def test_it_runs_when_people_are_home_evenings_nights_and_weekends(
    fleet: dict[str, tuple[AirConditionerUnit, Series]],
) -> None:
    _, s = fleet["living"]  # out at work on weekdays, home from 18:30, bed at 23:00
    hour = _local_hour(s["ts"])
    weekday = ((s["ts"] + 8 * HOUR) // DAY + 3) % 7 < 5
    on = s["fan_rpm"] > 0
    assert on[weekday & (hour >= 19) & (hour < 22.5)].mean() > 0.6
    assert on[weekday & (hour >= 9) & (hour < 17)].mean() == 0.0
    assert on[~weekday & (hour >= 11) & (hour < 13)].mean() > 0.5


def test_heatwave_heats_the_outdoor_air_and_makes_the_unit_work_harder(
    fleet: dict[str, tuple[AirConditionerUnit, Series]],
) -> None:
    _, s = fleet["inverter"]
    hot = (s["ts"] >= HEATWAVE.start_ts + DAY) & (s["ts"] < HEATWAVE.start_ts + 2 * DAY)
    before = (s["ts"] >= START + 2 * DAY) & (s["ts"] < START + 5 * DAY)
    assert s["outdoor_temp_c"][hot].max() > s["outdoor_temp_c"][before].max() + 3
    running = s["compressor_on"] == 1
    assert np.median(s["power_w"][hot & running]) > 1.2 * np.median(s["power_w"][before & running])


def test_an_open_window_makes_it_work_harder(
    fleet: dict[str, tuple[AirConditionerUnit, Series]],
) -> None:
    (_, a), (_, b) = fleet["window-closed"], fleet["window-open"]  # open in every session
    running = a["fan_rpm"] > 0
    assert b["power_w"][running].mean() > 1.1 * a["power_w"][running].mean()
    assert b["return_temp_c"][running].mean() > a["return_temp_c"][running].mean()


def test_filter_loads_slowly_within_normal_and_a_rinse_drops_it(
    fleet: dict[str, tuple[AirConditionerUnit, Series]],
) -> None:
    unit, s = fleet["rinsed"]
    (rinse,) = filter_cleanings(unit.params, unit.seed, START + DAY, START + 8 * DAY)
    running = s["fan_rpm"] > 0
    x = s["filter_dp_pa"][running] / (s["fan_rpm"][running] / 1000.0) ** 2
    ts = s["ts"][running]
    assert 30 < s["filter_dp_pa"][running].max() < 85  # Pa: normal
    before, after = x[ts < rinse], x[ts > rinse]
    assert np.median(after) < 0.8 * np.median(before)
    # Between rinses it rises, slowly: well under a pascal an hour of fan running.
    first, last = np.median(before[:60]), np.median(before[-60:])
    assert 0 < last - first < 0.05 * len(before) / 60


def test_refrigerant_leak_cuts_cooling_per_watt_from_onset_only(
    fleet: dict[str, tuple[AirConditionerUnit, Series]],
) -> None:
    for name in ("leak-inverter", "leak-fixed"):
        _, s = fleet[name]
        _, twin = fleet["twin-" + name]
        before = s["ts"] <= ONSET
        for metric in METRICS:  # absent before onset: identical to its healthy twin
            assert np.array_equal(s[metric][before], twin[metric][before])
        late = s["ts"] > ONSET + 5 * DAY

        def per_watt(x: Series, sel: np.ndarray) -> float:
            steady = _steady(x) & sel
            # Sensible cooling ~ airflow x ΔT; airflow ~ fan speed.
            cooling = _delta(x)[steady] * x["fan_rpm"][steady]
            return float(np.median(cooling / x["power_w"][steady]))

        assert per_watt(s, late) < 0.75 * per_watt(twin, late)
        assert np.median(_delta(s)[_steady(s) & late]) < np.median(
            _delta(twin)[_steady(twin) & late]
        )
        # It struggles: far more energy for the same room, and a fixed-speed compressor
        # runs far longer while an inverter (already flat out) lets the room warm up.
        on = (s["fan_rpm"] > 0) & late
        assert s["power_w"][on].sum() > 1.3 * twin["power_w"][on].sum()
        longer = s["compressor_on"][on].mean() - twin["compressor_on"][on].mean()
        warmer = s["return_temp_c"][on].mean() - twin["return_temp_c"][on].mean()
        assert longer > 0.1 or warmer > 0.5


def test_clogging_filter_climbs_far_above_normal_and_accelerates_from_onset_only(
    fleet: dict[str, tuple[AirConditionerUnit, Series]],
) -> None:
    for name in ("clog-inverter", "clog-fixed"):
        _, s = fleet[name]
        _, twin = fleet["twin-" + name]
        before = s["ts"] <= ONSET
        for metric in METRICS:
            assert np.array_equal(s[metric][before], twin[metric][before])
        x, x_twin = _dp_per_krpm2(s), _dp_per_krpm2(twin)
        ts = s["ts"][s["fan_rpm"] > 0]
        normal = np.median(x[ts <= ONSET])
        # Far above normal within days of use (a bedroom on a sleep timer uses it least).
        assert x[-30:].mean() > 1.4 * normal
        assert x[-30:].mean() > 1.4 * x_twin[-30:].mean()
        # Accelerating at first (until the fan runs out of pressure): over equal spans of
        # fan running, each adds more than the one before.
        early = x[(ts > ONSET) & (ts <= ONSET + 2.5 * DAY)]
        thirds = [np.median(part) for part in np.array_split(early, 3)]
        assert thirds[2] - thirds[1] > thirds[1] - thirds[0] > 0
        # Less air: the fan speeds up a little, and the supply air runs colder.
        late = s["ts"] > ONSET + 4 * DAY
        assert s["fan_rpm"][late].max() > twin["fan_rpm"][late].max() * 1.05
        steady, steady_twin = _steady(s) & late, _steady(twin) & late
        assert np.median(_delta(s)[steady]) > np.median(_delta(twin)[steady_twin])


def test_climate_is_shared_by_the_city_and_follows_the_season_when_asked() -> None:
    ts = START + np.arange(0, 3 * DAY, HOUR)
    a = AirConditionerUnit.sample("a", 1).climate.conditions(ts)[0]
    b = AirConditionerUnit.sample("b", 2).climate.conditions(ts)[0]
    assert np.array_equal(a, b)  # the same weather over every home
    assert 24 < a.mean() < 33
    winter = Climate(season_doy=None).conditions(ts - 190 * DAY)[0]  # mid-January
    assert winter.mean() < 12
    day = HEATWAVE.start_ts + DAY + np.arange(0, DAY, HOUR)
    extra = CLIMATE.conditions(day)[0] - Climate(heatwaves_per_30d=0.0).conditions(day)[0]
    assert 3.5 < extra.mean() < 5.0  # and clear skies: hotter afternoons, cooler nights


def test_unknown_model_and_foreign_fault_are_refused() -> None:
    assert set(AC_FAULTS) == {FaultCode.AC_REFRIGERANT_LOW, FaultCode.AC_FILTER_CLOGGED}
    with pytest.raises(ValueError, match="unknown air conditioner model"):
        AirConditionerUnit.sample("x", 1, model="AC-9000")
    with pytest.raises(FaultSpecError):
        AirConditionerUnit.sample("x", 1, fault=FaultSpec(FaultCode.FRIDGE_TEMP_DRIFT, START))


def test_plot_draws_the_units_to_a_png(tmp_path: Path) -> None:
    units = [_unit("leak", 32, "AC-2500", FaultCode.AC_REFRIGERANT_LOW)]
    path = plot_air_conditioners(
        units, start_ts=START, path=tmp_path / "ac.png", duration_s=DAY, zoom=(2 * HOUR, 8 * HOUR)
    )
    assert path.read_bytes().startswith(b"\x89PNG")
