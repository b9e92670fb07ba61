"""The simulated battery pack behaves like a Li-ion pack, ages like one, and its faults leave
their signatures from onset on (and none before)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from device_sim.battery import (
    BATTERY_FAULTS,
    IMBALANCE_MAX,
    IMBALANCE_PER_DAY,
    METRICS,
    MODELS,
    NASA_KNEE_CYCLES,
    BatteryBank,
    BatteryUnit,
    imbalance_loss,
    wear_loss,
)
from device_sim.faults import FaultSpec, FaultSpecError
from device_sim.plot_battery import plot_packs
from domain import FaultCode, Reading

HOUR = 3600.0
DAY = 86400.0
# Local (UTC+8) midnight, so hours below are local hours.
START = 1_764_000_000.0 - (1_764_000_000.0 + 8 * HOUR) % DAY
NASA = Path(__file__).resolve().parents[3] / "shared" / "battery"


def _series(stream: Iterable[Reading]) -> dict[str, np.ndarray]:
    rows = list(stream)
    out = {"ts": np.array([r.ts for r in rows])}
    for name in METRICS:
        out[name] = np.array([r.metrics[name] for r in rows], dtype=np.float64)
    return out


def _bank_readings(
    units: list[BatteryUnit], *, duration_s: float, interval_s: float = 60.0
) -> Iterator[Reading]:
    bank = BatteryBank(units, start_ts=START, interval_s=interval_s)
    for ts, metrics in bank.ticks(duration_s):
        for i, unit in enumerate(units):
            yield Reading(unit.device_id, ts, bank.seq, {k: metrics[k][i] for k in METRICS})


@pytest.fixture(scope="module")
def vacuum() -> dict[str, np.ndarray]:
    unit = BatteryUnit.sample("rv-h", 21, model="RV-5200")
    return _series(unit.readings(start_ts=START, duration_s=2 * DAY))


@pytest.fixture(scope="module")
def ebike() -> dict[str, np.ndarray]:
    unit = BatteryUnit.sample("eb-h", 22, model="EB-14000")
    return _series(unit.readings(start_ts=START, duration_s=3 * DAY))


def test_same_seed_gives_identical_readings_and_another_seed_does_not() -> None:
    def run(seed: int) -> list[Reading]:
        units = [BatteryUnit.sample(f"b-{i}", seed * 10 + i) for i in range(3)]
        return list(_bank_readings(units, duration_s=8 * HOUR))

    first, again, other = run(5), run(5), run(6)
    assert first == again
    assert [r.metrics for r in first] != [r.metrics for r in other]


def test_readings_come_tick_by_tick_with_seq_from_one_and_every_metric() -> None:
    units = [BatteryUnit.sample(f"b-{i}", i) for i in range(3)]
    rows = list(_bank_readings(units, duration_s=10 * 60))
    assert len(rows) == 30
    assert rows[0].ts == START + 60
    for unit in units:
        mine = [r for r in rows if r.device_id == unit.device_id]
        assert [r.seq for r in mine] == list(range(1, 11))
        assert set(mine[0].metrics) == set(METRICS)
        assert all(isinstance(v, int | float) for v in mine[0].metrics.values())


def test_a_pack_alone_reads_the_same_as_in_its_bank_and_windows_change_nothing() -> None:
    units = [BatteryUnit.sample(f"b-{i}", 40 + i) for i in range(3)]
    in_bank = [r for r in _bank_readings(units, duration_s=16 * HOUR) if r.device_id == "b-1"]
    alone = list(units[1].readings(start_ts=START, duration_s=16 * HOUR))
    assert in_bank == alone
    # Stepped a window at a time, moving start_ts along (as the fleet scenario does).
    bank = BatteryBank(units, start_ts=START)
    windowed = []
    for _ in range(4):
        windowed += list(bank.ticks(4 * HOUR))
        bank.start_ts += 4 * HOUR
    assert windowed == list(BatteryBank(units, start_ts=START).ticks(16 * HOUR))


def test_both_models_and_their_variation() -> None:
    assert set(MODELS) == {"RV-5200", "EB-14000"}
    packs = [BatteryUnit.sample(f"b-{i}", i) for i in range(40)]
    assert {p.params.model for p in packs} == set(MODELS)
    assert {p.params.series for p in packs if p.params.model == "EB-14000"} == {10, 13}
    assert len({round(p.start_cycles) for p in packs}) > 30  # ages and habits differ
    assert len({p.habits.kind for p in packs}) == 2
    with pytest.raises(ValueError, match="unknown battery model"):
        BatteryUnit.sample("b", 1, model="XX-1")


def test_only_battery_faults_can_be_injected() -> None:
    assert set(BATTERY_FAULTS) == {FaultCode.BATTERY_WEAR, FaultCode.BATTERY_OVERHEAT}
    with pytest.raises(FaultSpecError):
        BatteryUnit.sample("b", 1, fault=FaultSpec(FaultCode.FRIDGE_TEMP_DRIFT, START))


def test_vacuum_runs_from_its_dock_and_charges_cc_cv(vacuum: dict[str, np.ndarray]) -> None:
    v, i, soc = vacuum["voltage_v"], vacuum["current_a"], vacuum["soc_pct"]
    assert v.min() > 12.0 and v.max() <= 4 * 4.2 + 0.1  # 4S NMC
    assert soc.min() >= 0 and soc.max() <= 100
    runs = np.count_nonzero(np.diff((i < -0.5).astype(int)) > 0)
    assert 2 <= runs <= 3 * 6  # one or two cleaning runs a day, boost spikes split some
    assert -6.0 < i.min() < -1.5  # 25-75 W from a 14 V pack
    # Docked after a run: constant current, then a taper at the charge voltage, then idle.
    charging = i > 0.05
    assert 1.0 < np.median(i[charging]) <= 2.1
    tail = charging & (v > 16.6)
    assert tail.any() and np.median(i[tail]) < np.median(i[charging & (v < 16.0)])
    assert np.mean(np.abs(i) < 0.05) > 0.6  # resting on the dock most of the day
    # The pack warms while working and settles between runs.
    assert np.percentile(vacuum["temp_c"], 99) - np.percentile(vacuum["temp_c"], 5) > 5


def test_ebike_commutes_climbs_hills_and_charges_in_the_evening(
    ebike: dict[str, np.ndarray],
) -> None:
    i, v = ebike["current_a"], ebike["voltage_v"]
    assert i.min() < -10.0  # a hill climb
    assert 0.0 < np.median(i[i > 0.05]) < 5.5
    assert v.max() <= 13 * 4.2 + 0.2
    hour = ((ebike["ts"] + 8 * HOUR) % DAY) / HOUR
    riding = i < -0.5
    assert riding.mean() < 0.1
    assert riding[(hour > 0) & (hour < 5)].sum() == 0  # nobody rides at night


def test_state_of_charge_counts_the_charge_in_and_out(vacuum: dict[str, np.ndarray]) -> None:
    # Coulomb counting: SoC change over a cleaning run ~ the Ah drawn / capacity.
    i, soc = vacuum["current_a"], vacuum["soc_pct"]
    fcc = vacuum["full_charge_capacity_mah"][0] / 1000.0
    start = int(np.argmax(i < -0.5))
    stop = start + int(np.argmax(i[start:] > -0.5))
    drawn_ah = -i[start:stop].sum() / 60.0
    assert soc[start - 1] - soc[stop] == pytest.approx(100 * drawn_ah / fcc, abs=4)


def test_cycle_count_counts_equivalent_full_cycles(ebike: dict[str, np.ndarray]) -> None:
    cycles = ebike["cycle_count"]
    assert np.all(np.diff(cycles) >= 0)
    discharged = -ebike["current_a"][ebike["current_a"] < 0].sum() / 60.0
    design_ah = ebike["design_capacity_mah"][0] / 1000.0
    assert cycles[-1] - cycles[0] == pytest.approx(discharged / (0.9 * design_ah), abs=1.0)
    assert set(ebike["design_capacity_mah"]) == {14000.0}


def test_capacity_is_relearned_after_deep_charges_only(vacuum: dict[str, np.ndarray]) -> None:
    fcc = vacuum["full_charge_capacity_mah"]
    changes = np.count_nonzero(np.diff(fcc))
    assert 1 <= changes <= 6
    assert 0.80 < fcc.mean() / 5200 < 1.04


def test_a_hot_day_warms_the_resting_pack() -> None:
    base = BatteryUnit.sample("rv", 23, model="RV-5200")
    cool = replace(base, climate=replace(base.climate, hot_day_prob=0.0))
    hot = replace(base, climate=replace(base.climate, hot_day_prob=1.0, hot_day_c=10.0))
    temps = [
        _series(u.readings(start_ts=START, duration_s=1.5 * DAY))["temp_c"] for u in (cool, hot)
    ]
    assert np.median(temps[1] - temps[0]) > 2.5


def test_normal_fade_is_slow_per_cycle_and_per_day() -> None:
    for model in MODELS:
        for seed in range(5):
            p = BatteryUnit.sample("b", seed, model=model).params
            cycles = np.array([200.0, 300.0])
            per_cycle = float(np.diff(p.normal_loss(cycles, np.array([300.0, 300.0])))[0]) / 100
            assert 0.0001 < per_cycle < 0.0005  # 0.01-0.05 % per cycle
            per_day = float(
                np.diff(p.normal_loss(np.array([300.0] * 2), np.array([300.0, 301.0])))[0]
            )
            assert 0.0 < per_day < 0.0001


def test_bad_cell_fades_like_a_nasa_cell_sped_up() -> None:
    """The fault's fade curve is the NASA cells' (plateau, knee, ~0.2 %/cycle) shape."""
    n = np.arange(0.0, 160.0)
    model = wear_loss(n, 0.0)  # severity 0 -> NASA speed
    assert model[10] < 0.01 and 0.0018 < model[150] - model[149] < 0.0026
    assert 15 <= NASA_KNEE_CYCLES <= 35
    for cell in ("B0005", "B0007"):  # the two cells with a knee
        with (NASA / f"{cell}.csv").open() as src:
            rows = list(csv.DictReader(src))
        cap = np.array([float(r["capacity"]) for r in rows])
        cycle = np.array([float(r["discharge"]) for r in rows])
        loss = 1.0 - cap / np.median(cap[:3])
        fitted = wear_loss(cycle - 1, 0.0)
        assert np.sqrt(np.mean((fitted - loss) ** 2)) < 0.035, cell
    # Severity 1 runs the same curve three times faster.
    assert wear_loss(np.array([30.0]), 1.0)[0] == pytest.approx(wear_loss(np.array([90.0]), 0.0)[0])


def test_wear_leaves_readings_untouched_before_onset_and_fades_fast_after() -> None:
    onset = START + 2 * DAY
    healthy = BatteryUnit.sample("rv-w", 600, model="RV-5200")
    worn = healthy.with_fault(FaultSpec(FaultCode.BATTERY_WEAR, onset))
    runs = [
        _series(u.readings(start_ts=START, duration_s=16 * DAY, interval_s=600, max_step_s=600))
        for u in (healthy, worn)
    ]
    before = runs[0]["ts"] <= onset
    for name in METRICS:
        assert np.array_equal(runs[0][name][before], runs[1][name][before]), name
    first, last = runs[0]["ts"] < START + 2 * DAY, runs[0]["ts"] > START + 14 * DAY
    healthy_fcc, worn_fcc = (r["full_charge_capacity_mah"] / 5200 for r in runs)
    # The healthy twin moves by gauge scatter and warm days only; the bad cell drags the
    # worn pack several points below it within two weeks of onset.
    assert abs(np.median(healthy_fcc[last]) - np.median(healthy_fcc[first])) < 0.02
    assert np.median(healthy_fcc[last]) - np.median(worn_fcc[last]) > 0.025


@pytest.mark.parametrize(("model", "seed"), [("RV-5200", 31), ("EB-14000", 1081)])
def test_an_internal_short_heats_the_pack_from_onset_and_not_before(model: str, seed: int) -> None:
    onset = START + 29 * HOUR
    healthy = BatteryUnit.sample("b-s", seed, model=model)
    shorted = healthy.with_fault(FaultSpec(FaultCode.BATTERY_OVERHEAT, onset))
    runs = [_series(u.readings(start_ts=START, duration_s=41 * HOUR)) for u in (healthy, shorted)]
    before = runs[0]["ts"] <= onset
    for name in METRICS:
        assert np.array_equal(runs[0][name][before], runs[1][name][before]), name
    after = ~before
    excess = runs[1]["temp_c"][after] - runs[0]["temp_c"][after]
    assert excess.max() > 12.0
    assert np.median(excess) > 3.0


def test_the_plot_shows_each_pack_and_the_long_fade(tmp_path: Path) -> None:
    packs = [
        BatteryUnit.sample("rv-1", 1, model="RV-5200"),
        BatteryUnit.sample(
            "rv-2", 5, fault=FaultSpec(FaultCode.BATTERY_OVERHEAT, START + 3 * HOUR)
        ),
    ]
    path = plot_packs(
        packs, start_ts=START, duration_s=5 * HOUR, path=tmp_path / "packs.png", fade_days=2
    )
    assert path.read_bytes().startswith(b"\x89PNG")


def test_a_bad_cells_self_discharge_costs_capacity_by_the_day_whatever_the_cycling() -> None:
    days = np.array([0.0, 5.0, 10.0, 100.0])
    lost = imbalance_loss(days, 1.0)
    assert lost[0] == 0.0 and lost[1] == pytest.approx(5 * IMBALANCE_PER_DAY)
    assert lost[2] == pytest.approx(2 * lost[1]) and lost[3] == IMBALANCE_MAX
    assert imbalance_loss(days, 0.5)[1] == pytest.approx(lost[1] / 2)
    # A pack that is rarely used (a spare e-bike pack): the cycle-driven fade barely moves
    # in a week, the imbalance still costs it points.
    onset = START + 1 * DAY
    idle = BatteryUnit.sample("eb-idle", 7, model="EB-14000")
    worn = idle.with_fault(FaultSpec(FaultCode.BATTERY_WEAR, onset))
    bank = BatteryBank([idle, worn], start_ts=START, interval_s=600)
    for _ in bank.ticks(8 * DAY):
        pass
    # Seven days at severity 1 on a pack at ~90 %: about 0.9 * 7 * 0.8 % = 5 points.
    assert bank.soh[0] - bank.soh[1] > 0.04
