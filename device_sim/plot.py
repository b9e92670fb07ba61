"""Draw simulated fridges (temperatures, compressor, power) to a PNG, to eyeball the physics.

matplotlib is an optional dependency (`pip install faultline[plot]`), imported only here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from device_sim.fleet import Fleet
from device_sim.fridge import FridgeUnit

HOUR_S = 3600.0
MAX_FAULTY_SHOWN = 4


def plot_units(
    units: Fleet | Sequence[FridgeUnit],
    *,
    start_ts: float,
    path: str | Path,
    duration_s: float = 3 * 86400.0,
    interval_s: float = 60.0,
    zoom: tuple[float, float] | None = (30 * HOUR_S, 38 * HOUR_S),
) -> Path:
    """Plot each unit over `duration_s` (and a `zoom` window, seconds after start) to `path`.

    Given a `Fleet`, plots its first healthy unit and up to four faulty ones. Per unit:
    cabinet and freezer temperature with door openings, and power with the compressor's
    running time shaded; a fault's onset is a red line.
    """
    if isinstance(units, Fleet):
        units = _pick(units)
    if not units:
        raise ValueError("nothing to plot: no units given")
    if zoom is not None and zoom[1] > duration_s:
        zoom = None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 2 if zoom else 1
    fig, axes = plt.subplots(
        2 * len(units),
        columns,
        figsize=(9 * columns, 4.2 * len(units)),
        squeeze=False,
        gridspec_kw={"width_ratios": [2.2, 1][:columns]},
    )
    for row, unit in enumerate(units):
        series = _series(unit, start_ts=start_ts, duration_s=duration_s, interval_s=interval_s)
        hours = (series["ts"] - start_ts) / HOUR_S
        windows: list[tuple[float, float]] = [(0.0, duration_s / HOUR_S)]
        if zoom:
            windows.append((zoom[0] / HOUR_S, zoom[1] / HOUR_S))
        for col, (lo, hi) in enumerate(windows):
            sel = (hours >= lo) & (hours <= hi)
            h = hours[sel]
            temp_ax, power_ax = axes[2 * row, col], axes[2 * row + 1, col]
            temp_ax.plot(
                h, series["cabinet_temp_c"][sel], color="tab:blue", lw=0.8, label="cabinet"
            )
            temp_ax.axhline(series["setpoint_c"][0], color="tab:blue", ls=":", lw=0.8)
            door = series["door_open"][sel] > 0
            temp_ax.plot(
                h[door], np.full(door.sum(), temp_ax.get_ylim()[0]), "|", color="tab:green", ms=6
            )
            frz_ax = temp_ax.twinx()
            frz_ax.plot(h, series["freezer_temp_c"][sel], color="tab:purple", lw=0.7, alpha=0.7)
            temp_ax.set_ylabel("cabinet °C", color="tab:blue")
            frz_ax.set_ylabel("freezer °C", color="tab:purple")
            power_ax.fill_between(
                h,
                0,
                series["compressor_on"][sel] * series["power_w"].max(),
                step="post",
                color="tab:orange",
                alpha=0.25,
                lw=0,
            )
            power_ax.plot(h, series["power_w"][sel], color="tab:red", lw=0.6)
            power_ax.set_ylabel("power W")
            power_ax.set_xlabel("hours")
            for ax in (temp_ax, power_ax):
                ax.set_xlim(lo, hi)
                if unit.fault is not None:
                    onset = (unit.fault.onset_ts - start_ts) / HOUR_S
                    if lo <= onset <= hi:
                        ax.axvline(onset, color="red", lw=1.2)
            duty = series["compressor_on"][sel].mean()
            label = unit.fault.code.value if unit.fault else "healthy"
            temp_ax.set_title(
                f"{unit.device_id} {unit.params.model} sp {unit.params.setpoint_c:.1f} °C, "
                f"kitchen {unit.kitchen.base_c:.1f} °C — {label} — duty {duty:.0%}",
                fontsize=9,
            )
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def _pick(fleet: Fleet) -> list[FridgeUnit]:
    healthy = [u for u in fleet.units if u.fault is None][:1]
    faulty = [u for u in fleet.units if u.fault is not None][:MAX_FAULTY_SHOWN]
    return healthy + faulty


def _series(
    unit: FridgeUnit, *, start_ts: float, duration_s: float, interval_s: float
) -> dict[str, np.ndarray]:
    rows = list(unit.readings(start_ts=start_ts, duration_s=duration_s, interval_s=interval_s))
    out = {"ts": np.array([r.ts for r in rows])}
    for name in rows[0].metrics:
        out[name] = np.array([r.metrics[name] for r in rows], dtype=np.float64)
    return out
