"""Each air-conditioner detector on its own: fires on its fault, once, and on nothing else —
not on a heatwave, an open window or a rinsed filter."""

from __future__ import annotations

import dataclasses
import doctest
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

import detection.air_conditioner
from detection.air_conditioner import AC_DETECTORS, FilterCloggedDetector, RefrigerantLowDetector
from detection.catalog import CATALOG
from detection.profiles import AirConditionerProfile
from device_sim.air_conditioner import (
    METRICS,
    AirConditionerBank,
    AirConditionerUnit,
    Climate,
    Heatwave,
)
from device_sim.faults import FaultSpec
from domain import Anomaly, FaultCode, Reading, Severity
from tests.detection.conftest import states_with_late_and_repeated

HOUR = 3600.0
DAY = 86400.0
START = datetime(2025, 7, 14, tzinfo=timezone(timedelta(hours=8))).timestamp()  # a Monday
HEATWAVE = Heatwave(START + 8 * DAY, days=4.0, extra_c=4.0)
CLIMATE = Climate(heatwaves=(HEATWAVE,), heatwaves_per_30d=0.0, weather_seed=3)
Detector = RefrigerantLowDetector | FilterCloggedDetector


@dataclass(frozen=True)
class Stream:
    unit: AirConditionerUnit
    readings: list[Reading]


def _run(detector: Detector, stream: Iterable[Reading]) -> list[Anomaly]:
    return [a for a in map(detector.update, stream) if a is not None]


def _streams(units: Sequence[AirConditionerUnit], duration_s: float) -> dict[str, Stream]:
    bank = AirConditionerBank(units, start_ts=START)
    rows: list[list[Reading]] = [[] for _ in units]
    for ts, metrics in bank.ticks(duration_s):
        for i, values in enumerate(zip(*(metrics[m] for m in METRICS), strict=True)):
            rows[i].append(
                Reading(units[i].device_id, ts, bank.seq, dict(zip(METRICS, values, strict=True)))
            )
    return {u.device_id: Stream(u, r) for u, r in zip(units, rows, strict=True)}


def _healthy_fleet() -> list[AirConditionerUnit]:
    """30 healthy units; two leave a window open in every session, two get their filter
    rinsed during the fortnight."""
    units = [AirConditionerUnit.sample(f"ac-{i:02d}", 700 + i, climate=CLIMATE) for i in range(30)]
    for i in (0, 1):
        habits = dataclasses.replace(units[i].occupants, window_open_per_week=7.0)
        units[i] = dataclasses.replace(units[i], occupants=habits)
    for i, due in ((2, 5.0), (3, 10.0)):
        every = units[i].params.filter_clean_every_s
        phase = ((START + due * DAY) % every) / every
        params = dataclasses.replace(units[i].params, filter_clean_phase=phase)
        units[i] = dataclasses.replace(units[i], params=params)
    return units


def _faulty(code: FaultCode, prefix: str, seeds: Sequence[int]) -> list[AirConditionerUnit]:
    models = ("AC-3500", "AC-2500", "AC-3500")
    return [
        AirConditionerUnit.sample(
            f"{prefix}-{n}",
            seed,
            model=models[n % 3],
            climate=CLIMATE,
            fault=FaultSpec(code, START + (2.0 + n) * DAY),
        )
        for n, seed in enumerate(seeds)
    ]


@pytest.fixture(scope="module")
def fleet() -> dict[str, Stream]:
    """A fortnight in July with a four-day heatwave from day 8: 30 healthy units, three
    leaking refrigerant and three clogging filters (onsets on days 2, 3, 4)."""
    units = _healthy_fleet()
    units += _faulty(FaultCode.AC_REFRIGERANT_LOW, "leak", (801, 802, 803))
    units += _faulty(FaultCode.AC_FILTER_CLOGGED, "clog", (901, 902, 903))
    return _streams(units, 14 * DAY)


def _of(fleet: dict[str, Stream], prefix: str) -> list[Stream]:
    return [s for name, s in fleet.items() if name.startswith(prefix)]


def test_healthy_fleet_through_a_heatwave_open_windows_and_rinses_raises_nothing(
    fleet: dict[str, Stream],
) -> None:
    for stream in _of(fleet, "ac-"):
        for kind in (RefrigerantLowDetector, FilterCloggedDetector):
            assert _run(kind(), stream.readings) == [], stream.unit.device_id


def test_without_the_conditions_bins_weather_and_load_would_look_like_a_leak(
    fleet: dict[str, Stream],
) -> None:
    # One bin for all conditions: the first days' cooling per watt is then "normal" for
    # hot afternoons and hard-working compressors too, where a watt buys less.
    naive = AirConditionerProfile(refrigerant_outdoor_bin_c=1e3, refrigerant_power_bin_log=1e3)
    found = [a for s in _of(fleet, "ac-") for a in _run(RefrigerantLowDetector(naive), s.readings)]
    assert found, "healthy units should fool a detector that ignores the conditions"


def test_leaking_units_are_flagged_high_once_with_onset_evidence_and_diagnosis(
    fleet: dict[str, Stream],
) -> None:
    for stream in _of(fleet, "leak-"):
        fault = stream.unit.fault
        assert fault is not None
        (anomaly,) = _run(RefrigerantLowDetector(), stream.readings)
        assert anomaly.fault_code is FaultCode.AC_REFRIGERANT_LOW
        assert anomaly.severity is Severity.HIGH
        assert 0 < anomaly.detected_at - fault.onset_ts <= 7 * DAY
        # A slow leak shows nothing at first: its onset is dated within a day or so.
        assert fault.onset_ts - DAY <= anomaly.onset_at < anomaly.detected_at
        assert 0.0 <= anomaly.confidence <= 1.0
        evidence = anomaly.evidence
        assert evidence["metric"] == "supply_return_delta_c"
        assert evidence["observed"] < 0.9 * evidence["baseline"]
        assert evidence["cooling_per_watt_ratio"] < 0.86
        assert evidence["window_start"] == anomaly.onset_at
        assert evidence["window_end"] == anomaly.detected_at
        assert anomaly.diagnosis == CATALOG[FaultCode.AC_REFRIGERANT_LOW].as_dict()
        json.dumps({"evidence": dict(evidence), "diagnosis": dict(anomaly.diagnosis)})


def test_an_inverter_leak_is_found_while_the_room_is_still_within_a_degree_of_setpoint(
    fleet: dict[str, Stream],
) -> None:
    stream = fleet["leak-0"]  # an inverter unit in a living room, leaking from day 2
    assert stream.unit.params.inverter
    (anomaly,) = _run(RefrigerantLowDetector(), stream.readings)
    sessions = stream.unit.occupants.sessions(
        START, START + 15 * DAY, stream.unit.seed, stream.unit.climate
    )
    last_hour = [
        r
        for r in stream.readings
        if anomaly.detected_at - HOUR < r.ts <= anomaly.detected_at and r.get("compressor_on")
    ]
    _, setpoints, _ = sessions.at(np.array([r.ts for r in last_hour]))
    room = np.array([r.metrics["return_temp_c"] for r in last_hour])
    assert last_hour and float(np.max(room - setpoints)) <= 1.0


def test_healthy_inverters_at_part_load_in_mild_weather_stay_quiet() -> None:
    # Early summer: the compressors idle along at low speed most of the time, with
    # setpoint changes, open windows and sleep modes as the households have them.
    mild = Climate(season_doy=165.0, heatwaves_per_30d=0.0, weather_seed=5)
    units = [
        AirConditionerUnit.sample(f"mild-{i}", 1300 + i, model="AC-3500", climate=mild)
        for i in range(8)
    ]
    streams = _streams(units, 10 * DAY)
    powers = [
        r.metrics["power_w"] for s in streams.values() for r in s.readings if r.get("compressor_on")
    ]
    rated = min(u.params.compressor_w for u in units)
    assert float(np.median(powers)) < 0.6 * rated, "the premise: mostly part load"
    for stream in streams.values():
        assert _run(RefrigerantLowDetector(), stream.readings) == [], stream.unit.device_id


def test_clogging_filters_are_flagged_low_once_with_onset_and_evidence(
    fleet: dict[str, Stream],
) -> None:
    for stream in _of(fleet, "clog-"):
        fault = stream.unit.fault
        assert fault is not None
        (anomaly,) = _run(FilterCloggedDetector(), stream.readings)
        assert anomaly.fault_code is FaultCode.AC_FILTER_CLOGGED
        assert anomaly.severity is Severity.LOW
        assert 0 < anomaly.detected_at - fault.onset_ts <= 5 * DAY
        assert fault.onset_ts - 12 * HOUR <= anomaly.onset_at < anomaly.detected_at
        evidence = anomaly.evidence
        assert evidence["metric"] == "filter_dp_pa"
        assert evidence["normalised_dp_pa"] >= 1.25 * evidence["baseline"]
        assert evidence["trend_pa_per_run_h"] > 0
        assert anomaly.diagnosis == CATALOG[FaultCode.AC_FILTER_CLOGGED].as_dict()
        json.dumps(dict(evidence))


def test_a_leak_is_not_a_clogged_filter_and_a_clogged_filter_is_not_a_leak(
    fleet: dict[str, Stream],
) -> None:
    for stream in _of(fleet, "leak-"):
        assert _run(FilterCloggedDetector(), stream.readings) == []
    for stream in _of(fleet, "clog-"):
        assert _run(RefrigerantLowDetector(), stream.readings) == []


@pytest.mark.parametrize("kind", [RefrigerantLowDetector, FilterCloggedDetector])
def test_state_hand_off_mid_stream_changes_nothing(
    kind: type[Detector], fleet: dict[str, Stream]
) -> None:
    stream = (_of(fleet, "leak-") if kind is RefrigerantLowDetector else _of(fleet, "clog-"))[0]
    whole = _run(kind(), stream.readings)
    assert len(whole) == 1
    # Hand over in the middle of the episode, a few hours before it is confirmed.
    cut = next(i for i, r in enumerate(stream.readings) if r.ts >= whole[0].detected_at) - 180
    first = kind()
    before = _run(first, stream.readings[:cut])
    saved = json.loads(json.dumps(first.state()))
    resumed = kind.from_state(AirConditionerProfile(), saved)
    assert before + _run(resumed, stream.readings[cut:]) == whole


def test_late_and_repeated_readings_are_ignored(fleet: dict[str, Stream]) -> None:
    stream = _of(fleet, "leak-")[0].readings[: 3 * 1440]
    noisy, clean = states_with_late_and_repeated(
        lambda: (RefrigerantLowDetector(), FilterCloggedDetector()), stream
    )
    assert noisy == clean


def _synthetic(
    rows: Iterable[tuple[float, float, int, float]], *, outdoor: float = 33.0
) -> list[Reading]:
    """Steady cooling readings from (ts, supply-return ΔT, compressor_on, filter dp)."""
    return [
        Reading(
            "ac",
            ts,
            seq,
            {
                "supply_temp_c": 26.0 - delta,
                "return_temp_c": 26.0,
                "outdoor_temp_c": outdoor,
                "compressor_on": on,
                "fan_rpm": 1000,
                "power_w": 800.0 if on else 40.0,
                "filter_dp_pa": dp,
            },
        )
        for seq, (ts, delta, on, dp) in enumerate(rows, start=1)
    ]


HEALTHY_DELTA = 10.0  # any unit's own normal: nothing about it is assumed


def test_an_unknown_unit_gives_no_verdict_on_its_first_day() -> None:
    # Far less cooling per watt than most units give, from the first reading: without a
    # maker's figure that is this unit's normal, and nothing is said before it is known.
    stream = _synthetic((60.0 * i, 0.3 * HEALTHY_DELTA, 1, 40.0) for i in range(30 * 60))
    detector = RefrigerantLowDetector()
    assert _run(detector, stream) == []
    assert detector.shortfall() == 0.0


def test_a_leak_episode_ends_after_a_recharge_and_a_new_leak_is_flagged_again() -> None:
    minute, rows = 60.0, list[tuple[float, float, int, float]]()
    for hours, delta in ((40, 1.0), (10, 0.6), (6, 0.65), (20, 1.0), (10, 0.6)):
        t0 = rows[-1][0] + minute if rows else 0.0
        rows += [(t0 + i * minute, delta * HEALTHY_DELTA, 1, 40.0) for i in range(hours * 60)]
    found = _run(RefrigerantLowDetector(), _synthetic(rows))
    assert len(found) == 2  # the second dip of the first episode does not re-open it
    assert found[1].detected_at - found[0].detected_at > 30 * HOUR


def test_a_rinse_ends_a_clog_episode_and_a_new_clog_is_flagged_again() -> None:
    minute, rows, t = 60.0, list[tuple[float, float, int, float]](), 0.0
    for hours, start_dp, per_hour in (
        (12, 40.0, 0.0),
        (30, 40.0, 3.0),
        (12, 35.0, 0.0),
        (40, 35.0, 3.0),
    ):
        rows += [(t + i * minute, 10.0, 1, start_dp + per_hour * i / 60) for i in range(hours * 60)]
        t = rows[-1][0] + minute
    found = _run(FilterCloggedDetector(), _synthetic(rows))
    assert [a.fault_code for a in found] == [FaultCode.AC_FILTER_CLOGGED] * 2
    assert abs(found[0].onset_at - 12 * HOUR) <= 4 * HOUR


def test_a_rinsed_filter_or_a_change_of_fan_speed_is_not_a_clog() -> None:
    minute = 60.0
    rows = [(i * minute, 10.0, 1, 70.0 if i < 600 else 30.0) for i in range(1200)]  # rinse
    assert _run(FilterCloggedDetector(), _synthetic(rows)) == []
    # dp follows the square of fan speed: the same filter on high and on low.
    readings = []
    for i in range(24 * 60):
        rpm = 1200 if (i // 90) % 2 else 750
        readings.append(
            Reading(
                "ac", i * minute, i + 1, {"filter_dp_pa": 40.0 * (rpm / 1000) ** 2, "fan_rpm": rpm}
            )
        )
    assert _run(FilterCloggedDetector(), readings) == []


def test_running_without_the_filter_for_a_while_is_not_a_clog_once_it_is_back() -> None:
    minute = 60.0
    rows = [(i * minute, 10.0, 1, 0.3 if 24 * 60 <= i < 30 * 60 else 40.0) for i in range(54 * 60)]
    assert _run(FilterCloggedDetector(), _synthetic(rows)) == []


def test_unwatched_time_does_not_count_as_running() -> None:
    minute = 60.0
    detector = RefrigerantLowDetector()
    before = _synthetic((i * minute, HEALTHY_DELTA, 1, 40.0) for i in range(20))
    _run(detector, before)
    assert detector.block_[0] > 0
    weight = detector.block_[0]
    # After an hour with nothing received the compressor must settle again in our sight.
    after = _synthetic(
        (before[-1].ts + HOUR + i * minute, HEALTHY_DELTA, 1, 40.0) for i in range(5)
    )
    _run(detector, after)
    assert detector.block_[0] == weight


def test_detector_set_builds_both_from_a_profile_or_a_saved_state() -> None:
    built = AC_DETECTORS.build(AirConditionerProfile(), {})
    assert set(built) == {"refrigerant_low", "filter_clogged"}
    saved = {name: d.state() for name, d in built.items()}
    assert {
        n: d.state() for n, d in AC_DETECTORS.build(AirConditionerProfile(), saved).items()
    } == saved
    with pytest.raises(TypeError):
        AC_DETECTORS.build(object(), {})


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(detection.air_conditioner, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.slow
def test_measured_delays_and_false_alarms_on_a_month_of_a_mixed_fleet() -> None:
    """`pytest -m slow -s tests/detection/test_air_conditioner_detectors.py` prints the
    figures: 100 healthy units and 40 faulty ones (severity 0.5-1, onsets on days 2-12),
    a month of July with random heatwaves and a pinned one, another city's weather."""
    import statistics
    import time

    import numpy as np

    climate = Climate(
        heatwaves=(Heatwave(START + 15 * DAY, days=5.0, extra_c=4.5),),
        heatwaves_per_30d=1.0,
        weather_seed=11,
    )
    rng = np.random.default_rng(2025)
    units = [
        AirConditionerUnit.sample(f"ok-{i:03d}", 5000 + i, climate=climate) for i in range(100)
    ]
    for n in range(40):
        code = FaultCode.AC_REFRIGERANT_LOW if n % 2 else FaultCode.AC_FILTER_CLOGGED
        spec = FaultSpec(
            code, START + float(rng.uniform(2, 12)) * DAY, float(rng.uniform(0.5, 1.0))
        )
        units.append(
            AirConditionerUnit.sample(f"bad-{n:02d}", 6000 + n, climate=climate, fault=spec)
        )
    detectors = [(RefrigerantLowDetector(), FilterCloggedDetector()) for _ in units]
    found: dict[str, list[Anomaly]] = {u.device_id: [] for u in units}
    bank = AirConditionerBank(units, start_ts=START)
    generating = detecting = 0.0
    worst = 0.0  # the largest shortfall a healthy unit showed
    count = 0
    clock = time.perf_counter()
    for ts, metrics in bank.ticks(30 * DAY):
        now = time.perf_counter()
        generating += now - clock
        columns = [metrics[m] for m in METRICS]
        for i, values in enumerate(zip(*columns, strict=True)):
            reading = Reading(
                units[i].device_id, ts, bank.seq, dict(zip(METRICS, values, strict=True))
            )
            for detector in detectors[i]:
                anomaly = detector.update(reading)
                if anomaly is not None:
                    found[reading.device_id].append(anomaly)
        count += len(units)
        worst = max(
            [worst]
            + [d[0].shortfall() for d, u in zip(detectors, units, strict=True) if u.fault is None]
        )
        clock = time.perf_counter()
        detecting += clock - now
    false_alarms = sum(len(found[u.device_id]) for u in units if u.fault is None)
    print(
        f"\n{count:,} readings; generated {count / generating:,.0f}/s; "
        f"detected {2 * count / detecting:,.0f} detector updates/s (incl. building Readings)"
    )
    print(
        f"healthy: {false_alarms} anomalies in {100 * 30} unit-days; worst refrigerant "
        f"shortfall {worst:.3f} (threshold {AirConditionerProfile().refrigerant_drop})"
    )
    for u in units:
        for a in found[u.device_id] if u.fault is None else ():
            print(
                f"  false alarm {u.device_id} {u.params.model} {a.fault_code.value} "
                f"day {(a.detected_at - START) / DAY:.1f}: {dict(a.evidence)}"
            )
    for code in (FaultCode.AC_REFRIGERANT_LOW, FaultCode.AC_FILTER_CLOGGED):
        delays, onset_errors, missed, wrong = [], [], 0, 0
        for u in units:
            if u.fault is None or u.fault.code is not code:
                continue
            hits = [a for a in found[u.device_id] if a.fault_code is code]
            wrong += len(found[u.device_id]) - len(hits)
            if not hits:
                missed += 1
                continue
            delays.append((hits[0].detected_at - u.fault.onset_ts) / DAY)
            onset_errors.append((hits[0].onset_at - u.fault.onset_ts) / HOUR)
        print(
            f"{code.value}: {len(delays)}/{len(delays) + missed} found, {wrong} other anomalies; "
            f"delay days median {statistics.median(delays):.1f} (min {min(delays):.1f}, "
            f"max {max(delays):.1f}); onset estimate late by median "
            f"{statistics.median(onset_errors):.0f} h"
        )
        assert missed <= 2 and wrong == 0
    assert false_alarms <= 1
