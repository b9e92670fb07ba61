"""What a battery-wear ticket says: the projected end of life on the pack's own axis
(cycles, or days), its band and the horizon it falls within, in words and as evidence,
with cycles turned into dates (and back) at the pack's own pace."""

from __future__ import annotations

import math
from typing import Any

from detection.profiles import BatteryProfile
from detection.prognosis import EolProjection
from domain import Reading

DAY_S = 86400.0


def _finite(value: float | None, digits: int = 1) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)


def wear_report(
    reading: Reading,
    proj: EolProjection,
    *,
    profile: BatteryProfile,
    axis: str,
    horizon: float,
    cycles_per_day: float | None,
    excess_fade_t: float,
    onset_at: float,
) -> dict[str, Any]:
    """`onset_at`, `confidence`, `summary` and `evidence` of a wear anomaly at `reading`."""
    ts = reading.ts
    cycle_now = reading.get("cycle_count")
    early, central, late = (max(v, 0.0) for v in proj.remaining())
    if axis == "cycle":
        per_day = cycles_per_day  # age units per day
        cycles_left: tuple[float, float, float] | None = (early, central, late)
    else:
        per_day = 1.0
        pace = cycles_per_day
        cycles_left = None if pace is None else (early * pace, central * pace, late * pace)
    days_left = None if per_day is None else (early / per_day, central / per_day, late / per_day)

    def at(days: float) -> float | None:
        return round(ts + days * DAY_S, 1) if math.isfinite(days) else None

    fade_axis = -proj.slope
    fade_cycle = (
        fade_axis
        if axis == "cycle"
        else (None if cycles_per_day is None else fade_axis / cycles_per_day)
    )
    fade_day = (
        fade_axis * cycles_per_day
        if axis == "cycle" and cycles_per_day
        else (fade_axis if axis == "day" else None)
    )
    unit = "cycle" if axis == "cycle" else "day"
    share = round(200 * _phi(proj.band_z) - 100)
    eol_cycle = None
    if cycles_left is not None and cycle_now is not None:
        eol_cycle = tuple(round(cycle_now + v, 1) for v in cycles_left)
    if axis == "cycle" and eol_cycle is not None:
        where = f"at cycle {eol_cycle[1]:.0f}"
        band = (
            f"{share} % band {eol_cycle[0]:.0f}-{eol_cycle[2]:.0f}"
            if math.isfinite(eol_cycle[2])
            else f"at the earliest cycle {eol_cycle[0]:.0f}"
        )
    else:
        where = f"in {central:.0f} days"
        band = (
            f"{share} % band {early:.0f}-{late:.0f} days"
            if math.isfinite(late)
            else f"at the earliest in {early:.0f} days"
        )
    summary = (
        f"Capacity at {proj.level:.0%} of design and fading {fade_axis:.2%} a {unit}: "
        f"end of life ({profile.eol_soh:.0%} of design) projected {where}, {band}, "
        f"within the {horizon:.0f}-{unit} horizon."
    )
    confidence = (
        0.6
        + 0.2 * min(max(-excess_fade_t - profile.wear_slope_t, 0.0) / profile.wear_slope_t, 1.0)
        + 0.15 * min(max(1.0 - central / horizon, 0.0), 1.0)
    )
    evidence: dict[str, Any] = {
        "metric": "full_charge_capacity_mah",
        "observed": reading.get("full_charge_capacity_mah"),
        "design_capacity_mah": reading.get("design_capacity_mah"),
        "soh_pct": round(100 * proj.level, 2),
        "soh_reported_pct": round(
            100
            * reading.metrics["full_charge_capacity_mah"]
            / reading.metrics["design_capacity_mah"],
            2,
        ),
        "eol_soh_pct": round(100 * profile.eol_soh, 1),
        "axis": axis,
        "fade_pct_per_cycle": _finite(None if fade_cycle is None else 100 * fade_cycle, 4),
        "fade_pct_per_day": _finite(None if fade_day is None else 100 * fade_day, 4),
        "slope_t": round(proj.slope_t, 2),
        "excess_fade_t": round(excess_fade_t, 2),
        "cycle_count": cycle_now,
        "cycles_per_day": _finite(cycles_per_day, 3),
        "projected_eol_cycle": None if eol_cycle is None else _finite(eol_cycle[1]),
        "projected_eol_cycle_low": None if eol_cycle is None else _finite(eol_cycle[0]),
        "projected_eol_cycle_high": None if eol_cycle is None else _finite(eol_cycle[2]),
        "cycles_to_eol": None if cycles_left is None else _finite(cycles_left[1]),
        "days_to_eol": None if days_left is None else _finite(days_left[1]),
        "days_to_eol_low": None if days_left is None else _finite(days_left[0]),
        "days_to_eol_high": None if days_left is None else _finite(days_left[2]),
        "projected_eol_at": None if days_left is None else at(days_left[1]),
        "projected_eol_earliest": None if days_left is None else at(days_left[0]),
        "projected_eol_latest": None if days_left is None else at(days_left[2]),
        "band_pct": share,
        "band_z": proj.band_z,
        "horizon": horizon,
        "horizon_unit": unit,
        "memory": _finite(proj.memory),
        "samples": proj.samples,
        "window_start": onset_at,
        "window_end": ts,
    }
    return {
        "onset_at": onset_at,
        "confidence": confidence,
        "summary": summary,
        "evidence": evidence,
    }


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
