"""Robustness mode: units drawn ±20 % off their parameters, deterministic by seed."""

from __future__ import annotations

from collections import defaultdict

from device_sim.fleet import build_fleet
from device_sim.robustness import Robustness, perturb_fleet, perturbation, scaled_fields
from device_sim.scenario import readings
from tests.device_sim.small_fleets import HOUR, START, definition

ROBUST = Robustness()


def test_every_physical_parameter_moves_within_20_percent_and_the_same_seed_moves_it_alike() -> (
    None
):
    fleet = build_fleet(definition(seed=3))
    once, twice = perturb_fleet(fleet, ROBUST), perturb_fleet(fleet, ROBUST)
    assert once.units == twice.units and once.report_intervals == twice.report_intervals
    moved = 0
    for before, after in zip(fleet.units, once.units, strict=True):
        names = scaled_fields(before.params)
        assert len(names) >= 10
        for name in names:
            old, new = getattr(before.params, name), getattr(after.params, name)
            if old:
                assert 0.8 <= new / old <= 1.2, name
                moved += new != old
        assert before.params.model == after.params.model
        assert abs(perturbation(before, ROBUST).climate_offset_c) <= ROBUST.climate_c
    assert moved > 0
    other = perturb_fleet(build_fleet(definition(seed=4)), ROBUST)
    assert other.units[0].params != once.units[0].params


def test_climates_shift_and_units_report_at_their_own_intervals() -> None:
    fleet = perturb_fleet(build_fleet(definition(seed=3)), ROBUST)
    base = build_fleet(definition(seed=3))
    fridge = next(i for i, d in enumerate(base.devices) if d.type.value == "fridge")
    shift = perturbation(base.units[fridge], ROBUST).climate_offset_c
    assert fleet.units[fridge].kitchen.base_c == base.units[fridge].kitchen.base_c + shift
    assert set(fleet.report_intervals.values()) <= set(ROBUST.intervals_s)
    times: dict[str, list[float]] = defaultdict(list)
    for r in readings(fleet, start_ts=START, duration_s=2 * HOUR):
        times[r.device_id].append(r.ts)
    for device_id, ts in times.items():
        every = fleet.report_intervals[device_id]
        assert ts[0] == START + every and len(ts) == int(2 * HOUR // every), device_id
