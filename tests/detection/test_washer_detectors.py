"""Each washer detector on its own: fires on its fault, once, and on nothing else."""

from __future__ import annotations

import doctest
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import pytest

import detection.washer_bearing
import detection.washer_drain
import detection.washer_imbalance
from detection.catalog import CATALOG
from detection.profiles import WasherProfile
from detection.profiles.washer import WASHER_MODEL_PROFILES, washer_profile_for
from detection.washer import (
    WASHER_DETECTORS,
    BearingWearDetector,
    DrainBlockedDetector,
    ImbalanceDetector,
)
from device_sim.faults import FaultSpec
from device_sim.washer import METRICS, PROGRAMS, WasherBank, WasherUnit
from domain import Anomaly, FaultCode, Reading, Severity
from tests.detection.conftest import states_with_late_and_repeated

HOUR = 3600.0
DAY = 86400.0
START = 1_764_000_000.0 - (1_764_000_000.0 + 8 * HOUR) % DAY  # local (UTC+8) midnight

Detector = ImbalanceDetector | DrainBlockedDetector | BearingWearDetector
KINDS: dict[FaultCode, type[Detector]] = {
    FaultCode.WASHER_IMBALANCE: ImbalanceDetector,
    FaultCode.WASHER_DRAIN_BLOCKED: DrainBlockedDetector,
    FaultCode.WASHER_BEARING_WEAR: BearingWearDetector,
}


def _run(detector: Detector, stream: Iterable[Reading]) -> list[Anomaly]:
    return [a for a in map(detector.update, stream) if a is not None]


@dataclass(frozen=True)
class Faulty:
    unit: WasherUnit
    stream: list[Reading]

    @property
    def onset(self) -> float:
        assert self.unit.fault is not None
        return self.unit.fault.onset_ts


def _faulty(code: FaultCode, seed: int, onset_day: float, days: float) -> Faulty:
    unit = WasherUnit.sample(f"washer-{seed}", seed, fault=FaultSpec(code, START + onset_day * DAY))
    return Faulty(unit, list(unit.readings(start_ts=START, duration_s=days * DAY)))


@pytest.fixture(scope="module")
def faulty() -> dict[FaultCode, Faulty]:
    """A washer with each fault: a suspension failing on day 2 (a washer that runs few
    cycles, so it is seen for 16 days), a drain starting to clog on
    day 1 (blocked a week later), drum bearings starting to wear on day 2."""
    return {
        FaultCode.WASHER_IMBALANCE: _faulty(FaultCode.WASHER_IMBALANCE, 75, 2, 16),
        FaultCode.WASHER_DRAIN_BLOCKED: _faulty(FaultCode.WASHER_DRAIN_BLOCKED, 74, 1, 12),
        FaultCode.WASHER_BEARING_WEAR: _faulty(FaultCode.WASHER_BEARING_WEAR, 70, 2, 21),
    }


@dataclass
class Watched:
    """One washer's three detectors."""

    imbalance: ImbalanceDetector
    drain: DrainBlockedDetector
    bearing: BearingWearDetector

    def update(self, reading: Reading) -> list[Anomaly]:
        found = (d.update(reading) for d in (self.imbalance, self.drain, self.bearing))
        return [a for a in found if a is not None]


@dataclass
class FleetRun:
    anomalies: list[Anomaly]
    washers: dict[str, Watched]
    readings: int


def _healthy_units(count: int, seed: int) -> list[WasherUnit]:
    """Normal life, including the households that make it hard: a third wash a lot of
    bedding and towels (loads that will not balance), a third fill the drum to the top."""
    units = []
    bulky = tuple(0.4 if p.name == "bulky" else 0.15 for p in PROGRAMS)
    for i in range(count):
        unit = WasherUnit.sample(f"washer-{i:04d}", seed + i)
        if i % 3 == 1:
            unit = replace(unit, habits=replace(unit.habits, program_weights=bulky))
        elif i % 3 == 2:
            unit = replace(unit, habits=replace(unit.habits, load_share=1.0))
        units.append(unit)
    return units


def _bank_readings(units: list[WasherUnit], days: float) -> Iterator[Reading]:
    bank = WasherBank(units, start_ts=START)
    for ts, metrics in bank.ticks(days * DAY):
        rows = zip(*(metrics[name] for name in METRICS), strict=True)
        for unit, row in zip(units, rows, strict=True):
            yield Reading(unit.device_id, ts, bank.seq, dict(zip(METRICS, row, strict=True)))


@pytest.fixture(scope="module")
def healthy_fleet() -> FleetRun:
    """30 healthy washers for two weeks, through all three detectors."""
    units = _healthy_units(30, 500)
    washers = {
        u.device_id: Watched(
            ImbalanceDetector(),
            DrainBlockedDetector(),
            BearingWearDetector(washer_profile_for(u.params.model)),
        )
        for u in units
    }
    run = FleetRun([], washers, 0)
    for reading in _bank_readings(units, 14):
        run.readings += 1
        run.anomalies += washers[reading.device_id].update(reading)
    return run


def test_broken_suspension_is_flagged_once_with_evidence_and_diagnosis(
    faulty: dict[FaultCode, Faulty],
) -> None:
    case = faulty[FaultCode.WASHER_IMBALANCE]
    (anomaly,) = _run(ImbalanceDetector(), case.stream)
    assert anomaly.device_id == case.unit.device_id
    assert anomaly.fault_code is FaultCode.WASHER_IMBALANCE
    assert anomaly.severity is Severity.MEDIUM
    # It first learns its own normal from its first spins (this washer runs a cycle
    # every few days, and its damper fails on day 2): a week and a half.
    assert case.onset < anomaly.onset_at < anomaly.detected_at <= case.onset + 11 * DAY
    assert 0.0 <= anomaly.confidence <= 1.0
    evidence = anomaly.evidence
    assert evidence["metric"] == "vibration_g"
    assert evidence["observed"] >= evidence["threshold"]
    assert evidence["observed"] > 2 * evidence["baseline"]
    assert evidence["delta"] > 0
    assert evidence["spin_up_peak_g"] > 1.0
    assert evidence["cycles_rough"] >= 3
    assert evidence["window_start"] == anomaly.onset_at
    assert evidence["window_end"] == anomaly.detected_at
    assert anomaly.diagnosis == CATALOG[FaultCode.WASHER_IMBALANCE].as_dict()
    json.dumps({"evidence": dict(evidence), "diagnosis": dict(anomaly.diagnosis)})


def test_blocked_drain_is_flagged_when_it_stops_with_water_inside(
    faulty: dict[FaultCode, Faulty],
) -> None:
    case = faulty[FaultCode.WASHER_DRAIN_BLOCKED]
    (anomaly,) = _run(DrainBlockedDetector(), case.stream)
    assert anomaly.fault_code is FaultCode.WASHER_DRAIN_BLOCKED
    # The clogging is slow to show at one report a minute; the block is caught at once.
    blocked_at = case.onset + 7 * DAY
    assert blocked_at < anomaly.detected_at <= blocked_at + 2 * DAY
    assert case.onset < anomaly.onset_at < anomaly.detected_at
    evidence = anomaly.evidence
    assert evidence["metric"] == "water_level_l"
    if evidence["stalled"]:
        assert anomaly.severity is Severity.HIGH
        assert evidence["level_held_l"] >= 2.0 and evidence["pump_reports"] >= 4
    else:
        assert anomaly.severity is Severity.MEDIUM
    assert evidence["observed"] is not None and evidence["observed"] < 12.0
    assert evidence["slow_cycles_in_a_row"] >= 1
    assert anomaly.diagnosis == CATALOG[FaultCode.WASHER_DRAIN_BLOCKED].as_dict()
    json.dumps(dict(evidence))


def test_wearing_bearings_are_flagged_once_as_current_and_rumble_creep_up(
    faulty: dict[FaultCode, Faulty],
) -> None:
    case = faulty[FaultCode.WASHER_BEARING_WEAR]
    (anomaly,) = _run(BearingWearDetector(), case.stream)
    assert anomaly.fault_code is FaultCode.WASHER_BEARING_WEAR
    assert anomaly.severity is Severity.MEDIUM
    assert case.onset < anomaly.onset_at < anomaly.detected_at <= case.onset + 14 * DAY
    evidence = anomaly.evidence
    assert evidence["metric"] == "motor_current_a"
    assert evidence["observed"] > evidence["baseline"] and evidence["delta"] > 0
    assert evidence["recent_rise"] > 0.08
    assert evidence["vibration_observed_g"] > evidence["vibration_baseline_g"]
    assert evidence["cycles_counted"] >= 2
    assert anomaly.diagnosis == CATALOG[FaultCode.WASHER_BEARING_WEAR].as_dict()
    json.dumps(dict(evidence))


def test_healthy_washers_raise_nothing_in_two_weeks(healthy_fleet: FleetRun) -> None:
    assert healthy_fleet.readings == 30 * 14 * 1440
    assert healthy_fleet.anomalies == []
    # The detectors did judge normal life: spins, cycles, a learned normal current.
    judged = [w.imbalance.window_ for w in healthy_fleet.washers.values()]
    assert sum(len(w) > 0 for w in judged) >= 20  # after learning each one's first spins
    learned = [w.bearing.learned_ for w in healthy_fleet.washers.values()]
    assert sum(n >= 3 for n in learned) >= 20


@pytest.mark.parametrize(
    ("code", "other"),
    [(c, o) for c in KINDS for o in KINDS if c is not o],
    ids=lambda c: c.value.removeprefix("WASHER_").lower(),
)
def test_a_detector_is_silent_on_the_other_faults(
    code: FaultCode, other: FaultCode, faulty: dict[FaultCode, Faulty]
) -> None:
    assert _run(KINDS[code](), faulty[other].stream) == []


def test_bulky_loads_fool_a_naive_vibration_rule_but_not_the_detector() -> None:
    """Bedding every time: the controller redistributes, retries, spins slower, and now
    and then the tub thumps hard through resonance. That is normal life."""
    unit = WasherUnit.sample("washer-bedding", 33, model="WM-700")
    bulky = tuple(float(p.name == "bulky") for p in PROGRAMS)
    unit = replace(unit, habits=replace(unit.habits, program_weights=bulky, spin_rpm=1000.0))
    stream = list(unit.readings(start_ts=START, duration_s=21 * DAY))
    # Naive: a cycle whose spin shook over 0.8 g, or ended below the chosen speed.
    naive, shook, top, spinning = 0, 0.0, 0.0, False
    for r in stream:
        m = r.metrics
        if m["cycle_phase"] == 4:
            shook, top, spinning = max(shook, m["vibration_g"]), max(top, m["drum_rpm"]), True
        elif m["cycle_phase"] == 0 and spinning:
            naive += int(shook > 0.8 or top < 950)
            shook, top, spinning = 0.0, 0.0, False
    assert naive >= 4
    assert _run(ImbalanceDetector(), stream) == []
    # Slower spins for loads it could not balance: wetter laundry, shaking at the limit.
    assert _run(BearingWearDetector(washer_profile_for("WM-700")), stream) == []


@pytest.mark.parametrize("code", list(KINDS), ids=lambda c: c.value)
def test_state_hand_off_mid_stream_changes_nothing(
    code: FaultCode, faulty: dict[FaultCode, Faulty]
) -> None:
    kind, stream = KINDS[code], faulty[code].stream
    whole = _run(kind(), stream)
    assert len(whole) == 1
    # Hand over mid-cycle, a few reports before the anomaly is confirmed.
    cut = next(i for i, r in enumerate(stream) if r.ts >= whole[0].detected_at) - 5
    first = kind()
    before = _run(first, stream[:cut])
    saved = json.loads(json.dumps(first.state()))
    resumed = kind.from_state(WasherProfile(), saved)
    assert before + _run(resumed, stream[cut:]) == whole
    # The engine's way in: the detector set restores a named detector from its state.
    name = next(n for n, cls in WASHER_DETECTORS.detectors.items() if cls is kind)
    built = WASHER_DETECTORS.build(WasherProfile(), {name: saved})
    assert set(built) == {"imbalance", "drain_blocked", "bearing_wear"}
    assert built[name].state() == saved


def test_late_and_repeated_readings_are_ignored(faulty: dict[FaultCode, Faulty]) -> None:
    stream = faulty[FaultCode.WASHER_DRAIN_BLOCKED].stream[: 4 * 1440]
    noisy, clean = states_with_late_and_repeated(
        lambda: [cls() for cls in KINDS.values()], stream, lag=3
    )
    assert noisy == clean


def _drain_cycle(t0: float, levels: list[float], pumps: list[int]) -> list[Reading]:
    """Fill and wash at 12 L, then a drain reporting `levels` with the pump `pumps`, idle."""
    rows = [(1, 6.0, 0), (2, 12.0, 0), (2, 12.0, 0)]
    rows += [(5, lv, p) for lv, p in zip(levels, pumps, strict=True)]
    rows += [(0, 0.0, 0)] * 3
    return [
        Reading(
            "w",
            t0 + 60.0 * i,
            i,
            {"cycle_phase": ph, "drum_rpm": 0, "water_level_l": lv, "drain_pump_on": p},
        )
        for i, (ph, lv, p) in enumerate(rows, start=1)
    ]


def test_time_offline_during_a_drain_is_not_a_blocked_drain() -> None:
    start = _drain_cycle(0.0, [11.0, 9.0, 7.0, 5.0, 3.0], [1] * 5)[:-3]
    # A power cut: nothing for two hours; back on, the controller waits with water inside.
    back = start[-1].ts + 2 * HOUR
    after = [
        Reading("w", back + 60.0 * i, 100 + i, {**start[-1].metrics, "drain_pump_on": 0})
        for i in range(20)
    ]
    assert _run(DrainBlockedDetector(), start + after) == []
    # Watched without a gap, the same pump-off-with-water is a blocked drain.
    watched = start + [
        Reading("w", start[-1].ts + 60.0 * (i + 1), 50 + i, after[i].metrics) for i in range(3)
    ]
    assert [a.severity for a in _run(DrainBlockedDetector(), watched)] == [Severity.HIGH]


def test_drain_latch_holds_while_slow_and_rearms_after_the_filter_is_cleaned() -> None:
    slow = ([12.0, 6.0, 1.5, 0.3], [1, 1, 1, 1])  # 6 L/min: slow
    normal = ([0.3, 0.3], [1, 1])
    cycles = [slow, slow, slow, normal, normal, slow, slow]
    stream: list[Reading] = []
    for n, (levels, pumps) in enumerate(cycles):
        stream += _drain_cycle(n * DAY, levels, pumps)
    found = _run(DrainBlockedDetector(), stream)
    assert [a.severity for a in found] == [Severity.MEDIUM, Severity.MEDIUM]
    assert [round(a.detected_at / DAY) for a in found] == [1, 6]
    assert found[0].onset_at == pytest.approx(3 * 60.0)  # the first slow drain began after it


@pytest.mark.parametrize("model", [None, "WM-900"], ids=["type", "model"])
def test_a_household_changing_its_spin_speed_is_not_bearing_wear(model: str | None) -> None:
    """Ten days of 1000 rpm spins, then ten of 1400: the motor draws much more, normally."""
    unit = WasherUnit.sample("washer-speeds", 78, model="WM-900")
    cotton = tuple(float(p.name == "cotton") for p in PROGRAMS)
    detector = BearingWearDetector(washer_profile_for(model))
    found = []
    for first_day, rpm in ((0, 1000.0), (10, 1400.0)):
        habits = replace(unit.habits, program_weights=cotton, spin_rpm=rpm)
        part = replace(unit, habits=habits)
        found += _run(
            detector, part.readings(start_ts=START + first_day * DAY, duration_s=10 * DAY)
        )
    assert detector.learned_ >= 3
    assert found == []


@pytest.mark.parametrize(
    "module", [detection.washer_imbalance, detection.washer_drain, detection.washer_bearing]
)
def test_docstring_examples_hold(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


def test_healthy_fleet_amplification_is_far_below_a_broken_suspension(
    healthy_fleet: FleetRun, faulty: dict[FaultCode, Faulty]
) -> None:
    """What separates the two: spin-up shaking relative to shaking at speed."""
    learned = [w.imbalance.normal_amplification_ for w in healthy_fleet.washers.values()]
    normal = [np.exp(a) for a in learned if a is not None]
    (anomaly,) = _run(ImbalanceDetector(), faulty[FaultCode.WASHER_IMBALANCE].stream)
    assert max(normal) < 3.5
    assert anomaly.evidence["observed"] > 2 * max(normal)


def _spin_cycles(amps: list[float], vib: float = 0.15) -> list[Reading]:
    """One 1000 rpm cycle per current: wash, four reports at speed, idle."""
    rows, t = [], 0.0
    for a in amps:
        for phase, rpm, current in [(2, 40, 0.6)] * 2 + [(4, 1000, a)] * 4 + [(0, 0, 0.0)]:
            t += 60.0
            metrics = {
                "cycle_phase": phase,
                "drum_rpm": rpm,
                "motor_current_a": current,
                "vibration_g": vib * (current / amps[0]) ** 4,
            }
            rows.append(Reading("w-worn", t, int(t // 60), metrics))
    return rows


RATED = WasherProfile(bearing_rated_current_a=1.7)  # a maker's figure, as provisioned
WORN_FROM_THE_START = _spin_cycles([1.7 * (1.18 + 0.02 * i) for i in range(12)])


def test_bearings_worn_when_first_seen_are_judged_against_a_provisioned_rating() -> None:
    (anomaly,) = _run(BearingWearDetector(RATED), WORN_FROM_THE_START)
    assert anomaly.evidence["rated_current_a"] == 1.7
    assert anomaly.evidence["observed"] > anomaly.evidence["baseline"]
    assert anomaly.detected_at <= 8 * 7 * 60.0  # within its first eight cycles
    # Without a rating its own first cycles are its normal: nothing said before that.
    detector = BearingWearDetector()
    assert _run(detector, WORN_FROM_THE_START[: 3 * 7]) == []


def test_state_hand_off_with_a_rated_profile_changes_nothing() -> None:
    stream = WORN_FROM_THE_START
    whole = _run(BearingWearDetector(RATED), stream)
    assert len(whole) == 1
    cut = next(i for i, r in enumerate(stream) if r.ts >= whole[0].detected_at) - 5
    first = BearingWearDetector(RATED)
    before = _run(first, stream[:cut])
    saved = json.loads(json.dumps(first.state()))
    resumed = BearingWearDetector.from_state(RATED, saved)
    assert before + _run(resumed, stream[cut:]) == whole


@pytest.mark.parametrize(
    "other", [FaultCode.WASHER_IMBALANCE, FaultCode.WASHER_DRAIN_BLOCKED], ids=str
)
def test_bearing_wear_is_silent_on_the_other_faults_with_a_model_profile(
    other: FaultCode, faulty: dict[FaultCode, Faulty]
) -> None:
    case = faulty[other]
    detector = BearingWearDetector(washer_profile_for(case.unit.params.model))
    assert _run(detector, case.stream) == []


def test_no_model_figures_are_built_in() -> None:
    assert WASHER_MODEL_PROFILES == {}
    assert washer_profile_for("WM-700") == WasherProfile()
    assert washer_profile_for(None).bearing_rated_current_a is None


def test_replaced_bearings_end_the_episode_without_a_second_alarm(
    faulty: dict[FaultCode, Faulty],
) -> None:
    case = faulty[FaultCode.WASHER_BEARING_WEAR]
    detector = BearingWearDetector()
    assert len(_run(detector, case.stream)) == 1
    assert detector.latched_
    repaired = replace(case.unit, fault=None)
    after = repaired.readings(start_ts=START + 21 * DAY, duration_s=35 * DAY)
    assert _run(detector, after) == []
    assert not detector.latched_
    assert detector.learned_ > 0  # normal learned afresh on the new bearings


_CURRENT_PARAMS = (
    "tumble_a",
    "tumble_a_per_kg",
    "spin_a",
    "spin_a_per_krpm2",
    "spin_a_per_kg",
    "ramp_a_per_kg",
)


@pytest.mark.parametrize("scale", [1.15, 1.30])
def test_healthy_washers_drawing_more_current_than_their_model_raise_nothing(
    scale: float,
) -> None:
    """WM-900s whose motors draw 15 % or 30 % more than the model's others (another motor
    supplier, a stiffer belt, a tighter seal): nothing assumed, nothing to alarm on."""
    units = []
    for unit in _healthy_units(12, 900 + int(scale * 100)):
        unit = replace(unit, device_id=unit.device_id, params=replace(unit.params, model="WM-900"))
        scaled = {name: getattr(unit.params, name) * scale for name in _CURRENT_PARAMS}
        units.append(replace(unit, params=replace(unit.params, **scaled)))
    watched = {
        u.device_id: Watched(
            ImbalanceDetector(),
            DrainBlockedDetector(),
            BearingWearDetector(washer_profile_for("WM-900")),
        )
        for u in units
    }
    found = [a for r in _bank_readings(units, 14) for a in watched[r.device_id].update(r)]
    assert found == []
    assert sum(w.bearing.learned_ >= 3 for w in watched.values()) >= 6  # it did judge


def test_an_unknown_model_raises_nothing_on_its_first_day() -> None:
    units = [
        replace(u, params=replace(u.params, model="WM-unknown", spin_a=2.0 * u.params.spin_a))
        for u in _healthy_units(20, 4000)
    ]
    watched = {
        u.device_id: Watched(
            ImbalanceDetector(),
            DrainBlockedDetector(),
            BearingWearDetector(washer_profile_for("WM-unknown")),
        )
        for u in units
    }
    found = [a for r in _bank_readings(units, 1) for a in watched[r.device_id].update(r)]
    assert found == []
    assert all(w.bearing.cusum_ == 0.0 for w in watched.values())  # nothing judged yet


@pytest.mark.parametrize("after", [9, 0], ids=["halted", "idle"])
def test_a_drain_that_times_out_and_leaves_water_standing_is_found(after: int) -> None:
    """Firmware that reports the timeout as halted (9) or simply idle, water standing."""
    levels = [12.0, 11.6, 11.3, 11.0, 10.8, 10.6, 10.4, 10.3, 10.2]  # pumping 9 min
    rows = [(2, 12.0, 0)] * 3 + [(5, lv, 1) for lv in levels] + [(after, 10.2, 0)] * 180
    found = []
    detector = DrainBlockedDetector()
    for minute, (phase, level, pump) in enumerate(rows, start=1):
        metrics = {
            "cycle_phase": phase,
            "drum_rpm": 0,
            "water_level_l": level,
            "drain_pump_on": pump,
        }
        anomaly = detector.update(Reading("w-1", 60.0 * minute, minute, metrics))
        found += [anomaly] if anomaly else []
    (anomaly,) = found
    assert anomaly.severity is Severity.HIGH and anomaly.evidence["stalled"]
    assert anomaly.detected_at == 60.0 * 13  # the first report with the pump stopped


def test_a_broken_damper_is_found_when_firmware_reports_the_spin_only_at_speed(
    faulty: dict[FaultCode, Faulty],
) -> None:
    """Some firmware reports the ramp through resonance as rinse or drain."""
    case = faulty[FaultCode.WASHER_IMBALANCE]
    relabelled = [
        Reading(r.device_id, r.ts, r.seq, {**r.metrics, "cycle_phase": 3})
        if r.metrics["cycle_phase"] == 4 and r.metrics["drum_rpm"] < 600
        else r
        for r in case.stream
    ]
    (anomaly,) = _run(ImbalanceDetector(), relabelled)
    assert case.onset < anomaly.onset_at < anomaly.detected_at <= case.onset + 11 * DAY
