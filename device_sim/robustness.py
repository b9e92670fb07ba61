"""Robustness mode: a fleet whose units are not quite the ones the detectors were built on.

Every numeric physical parameter of every unit is scaled by its own seeded factor in
`[1 - spread, 1 + spread]` (settings that are shares, limits or labels stay as built),
each unit's climate is shifted by up to `climate_c` (kitchen, room or outdoor air), and
each unit reports every `intervals_s[k]` seconds instead of the fleet's interval. The
same fleet and `Robustness` give the same perturbed fleet.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from device_sim.fleet import Fleet

_STREAM_ROBUST = 31  # the second word of a unit's generator seed for its perturbation

# Not scaled: shares and fractions (bounded by 1), firmware settings whose scaling would
# make nonsense (a 5 V lithium cell, a fan stage of 3.4), and ratings printed on the
# label that the service is told about (a pack's design capacity).
KEEP = frozenset(
    {
        "cabinet_share",
        "heater_air_share",
        "tumble_duty",
        "min_freq",
        "max_freq",
        "fan_stage",
        "fan_boost_max",
        "filter_clean_phase",
        "solar_peak_hour",
        "solar_air_share",
        "cv_cell_v",
        "recharge_soc",
        "cutoff_soc",
        "initial_capacity",
        "design_mah",
    }
)
# The air around a unit: (attribute of the unit, field) pairs shifted by its climate offset.
AMBIENT = (
    ("kitchen", "base_c"),  # fridge
    ("params", "site_offset_c"),  # air conditioner: outdoor air at the condenser
    ("climate", "indoor_c"),  # battery pack
    ("climate", "outdoor_c"),
)


@dataclass(frozen=True, slots=True)
class Robustness:
    spread: float = 0.2
    climate_c: float = 4.0
    intervals_s: tuple[float, ...] = (30.0, 45.0, 60.0, 90.0, 120.0)


@dataclass(frozen=True, slots=True)
class Perturbation:
    """What was done to one unit: a factor per scaled parameter, the climate offset (°C)
    and the reporting interval (s)."""

    factors: dict[str, float]
    climate_offset_c: float
    interval_s: float


def perturbation(unit: Any, robustness: Robustness) -> Perturbation:
    """The draws for `unit`, deterministic from its seed."""
    rng = np.random.default_rng([unit.seed, _STREAM_ROBUST])
    lo, hi = 1.0 - robustness.spread, 1.0 + robustness.spread
    factors = {name: float(rng.uniform(lo, hi)) for name in scaled_fields(unit.params)}
    offset = float(rng.uniform(-robustness.climate_c, robustness.climate_c))
    interval = float(robustness.intervals_s[int(rng.integers(len(robustness.intervals_s)))])
    return Perturbation(factors, offset, interval)


def scaled_fields(params: Any) -> list[str]:
    """The parameters robustness mode scales: floats, not temperatures (°C), not `KEEP`."""
    return [
        f.name
        for f in fields(params)
        if type(getattr(params, f.name)) is float
        and not f.name.endswith("_c")
        and f.name not in KEEP
    ]


def perturb_unit(unit: Any, robustness: Robustness) -> Any:
    """`unit` built ±spread away from its drawn parameters, in a shifted climate."""
    drawn = perturbation(unit, robustness)
    params = unit.params
    scaled = {name: getattr(params, name) * k for name, k in drawn.factors.items()}
    changes: dict[str, Any] = {"params": dataclasses.replace(params, **scaled)}
    for attr, name in AMBIENT:
        part = changes.get(attr, getattr(unit, attr, None))
        if part is not None and hasattr(part, name):
            value = getattr(part, name) + drawn.climate_offset_c
            changes[attr] = dataclasses.replace(part, **{name: value})
    return dataclasses.replace(unit, **changes)


def perturb_fleet(fleet: Fleet[Any], robustness: Robustness) -> Fleet[Any]:
    """The fleet with every unit perturbed and reporting at its own interval."""
    units = [perturb_unit(u, robustness) for u in fleet.units]
    intervals = {
        d.device_id: perturbation(u, robustness).interval_s
        for d, u in zip(fleet.devices, fleet.units, strict=True)
    }
    return dataclasses.replace(fleet, units=units, report_intervals=intervals, _by_id={})
