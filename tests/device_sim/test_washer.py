"""The simulated washer behaves like a washer, and its faults leave their signatures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from device_sim.faults import FaultSpec, FaultSpecError
from device_sim.plot_washer import plot_washers, standard_units
from device_sim.washer import METRICS, PROGRAMS, Phase, WasherBank, WasherUnit
from domain import FaultCode

HOUR = 3600.0
DAY = 86400.0
# Local (UTC+8) midnight, so hours below are Shanghai household hours.
START = 1_764_000_000.0 - (1_764_000_000.0 + 8 * HOUR) % DAY

Series = dict[str, np.ndarray]


def _series(unit: WasherUnit, days: float) -> Series:
    rows = list(unit.readings(start_ts=START, duration_s=days * DAY))
    out = {"ts": np.array([r.ts for r in rows]), "seq": np.array([r.seq for r in rows])}
    for name in METRICS:
        out[name] = np.array([r.metrics[name] for r in rows], dtype=np.float64)
    return out


def _cycles(s: Series) -> list[slice]:
    """Each cycle: the reports from its first non-idle one to its last."""
    active = np.concatenate(([0], (s["cycle_phase"] > 0).astype(np.int64), [0]))
    edges = np.diff(active)
    starts, ends = np.nonzero(edges > 0)[0], np.nonzero(edges < 0)[0]
    return [slice(a, b) for a, b in zip(starts, ends, strict=True)]


def _spins(s: Series, cycle: slice) -> list[slice]:
    """The runs of spin-phase reports within a cycle."""
    spin = np.concatenate(([0], (s["cycle_phase"][cycle] == Phase.SPIN).astype(np.int64), [0]))
    edges = np.diff(spin)
    first = cycle.start
    return [
        slice(first + a, first + b)
        for a, b in zip(np.nonzero(edges > 0)[0], np.nonzero(edges < 0)[0], strict=True)
    ]


def _final_spin_figures(s: Series, cycle: slice) -> tuple[float, float, float, float]:
    """(spin-up peak g, vibration at speed g, top rpm, current at speed A) of a cycle's
    last spin; at-speed figures are nan when it never held a speed."""
    spin = _spins(s, cycle)[-1]
    rpm, vib, amps = s["drum_rpm"][spin], s["vibration_g"][spin], s["motor_current_a"][spin]
    steady = (rpm >= 600) & (np.abs(np.diff(rpm, prepend=0.0)) <= 0.03 * rpm)
    peak = float(vib[rpm < 800].max()) if (rpm < 800).any() else float("nan")
    if not steady.any():
        return peak, float("nan"), float(rpm.max()), float("nan")
    return peak, float(vib[steady].mean()), float(rpm.max()), float(amps[steady].mean())


@pytest.fixture(scope="module")
def healthy() -> tuple[WasherUnit, Series]:
    unit = WasherUnit.sample("washer-h", 21, model="WM-700")
    return unit, _series(unit, 14)


def test_same_seed_gives_identical_readings_and_another_seed_does_not() -> None:
    def run(seed: int) -> list[tuple[float, dict[str, list[float]]]]:
        units = [
            WasherUnit.sample("w-1", seed),
            WasherUnit.sample("w-2", seed + 1, fault=FaultSpec(FaultCode.WASHER_IMBALANCE, START)),
        ]
        return list(WasherBank(units, start_ts=START).ticks(3 * DAY))

    first, again, other = run(5), run(5), run(7)
    assert first == again
    assert [m for _, m in first] != [m for _, m in other]


def test_a_unit_alone_reads_the_same_as_in_its_bank_however_the_bank_is_chunked() -> None:
    units = [WasherUnit.sample(f"w-{i}", 40 + i) for i in range(3)]
    alone = [r.metrics for r in units[1].readings(start_ts=START, duration_s=2 * DAY)]
    for chunk in (1 << 21, 100):  # a day at a time, or 33 reports at a time
        bank = WasherBank(units, start_ts=START, max_chunk_values=chunk)
        in_bank = [{k: v[1] for k, v in m.items()} for _, m in bank.ticks(2 * DAY)]
        assert in_bank == alone


def test_stepping_in_windows_carries_on_where_it_stopped() -> None:
    units = [WasherUnit.sample(f"w-{i}", 50 + i) for i in range(2)]
    whole = list(WasherBank(units, start_ts=START).ticks(2 * DAY))
    bank = WasherBank(units, start_ts=START)
    windowed = []
    for span in (5 * HOUR, 19 * HOUR, 0.5 * HOUR, 23.5 * HOUR):  # as the fleet scenario steps
        windowed += list(bank.ticks(span))
    assert windowed == whole
    assert bank.seq == len(whole)


def test_reports_carry_the_wire_metrics_every_interval(healthy: tuple[WasherUnit, Series]) -> None:
    _, s = healthy
    assert s["ts"][0] == START + 60
    assert np.all(np.diff(s["ts"]) == 60)
    assert np.array_equal(s["seq"], np.arange(1, s["seq"].size + 1))
    for name in ("drum_rpm", "drain_pump_on", "cycle_phase"):
        assert np.array_equal(s[name], np.round(s[name]))
    assert set(np.unique(s["drain_pump_on"])) == {0, 1}
    assert set(np.unique(s["cycle_phase"])) == {0, 1, 2, 3, 4, 5}
    assert s["water_level_l"].min() >= 0 and s["vibration_g"].min() >= 0
    bank = WasherBank([healthy[0]], start_ts=START, interval_s=30)
    assert [ts for ts, _ in bank.ticks(300)] == [START + 30 * k for k in range(1, 11)]
    assert bank.seq == 10


def test_a_household_washes_a_few_times_a_week_at_its_usual_times(
    healthy: tuple[WasherUnit, Series],
) -> None:
    unit, s = healthy
    cycles = _cycles(s)
    assert 0.5 * 2 * unit.habits.loads_per_week <= len(cycles) <= 2 * 2 * unit.habits.loads_per_week
    hours = [((s["ts"][c.start] + 8 * HOUR) % DAY) / HOUR for c in cycles]
    assert all(6.0 <= h <= 24.0 for h in hours)
    minutes = [c.stop - c.start for c in cycles]
    assert min(minutes) >= 25 and max(minutes) <= 3.5 * 60
    idle = s["cycle_phase"] == Phase.IDLE
    assert idle.mean() > 0.85
    # Standing idle (not the report that ends a cycle): nothing turns or flows, the sensor
    # only feels the house.
    idle &= np.roll(idle, 1)
    assert s["drum_rpm"][idle].max() <= 20 and s["water_level_l"][idle].max() <= 0.5
    assert np.median(s["vibration_g"][idle]) <= 0.03


def test_a_cycle_fills_washes_drains_rinses_and_spins(healthy: tuple[WasherUnit, Series]) -> None:
    _, s = healthy
    for cycle in _cycles(s):
        phase, level = s["cycle_phase"][cycle], s["water_level_l"][cycle]
        assert phase[0] == Phase.FILL
        order = [int(p) for i, p in enumerate(phase) if i == 0 or p != phase[i - 1]]
        assert order[:3] == [Phase.FILL, Phase.WASH, Phase.DRAIN]
        assert Phase.RINSE in order and order[-1] == Phase.SPIN
        washing = phase == Phase.WASH
        assert 5.0 < np.median(level[washing]) < 22.0
        # Every drain empties the drum within a couple of reports, pump running.
        drains = np.nonzero((phase == Phase.DRAIN) & (np.roll(phase, 1) != Phase.DRAIN))[0]
        for d in drains:
            assert level[d - 1] > 4.0 and level[d + 1] < 1.0
            assert s["drain_pump_on"][cycle][d] == 1
        spin = phase == Phase.SPIN
        assert level[spin].max() < 1.0 and s["drain_pump_on"][cycle][spin].mean() > 0.8
        assert s["drum_rpm"][cycle][spin].max() >= 400
        # The motor works harder spinning than tumbling, and spinning shakes more.
        assert s["motor_current_a"][cycle][spin].max() > np.median(
            s["motor_current_a"][cycle][washing]
        )
        assert s["vibration_g"][cycle][spin].max() > s["vibration_g"][cycle][washing].max()


def test_current_and_vibration_at_speed_grow_with_speed() -> None:
    """The same household's loads, spun at 800 rpm or at 1400 rpm."""
    base = WasherUnit.sample("washer-s", 31, model="WM-900")
    cotton = tuple(float(p.name == "cotton") for p in PROGRAMS)
    figures = []
    for rpm in (800.0, 1400.0):
        habits = replace(base.habits, program_weights=cotton, spin_rpm=rpm)
        s = _series(replace(base, habits=habits), 14)
        finals = np.array([_final_spin_figures(s, c) for c in _cycles(s)])
        held = finals[np.isfinite(finals[:, 3])]
        assert len(held) >= 5
        assert np.median(held[:, 2]) == pytest.approx(rpm, abs=5)
        figures.append((np.median(held[:, 3]), np.median(held[:, 1])))
    (slow_a, slow_g), (fast_a, fast_g) = figures
    assert fast_a > 1.5 * slow_a
    assert fast_g > 1.2 * slow_g


def test_bulky_loads_are_redistributed_and_spun_slower() -> None:
    """Normal life: a duvet will not balance, so the controller retries and spins slower."""
    base = WasherUnit.sample("washer-b", 33, model="WM-700")
    only = {name: tuple(float(p.name == name) for p in PROGRAMS) for name in ("mixed", "bulky")}
    figures = {}
    for name, weights in only.items():
        habits = replace(base.habits, program_weights=weights, spin_rpm=1000.0)
        s = _series(replace(base, habits=habits), 14)
        finals = [_final_spin_figures(s, c) for c in _cycles(s)]
        spin_minutes = [_spins(s, c)[-1].stop - _spins(s, c)[-1].start for c in _cycles(s)]
        figures[name] = (
            np.mean([top < 950 for _, _, top, _ in finals]),
            np.median(spin_minutes),
            np.max([peak for peak, _, _, _ in finals]),
        )
    (mixed_slow, mixed_minutes, _), (bulky_slow, bulky_minutes, bulky_peak) = figures.values()
    assert bulky_slow >= 0.25 and mixed_slow <= 0.1
    assert bulky_minutes > mixed_minutes
    assert bulky_peak > 0.8  # now and then a hard shake: the naive detector's trap


def test_broken_suspension_shakes_every_spin_up_from_onset() -> None:
    onset = START + 5 * DAY
    unit = WasherUnit.sample("washer-i", 70, fault=FaultSpec(FaultCode.WASHER_IMBALANCE, onset))
    s = _series(unit, 14)
    amplification: dict[str, list[float]] = {"before": [], "after": []}
    violent: dict[str, list[int]] = {"before": [], "after": []}
    for cycle in _cycles(s):
        peak, at_speed, _, _ = _final_spin_figures(s, cycle)
        when = "after" if s["ts"][cycle.start] > onset else "before"
        if np.isfinite(at_speed):
            amplification[when].append(peak / max(at_speed, 0.05))
        # Minutes of hard shaking below full speed: spin-ups through resonance, aborts.
        spinning_up = (s["cycle_phase"][cycle] == Phase.SPIN) & (s["drum_rpm"][cycle] < 800)
        violent[when].append(int(np.sum(spinning_up & (s["vibration_g"][cycle] > 1.0))))
    assert len(amplification["before"]) >= 2 and len(amplification["after"]) >= 4
    assert max(amplification["before"]) < 3.5
    assert np.median(amplification["after"]) > 6.0
    assert max(violent["before"]) <= 1
    assert np.mean(violent["after"]) >= 2


def test_clogging_drain_slows_then_blocks_with_water_inside() -> None:
    onset = START + 1 * DAY
    fault = FaultSpec(FaultCode.WASHER_DRAIN_BLOCKED, onset)
    unit = WasherUnit.sample("washer-d", 74, model="WM-700", fault=fault)
    s = _series(unit, 12)
    phase, level, pump = s["cycle_phase"], s["water_level_l"], s["drain_pump_on"]
    draining = (phase == Phase.DRAIN) & (pump == 1) & (level > 1.0)
    runs = np.diff(np.concatenate(([0], draining.astype(np.int64), [0])))
    starts, ends = np.nonzero(runs > 0)[0], np.nonzero(runs < 0)[0]
    lengths: dict[str, list[int]] = {"before": [], "clogging": [], "blocked": []}
    for a, b in zip(starts, ends, strict=True):
        t = s["ts"][a]
        key = "before" if t < onset else "blocked" if t > onset + 7 * DAY else "clogging"
        lengths[key].append(int(b - a))
    assert max(lengths["before"]) <= 1
    assert max(lengths["clogging"]) >= 2  # whole minutes pumping with water left
    assert np.median(lengths["blocked"]) >= 6  # the pump runs out its time
    # Blocked: the machine stops with the water in it, pump off, until someone comes.
    stuck = (phase == Phase.DRAIN) & (pump == 0) & (level > 5.0)
    assert stuck.sum() >= 20 and s["ts"][stuck].min() > onset + 7 * DAY
    assert level[-1] == 0.0


def test_worn_bearings_draw_more_current_and_rumble_at_speed_as_wear_accelerates() -> None:
    onset = START + 2 * DAY
    fault = FaultSpec(FaultCode.WASHER_BEARING_WEAR, onset)
    unit = WasherUnit.sample("washer-w", 74, model="WM-900", fault=fault)
    healthy_twin = replace(unit, fault=None)
    ratios: dict[str, list[tuple[float, float]]] = {"early": [], "late": []}
    worn_s, twin_s = _series(unit, 20), _series(healthy_twin, 20)
    for cycle in _cycles(worn_s):
        _, g_worn, _, a_worn = _final_spin_figures(worn_s, cycle)
        _, g_twin, _, a_twin = _final_spin_figures(twin_s, cycle)
        if not np.isfinite(a_worn) or not np.isfinite(a_twin):
            continue
        t = worn_s["ts"][cycle.start]
        if t < onset:
            assert a_worn == pytest.approx(a_twin) and g_worn == pytest.approx(g_twin)
        key = "late" if t > onset + 12 * DAY else "early" if t < onset + 5 * DAY else ""
        if key:
            ratios[key].append((a_worn / a_twin, g_worn / g_twin))
    early, late = np.array(ratios["early"]), np.array(ratios["late"])
    assert len(early) >= 2 and len(late) >= 2
    assert 1.0 < np.median(early[:, 0]) < 1.12
    assert np.median(late[:, 0]) > 1.2
    assert np.median(late[:, 1]) > 1.5 * np.median(early[:, 1])


def test_unknown_models_and_other_devices_faults_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown washer model"):
        WasherUnit.sample("w", 1, model="WM-1")
    with pytest.raises(FaultSpecError, match="washer simulator"):
        WasherUnit.sample("w", 1, fault=FaultSpec(FaultCode.FRIDGE_TEMP_DRIFT, START))


def test_plot_shows_a_healthy_and_a_faulty_washer(tmp_path: Path) -> None:
    healthy, imbalanced = standard_units(START - 3 * DAY)[:2]
    path = plot_washers(
        [healthy, imbalanced], start_ts=START, duration_s=2 * DAY, path=tmp_path / "w.png"
    )
    assert path.read_bytes().startswith(b"\x89PNG")
