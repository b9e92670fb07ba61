"""Each battery detector on its own: fires on its fault, once, in time, and on nothing else —
not on a fortnight of normal life with hot days, fast charging and hill climbs."""

from __future__ import annotations

import doctest
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

import pytest

import detection.battery
from detection.battery import BATTERY_DETECTORS, OverheatDetector, WearDetector
from detection.catalog import CATALOG
from detection.engine import DetectionEngine
from detection.profiles import BatteryProfile, FridgeProfile
from device_sim.battery import METRICS, BatteryBank, BatteryUnit
from device_sim.faults import FaultSpec
from domain import Anomaly, DeviceType, FaultCode, Reading, Severity
from tests.detection.conftest import states_with_late_and_repeated

HOUR = 3600.0
DAY = 86400.0
START = 1_764_000_000.0 - (1_764_000_000.0 + 8 * HOUR) % DAY  # local midnight (UTC+8)

Detector = OverheatDetector | WearDetector


def _run(detector: Detector, stream: Iterable[Reading]) -> list[Anomaly]:
    return [a for a in map(detector.update, stream) if a is not None]


def _readings(
    units: list[BatteryUnit], *, duration_s: float, interval_s: float = 60.0
) -> Iterator[Reading]:
    bank = BatteryBank(units, start_ts=START, interval_s=interval_s, max_step_s=interval_s)
    ids = [unit.device_id for unit in units]
    for ts, metrics in bank.ticks(duration_s):
        rows = zip(*(metrics[name] for name in METRICS), strict=True)
        for device_id, row in zip(ids, rows, strict=True):
            yield Reading(device_id, ts, bank.seq, dict(zip(METRICS, row, strict=True)))


def _unit(
    device_id: str, seed: int, model: str, code: FaultCode, onset: float, sev: float = 1.0
) -> BatteryUnit:
    return BatteryUnit.sample(device_id, seed, model=model, fault=FaultSpec(code, onset, sev))


# -- normal life --------------------------------------------------------------------------


@dataclass
class FleetRun:
    units: list[BatteryUnit]
    anomalies: dict[str, list[Anomaly]] = field(default_factory=lambda: defaultdict(list))
    max_excess: dict[str, float] = field(default_factory=lambda: defaultdict(float))


def _confounded(unit: BatteryUnit) -> BatteryUnit:
    """Heatwaves most days; for an e-bike also a fast charger, a garage and steep hills."""
    climate = replace(unit.climate, hot_day_prob=0.6, hot_day_c=12.0, indoor_coupling=0.7)
    if unit.habits.kind == "vacuum":
        return replace(unit, climate=climate)
    scale = unit.params.series / 10
    return replace(
        unit,
        climate=replace(climate, storage_outdoor_share=0.6),
        habits=replace(unit.habits, climbs_per_trip=4.0, climb_w=900.0 * scale),
        params=replace(unit.params, charge_a=5.0),
    )


@pytest.fixture(scope="module")
def healthy_fortnight() -> FleetRun:
    """30 healthy packs for 14 days: 24 as sampled (hot days come at random), 6 pushed."""
    units = [BatteryUnit.sample(f"battery-{i:02d}", 300 + i) for i in range(24)]
    units += [
        _confounded(BatteryUnit.sample(f"battery-{i:02d}", 300 + i, model=model))
        for i, model in zip(range(24, 30), ["RV-5200", "EB-14000"] * 3, strict=True)
    ]
    run = FleetRun(units)
    profile = BatteryProfile()
    detectors = {u.device_id: BATTERY_DETECTORS.build(profile, {}) for u in units}
    for reading in _readings(units, duration_s=14 * DAY):
        mine = detectors[reading.device_id]
        for detector in mine.values():
            anomaly = detector.update(reading)
            if anomaly is not None:
                run.anomalies[reading.device_id].append(anomaly)
        if reading.ts - START > profile.overheat_warmup_s:
            excess = mine["overheat"].excess_  # type: ignore[attr-defined]
            run.max_excess[reading.device_id] = max(run.max_excess[reading.device_id], excess)
    return run


def test_normal_life_hot_days_fast_charging_and_hill_climbs_raise_nothing(
    healthy_fortnight: FleetRun,
) -> None:
    assert dict(healthy_fortnight.anomalies) == {}
    # ...and not by a whisker: the worst excess heat stays well below the threshold.
    assert max(healthy_fortnight.max_excess.values()) < BatteryProfile().overheat_excess_c - 1.5


# -- overheating ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shorted_vacuum() -> tuple[BatteryUnit, list[Reading]]:
    unit = _unit("rv-short", 31, "RV-5200", FaultCode.BATTERY_OVERHEAT, START + 29 * HOUR)
    return unit, list(_readings([unit], duration_s=40 * HOUR))


def test_shorted_vacuum_pack_is_critical_within_minutes(
    shorted_vacuum: tuple[BatteryUnit, list[Reading]],
) -> None:
    unit, stream = shorted_vacuum
    assert unit.fault is not None
    (anomaly,) = _run(OverheatDetector(), stream)
    assert anomaly.fault_code is FaultCode.BATTERY_OVERHEAT
    assert anomaly.severity is Severity.CRITICAL
    assert 0 < anomaly.detected_at - unit.fault.onset_ts <= 45 * 60
    assert abs(anomaly.onset_at - unit.fault.onset_ts) <= 15 * 60
    assert 0.7 <= anomaly.confidence <= 1.0
    assert "above" in anomaly.summary
    e = anomaly.evidence
    assert e["delta"] >= BatteryProfile().overheat_excess_c
    assert e["observed"] == pytest.approx(e["baseline"] + e["delta"], abs=0.05)
    assert e["window_start"] == anomaly.onset_at and e["window_end"] == anomaly.detected_at
    assert e["pack_state"] in {"charging", "discharging", "resting"}
    assert anomaly.diagnosis == CATALOG[FaultCode.BATTERY_OVERHEAT].as_dict()
    json.dumps({"evidence": dict(e), "diagnosis": dict(anomaly.diagnosis)})


def test_shorted_ebike_pack_is_caught_on_charge() -> None:
    onset = START + 29 * HOUR
    unit = _unit("eb-short", 1081, "EB-14000", FaultCode.BATTERY_OVERHEAT, onset)
    (anomaly,) = _run(OverheatDetector(), _readings([unit], duration_s=40 * HOUR))
    assert 0 < anomaly.detected_at - onset <= 2 * HOUR
    assert anomaly.evidence["pack_state"] == "charging"


def test_an_intermittent_short_opens_one_alarm_not_one_per_episode() -> None:
    onset = START + 42 * HOUR
    unit = _unit("rv-flicker", 1026, "RV-5200", FaultCode.BATTERY_OVERHEAT, onset, sev=0.5)
    found = _run(OverheatDetector(), _readings([unit], duration_s=3.5 * DAY))
    assert [a.fault_code for a in found] == [FaultCode.BATTERY_OVERHEAT]
    assert 0 < found[0].detected_at - onset <= 3 * HOUR


def test_air_that_changed_while_the_pack_was_offline_is_not_heat() -> None:
    def rest(t0: float, minutes: int, temp: float) -> list[Reading]:
        metrics = {"temp_c": temp, "current_a": 0.0, "design_capacity_mah": 5200.0}
        return [Reading("b", t0 + 60.0 * m, 0, metrics) for m in range(minutes)]

    # Six hours at 20 °C, offline through the afternoon, back resting in a 31 °C room.
    stream = rest(0.0, 6 * 60, 20.0) + rest(12 * HOUR, 3 * 60, 31.0)
    assert _run(OverheatDetector(), stream) == []


def _ebike_day(
    *,
    morning_air_c: float,
    evening_air_c: float,
    short_w: float = 0.0,
    short_from_min: int = 10**9,
    indoor_c: float = 20.0,
) -> list[Reading]:
    """A day of a 48 V, 14 Ah e-bike pack in first-order thermal physics, minute by minute.

    Parked indoors, a 40-minute commute at 8:00 and another with a four-minute hill climb
    at 17:30, both in outdoor air; the airflow of a ride cools 2.7 times better than
    parking. `short_w` of internal heat from minute `short_from_min` on.
    """
    heat_capacity, cooling, resistance = 2000.0, 0.5, 0.2
    temp, readings = indoor_c, []
    for minute in range(24 * 60):
        current, air, riding = 0.0, indoor_c, False
        if 8 * 60 <= minute < 8 * 60 + 40:
            current, air, riding = -6.0, morning_air_c, True
        elif 17 * 60 + 30 <= minute < 18 * 60 + 10:
            climb = 17 * 60 + 50 <= minute < 17 * 60 + 54
            current, air, riding = (-20.0 if climb else -6.0), evening_air_c, True
        heat = current * current * resistance + (short_w if minute >= short_from_min else 0.0)
        h = cooling * (2.7 if riding else 1.0)
        temp += 60.0 * (heat - h * (temp - air)) / heat_capacity
        metrics = {"temp_c": round(temp, 1), "current_a": current, "design_capacity_mah": 14000.0}
        readings.append(Reading("eb", 60.0 * minute, minute, metrics))
    return readings


def _days(*days: list[Reading]) -> list[Reading]:
    return [
        Reading(r.device_id, r.ts + i * DAY, r.seq + i * 1440, r.metrics)
        for i, day in enumerate(days)
        for r in day
    ]


def test_a_cold_morning_ride_does_not_make_the_evening_hill_climb_look_like_a_short() -> None:
    # Six degrees outside in the morning: the pack comes back colder than it left, which
    # must not teach the detector that discharging heats nothing.
    stream = _days(
        _ebike_day(morning_air_c=15.0, evening_air_c=17.0),
        _ebike_day(morning_air_c=6.0, evening_air_c=14.0),
    )
    detector = OverheatDetector()
    assert _run(detector, stream) == []
    assert detector.gains()[1] >= detector.gains()[0] / BatteryProfile().use_cooling_max


def test_a_ride_on_a_hot_afternoon_is_not_a_short() -> None:
    # 38 °C outside against a 20 °C flat: the pack comes home warm and cools off parked.
    stream = _days(
        _ebike_day(morning_air_c=18.0, evening_air_c=24.0),
        _ebike_day(morning_air_c=26.0, evening_air_c=38.0),
    )
    assert _run(OverheatDetector(), stream) == []


def test_a_short_that_starts_on_a_hot_ride_is_caught_soon_after_it() -> None:
    onset = DAY + (17 * 60 + 40) * 60.0
    stream = _days(
        _ebike_day(morning_air_c=18.0, evening_air_c=24.0),
        _ebike_day(
            morning_air_c=26.0, evening_air_c=38.0, short_w=10.0, short_from_min=17 * 60 + 40
        ),
    )
    (anomaly,) = _run(OverheatDetector(), stream)
    ride_end = DAY + (18 * 60 + 10) * 60.0
    assert onset < anomaly.detected_at <= ride_end + 90 * 60
    assert anomaly.evidence["pack_state"] == "resting"


def test_an_overheating_pack_is_not_a_worn_one(
    shorted_vacuum: tuple[BatteryUnit, list[Reading]],
) -> None:
    assert _run(WearDetector(), shorted_vacuum[1]) == []


# -- wear -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worn_vacuum() -> tuple[BatteryUnit, list[Reading], float]:
    """An old vacuum pack (~89 %) whose bad cell starts fading on day 2; 10-min reports.

    Returns the unit, its readings and when its reported capacity first fell below 70 %.
    """
    unit = BatteryUnit.sample(
        "rv-wear",
        600,
        model="RV-5200",
        fault=FaultSpec(FaultCode.BATTERY_WEAR, START + 2 * DAY),
        age_days=420,
    )
    stream = list(_readings([unit], duration_s=56 * DAY, interval_s=600))
    eol = next(
        r.ts
        for r in stream
        if r.metrics["full_charge_capacity_mah"] < 0.7 * r.metrics["design_capacity_mah"]
    )
    return unit, stream, eol


def test_a_bad_cell_opens_one_wear_ticket_with_its_end_of_life_inside_the_horizon(
    worn_vacuum: tuple[BatteryUnit, list[Reading], float],
) -> None:
    """The ticket comes when the whole 90 % band of the projected crossing lies within the
    horizon (35 cycles): with a band calibrated on real cells that is about a third of a
    horizon ahead, ten days or so for this pack, whose life after the fault is three weeks."""
    unit, stream, eol = worn_vacuum
    assert unit.fault is not None
    onset = unit.fault.onset_ts
    (anomaly,) = _run(WearDetector(), stream)
    assert anomaly.fault_code is FaultCode.BATTERY_WEAR
    assert anomaly.severity is Severity.MEDIUM
    assert onset + 3 * DAY < anomaly.detected_at < eol - 7 * DAY  # trend first, a week ahead
    assert abs(anomaly.onset_at - onset) <= 4 * DAY
    e = anomaly.evidence
    profile = BatteryProfile()
    assert 100 * profile.eol_soh < e["soh_pct"] < 92
    assert e["fade_pct_per_cycle"] > 4 * 0.05  # far beyond normal ageing (0.02-0.05 %)
    assert e["fade_pct_per_day"] > 0.1
    assert e["slope_t"] <= -profile.wear_slope_t
    # On the pack's own cycle count: the band lies inside the horizon, and so does the
    # cycle at which the reported capacity really fell below end of life.
    assert e["axis"] == "cycle" and e["horizon"] == profile.wear_horizon_cycles
    crossed_at = next(r.metrics["cycle_count"] for r in stream if r.ts >= eol)
    assert e["cycle_count"] <= e["projected_eol_cycle_low"] < e["projected_eol_cycle"]
    assert (
        e["projected_eol_cycle"] < e["projected_eol_cycle_high"] <= e["cycle_count"] + e["horizon"]
    )
    assert e["projected_eol_cycle_low"] <= crossed_at <= e["projected_eol_cycle_high"]
    # The projected date comes with a band, and the real crossing falls inside it.
    assert e["projected_eol_earliest"] < e["projected_eol_at"] < e["projected_eol_latest"]
    assert e["projected_eol_earliest"] <= eol <= e["projected_eol_latest"]
    left = (eol - anomaly.detected_at) / DAY
    assert e["days_to_eol_low"] <= left <= e["days_to_eol_high"]
    assert "within the 35-cycle horizon" in anomaly.summary
    assert anomaly.diagnosis == CATALOG[FaultCode.BATTERY_WEAR].as_dict()
    json.dumps(dict(e))


def test_a_worn_pack_does_not_overheat(
    worn_vacuum: tuple[BatteryUnit, list[Reading], float],
) -> None:
    assert _run(OverheatDetector(), worn_vacuum[1]) == []


def _capacity_stream(rows: Iterable[tuple[float, float, float]]) -> list[Reading]:
    """Readings from (day, full-charge share of design, cycle count), one per day."""
    return [
        Reading(
            "b",
            day * DAY,
            seq,
            {
                "full_charge_capacity_mah": round(5200 * soh),
                "design_capacity_mah": 5200,
                "cycle_count": cycles,
            },
        )
        for seq, (day, soh, cycles) in enumerate(rows, start=1)
    ]


def test_capacity_jumping_back_after_rests_neither_alarms_nor_counts_as_recovery() -> None:
    rows = []
    for day in range(150):
        soh = 0.86 - 0.0003 * day + 0.002 * (-1) ** day
        if day % 21 in (0, 1, 2):  # back from a holiday: +4 %, fading over three cycles
            soh += 0.04 / (1 + day % 21)
        rows.append((float(day), soh, 300 + day))
    detector = WearDetector()
    level_error, rising = [], 0
    for reading, (when, _, _) in zip(_capacity_stream(rows), rows, strict=True):
        assert detector.update(reading) is None
        projection = detector.projection()
        if when > 10:
            assert projection is not None
            level_error.append(projection.level - (0.86 - 0.0003 * when))
            rising += projection.slope > 0
    # A 4-point jump moves the trend by under a point, and it keeps seeing the fade.
    assert max(level_error) < 0.01
    assert rising < 0.1 * len(level_error)


def test_a_healthy_pack_with_a_noisy_gauge_and_a_rest_bump_raises_nothing() -> None:
    # A healthy vacuum pack at 84 % that really holds its capacity: what its gauge learned
    # over a fortnight (a bump after a rest first, then 0.4 % scatter). A three-sigma dip
    # against flat is not a fade faster than normal ageing.
    learned = [
        (0.0, 0.8371, 543), (0.52, 0.8423, 544), (1.57, 0.8429, 545), (1.83, 0.8377, 545),
        (2.54, 0.8308, 546), (2.82, 0.8321, 547), (3.57, 0.8362, 548), (3.83, 0.839, 548),
        (4.57, 0.8281, 549), (4.85, 0.8298, 550), (5.57, 0.8294, 551), (5.84, 0.829, 551),
        (7.55, 0.8415, 552), (7.83, 0.8319, 553), (8.55, 0.831, 553), (8.82, 0.8312, 554),
        (9.55, 0.8296, 555), (9.82, 0.8319, 556), (10.55, 0.8269, 556), (11.56, 0.826, 557),
        (11.85, 0.836, 558), (13.54, 0.8402, 559),
    ]  # fmt: skip
    assert _run(WearDetector(), _capacity_stream(learned)) == []


def test_a_new_pack_rearms_the_alarm() -> None:
    fading = [(float(d), 0.86 - 0.004 * d + 0.001 * (-1) ** d, 500 + d) for d in range(40)]
    fresh = [(40.0 + d, 1.01 - 0.004 * d + 0.001 * (-1) ** d, d) for d in range(75)]
    found = _run(WearDetector(), _capacity_stream(fading + fresh))
    assert [a.fault_code for a in found] == [FaultCode.BATTERY_WEAR] * 2
    assert found[1].detected_at > 40 * DAY
    assert found[1].onset_at >= 40 * DAY


def test_a_pack_without_a_cycle_count_is_projected_in_days() -> None:
    # 88 % and fading 0.4 % a day from day 20, re-learned daily, no cycle count reported:
    # end of life (70 %) on day 65.
    readings = [
        Reading(
            "b",
            day * DAY,
            day + 1,
            {
                "full_charge_capacity_mah": round(5200 * (0.88 - 0.004 * max(day - 20, 0))),
                "design_capacity_mah": 5200,
            },
        )
        for day in range(80)
    ]
    detector = WearDetector()
    (anomaly,) = _run(detector, readings)
    e = anomaly.evidence
    assert detector.axis == "day" and e["axis"] == "day" and e["horizon_unit"] == "day"
    assert e["cycle_count"] is None and e["projected_eol_cycle"] is None
    day = anomaly.detected_at / DAY
    assert day <= 65 <= day + e["horizon"]
    assert e["days_to_eol_low"] <= 65 - day <= e["days_to_eol_high"] <= e["horizon"]
    assert "within the 35-day horizon" in anomaly.summary
    projection = detector.projection()
    assert projection is not None and projection.x == 79


# -- plumbing ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [OverheatDetector, WearDetector])
def test_state_hand_off_mid_stream_changes_nothing(
    kind: type[Detector],
    shorted_vacuum: tuple[BatteryUnit, list[Reading]],
    worn_vacuum: tuple[BatteryUnit, list[Reading], float],
) -> None:
    stream = shorted_vacuum[1] if kind is OverheatDetector else worn_vacuum[1]
    whole = _run(kind(), stream)
    assert len(whole) == 1
    for before_alarm in (7, 400):  # in the middle of the episode, and well before it
        cut = next(i for i, r in enumerate(stream) if r.ts >= whole[0].detected_at) - before_alarm
        first = kind()
        head = _run(first, stream[:cut])
        saved = json.loads(json.dumps(first.state()))
        resumed = kind.from_state(BatteryProfile(), saved)
        assert head + _run(resumed, stream[cut:]) == whole


def test_late_and_repeated_readings_are_ignored(
    shorted_vacuum: tuple[BatteryUnit, list[Reading]],
) -> None:
    noisy, clean = states_with_late_and_repeated(
        lambda: (OverheatDetector(), WearDetector()), shorted_vacuum[1][:900]
    )
    assert noisy == clean


def test_the_detector_set_builds_both_detectors_for_a_battery_profile() -> None:
    built = BATTERY_DETECTORS.build(BatteryProfile(), {})
    assert {name: type(d) for name, d in built.items()} == {
        "overheat": OverheatDetector,
        "wear": WearDetector,
    }
    with pytest.raises(TypeError):
        BATTERY_DETECTORS.build(FridgeProfile(), {})


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(detection.battery, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_extreme_finite_values_never_raise() -> None:
    """Values the edge lets through (|x| <= 1e12, subnormals) are judged, never divided by
    zero: a design capacity of 5e-324 mAh once made the C-rate divide by 0.0."""
    engine = DetectionEngine()
    extremes = (5e-324, -5e-324, 1e-300, 0.0, 1.0, -1e12, 1e12)
    seq = 0
    for design in extremes:
        for current in extremes:
            for temp in extremes:
                seq += 1
                metrics = {
                    "design_capacity_mah": design,
                    "full_charge_capacity_mah": design,
                    "current_a": current,
                    "temp_c": temp,
                    "voltage_v": current,
                    "cycle_count": abs(temp),
                    "state_of_charge": 50.0,
                }
                engine.process(
                    DeviceType.BATTERY_PACK, Reading("b-1", 1e9 + 60 * seq, seq, metrics)
                )
    assert engine.device_count == 1
