"""Draw simulated battery packs (voltage, current, temperature, capacity) to a PNG, to eyeball
the physics: a few days of each pack, and capacity fade over a long horizon.

matplotlib is an optional dependency (`pip install faultline[plot]`), imported only here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from device_sim.battery import METRICS, BatteryBank, BatteryUnit

HOUR_S = 3600.0
DAY_S = 86400.0


def plot_packs(
    units: Sequence[BatteryUnit],
    *,
    start_ts: float,
    path: str | Path,
    duration_s: float = 3 * DAY_S,
    interval_s: float = 60.0,
    zoom: tuple[float, float] | None = None,
    fade_days: float = 0.0,
    fade_interval_s: float = 900.0,
) -> Path:
    """Plot each pack over `duration_s` (rows of four panels) to `path`.

    Per pack: voltage and state of charge; current (positive = charging); temperature
    with the surrounding air; reported full-charge capacity as a share of design. A
    fault's onset is a red line. `zoom` (seconds after start) narrows the time axis.
    With `fade_days` > 0 a last row shows each pack's reported capacity over that long
    horizon, simulated in steps of `fade_interval_s` (coarse, for speed), by day and by
    cycle, with the 70 % end-of-life line.
    """
    if not units:
        raise ValueError("nothing to plot: no packs given")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = len(units) + (1 if fade_days > 0 else 0)
    fig, axes = plt.subplots(rows, 4, figsize=(20, 3.2 * rows), squeeze=False)
    for row, unit in enumerate(units):
        s = _series(unit, start_ts=start_ts, duration_s=duration_s, interval_s=interval_s)
        hours = (s["ts"] - start_ts) / HOUR_S
        lo, hi = (
            (0.0, duration_s / HOUR_S) if zoom is None else (zoom[0] / HOUR_S, zoom[1] / HOUR_S)
        )
        sel = (hours >= lo) & (hours <= hi)
        h = hours[sel]
        v_ax, i_ax, t_ax, c_ax = axes[row]
        v_ax.plot(h, s["voltage_v"][sel], color="tab:blue", lw=0.7)
        v_ax.set_ylabel("pack V", color="tab:blue")
        soc_ax = v_ax.twinx()
        soc_ax.plot(h, s["soc_pct"][sel], color="tab:green", lw=0.7, alpha=0.7)
        soc_ax.set_ylabel("SoC %", color="tab:green")
        soc_ax.set_ylim(0, 105)
        i_ax.plot(h, s["current_a"][sel], color="tab:red", lw=0.6)
        i_ax.axhline(0.0, color="k", lw=0.5)
        i_ax.set_ylabel("current A (+ charge)")
        t_ax.plot(h, s["temp_c"][sel], color="tab:orange", lw=0.8, label="pack")
        t_ax.plot(h, s["ambient_c"][sel], color="tab:gray", lw=0.7, ls="--", label="air")
        t_ax.set_ylabel("°C")
        t_ax.legend(loc="upper left", fontsize=7)
        design = s["design_capacity_mah"][0]
        c_ax.plot(h, 100 * s["full_charge_capacity_mah"][sel] / design, color="tab:purple", lw=0.9)
        c_ax.set_ylabel("full charge, % of design")
        cyc_ax = c_ax.twinx()
        cyc_ax.plot(h, s["cycle_count"][sel], color="tab:gray", lw=0.7, ls=":")
        cyc_ax.set_ylabel("cycles", color="tab:gray")
        label = unit.fault.code.value if unit.fault else "healthy"
        if unit.fault is not None and unit.fault.severity < 1.0:
            label += f" (severity {unit.fault.severity:g})"
        v_ax.set_title(
            f"{unit.device_id} {unit.params.model} {unit.params.series}S, "
            f"{unit.habits.kind}, {unit.age_days:.0f} days old — {label}",
            fontsize=9,
            loc="left",
        )
        for ax in (v_ax, i_ax, t_ax, c_ax):
            ax.set_xlim(lo, hi)
            ax.set_xlabel("hours")
            if unit.fault is not None:
                onset = (unit.fault.onset_ts - start_ts) / HOUR_S
                if lo <= onset <= hi:
                    ax.axvline(onset, color="red", lw=1.2)
    if fade_days > 0:
        _fade_row(axes[-1], units, start_ts=start_ts, days=fade_days, interval_s=fade_interval_s)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=72)
    plt.close(fig)
    return out


def _fade_row(
    axes: Sequence[Any],
    units: Sequence[BatteryUnit],
    *,
    start_ts: float,
    days: float,
    interval_s: float,
) -> None:
    by_days, by_cycles = axes[0], axes[1]
    # Coarse steps (one per report) keep a year or two quick; fine for capacity.
    bank = BatteryBank(units, start_ts=start_ts, interval_s=interval_s, max_step_s=interval_s)
    ts, fcc, cycles = [], [], []
    for t, metrics in bank.ticks(days * DAY_S):
        ts.append(t)
        fcc.append(metrics["full_charge_capacity_mah"])
        cycles.append(metrics["cycle_count"])
    elapsed = (np.asarray(ts) - start_ts) / DAY_S
    for i, unit in enumerate(units):
        soh = 100 * np.asarray(fcc)[:, i] / unit.params.design_mah
        label = f"{unit.device_id} {unit.fault.code.value if unit.fault else 'healthy'}"
        by_days.plot(elapsed, soh, lw=0.9, label=label)
        by_cycles.plot(np.asarray(cycles)[:, i], soh, lw=0.9, label=label)
    for ax, xlabel in ((by_days, "days"), (by_cycles, "cycle count")):
        ax.axhline(70.0, color="k", ls=":", lw=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("full charge, % of design")
        ax.legend(fontsize=7)
        ax.set_title(f"capacity over {days:.0f} days", fontsize=9, loc="left")
    for ax in axes[2:]:
        ax.set_visible(False)


def _series(
    unit: BatteryUnit, *, start_ts: float, duration_s: float, interval_s: float
) -> dict[str, np.ndarray]:
    rows = list(unit.readings(start_ts=start_ts, duration_s=duration_s, interval_s=interval_s))
    out = {"ts": np.array([r.ts for r in rows])}
    for name in METRICS:
        out[name] = np.array([r.metrics[name] for r in rows], dtype=np.float64)
    # The air indoors (or in the garage): what a parked pack settles to.
    out["ambient_c"] = unit.climate.ambient_c(out["ts"], np.zeros(out["ts"].size), unit.seed)
    return out
