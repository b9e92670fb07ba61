"""Draw simulated air conditioners (temperatures, compressor, power, fan, filter) to a PNG.

For eyeballing the physics: a healthy unit next to faulty ones, over days and zoomed into
one of them. matplotlib is an optional dependency (`pip install faultline[plot]`),
imported only here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from device_sim.air_conditioner import METRICS, AirConditionerBank, AirConditionerUnit

HOUR_S = 3600.0
DAY_S = 86400.0


def plot_air_conditioners(
    units: Sequence[AirConditionerUnit],
    *,
    start_ts: float,
    path: str | Path,
    duration_s: float = 10 * DAY_S,
    interval_s: float = 60.0,
    zoom: tuple[float, float] | None = (7 * DAY_S, 8 * DAY_S),
) -> Path:
    """Plot each unit over `duration_s` (and a `zoom` window, seconds after start) to `path`.

    Per unit, three rows: return, supply and outdoor temperature with the setpoint while
    switched on; power with the compressor's running time shaded, and fan rpm; the filter
    pressure drop. A fault's onset is a red line.
    """
    if not units:
        raise ValueError("nothing to plot: no units given")
    if zoom is not None and zoom[1] > duration_s:
        zoom = None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = _series(units, start_ts=start_ts, duration_s=duration_s, interval_s=interval_s)
    columns = 2 if zoom else 1
    rows_per_unit = 3
    fig, axes = plt.subplots(
        rows_per_unit * len(units),
        columns,
        figsize=(10 * columns, 6.3 * len(units)),
        squeeze=False,
        gridspec_kw={
            "width_ratios": [2.6, 1][:columns],
            "height_ratios": [1.5, 1.2, 0.7] * len(units),
        },
    )
    for row, unit in enumerate(units):
        s = series[row]
        hours = (s["ts"] - start_ts) / HOUR_S
        sessions = unit.occupants.sessions(start_ts, start_ts + duration_s, unit.seed, unit.climate)
        switched_on, setpoint, window = sessions.at(s["ts"])
        windows = [(0.0, duration_s / HOUR_S)]
        if zoom:
            windows.append((zoom[0] / HOUR_S, zoom[1] / HOUR_S))
        for col, (lo, hi) in enumerate(windows):
            sel = (hours >= lo) & (hours <= hi)
            h = hours[sel]
            temp_ax, power_ax, dp_ax = (axes[rows_per_unit * row + i, col] for i in range(3))
            temp_ax.plot(h, s["outdoor_temp_c"][sel], color="tab:orange", lw=0.6, label="outdoor")
            temp_ax.plot(h, s["return_temp_c"][sel], color="tab:red", lw=0.7, label="return")
            temp_ax.plot(h, s["supply_temp_c"][sel], color="tab:blue", lw=0.6, label="supply")
            sp = np.where(switched_on[sel] > 0, setpoint[sel], np.nan)
            temp_ax.plot(h, sp, color="black", ls=":", lw=0.9, label="setpoint (on)")
            opened = window[sel] > 0
            if opened.any():
                temp_ax.plot(h[opened], np.full(opened.sum(), 10.5), "|", color="tab:green", ms=5)
            temp_ax.set_ylabel("°C")
            temp_ax.set_ylim(8, 40)
            power_ax.fill_between(
                h,
                0,
                s["compressor_on"][sel] * max(s["power_w"].max(), 1.0),
                step="post",
                color="tab:orange",
                alpha=0.2,
                lw=0,
            )
            power_ax.plot(h, s["power_w"][sel], color="tab:red", lw=0.6)
            power_ax.set_ylabel("power W")
            rpm_ax = power_ax.twinx()
            rpm_ax.plot(h, s["fan_rpm"][sel], color="tab:purple", lw=0.6, alpha=0.7)
            rpm_ax.set_ylabel("fan rpm", color="tab:purple")
            rpm_ax.set_ylim(0, 1600)
            running = s["fan_rpm"][sel] > 0
            dp_ax.plot(h[running], s["filter_dp_pa"][sel][running], ".", color="tab:brown", ms=1)
            dp_ax.set_ylabel("filter Δp Pa")
            dp_ax.set_xlabel("hours")
            for ax in (temp_ax, power_ax, dp_ax):
                ax.set_xlim(lo, hi)
                if unit.fault is not None:
                    onset = (unit.fault.onset_ts - start_ts) / HOUR_S
                    if lo <= onset <= hi:
                        ax.axvline(onset, color="red", lw=1.2)
            if col == 0 and row == 0:
                temp_ax.legend(loc="lower left", fontsize=7, ncol=4)
            label = unit.fault.code.value if unit.fault else "healthy"
            on = s["fan_rpm"][sel] > 0
            duty = s["compressor_on"][sel][on].mean() if on.any() else 0.0
            p = unit.params
            temp_ax.set_title(
                f"{unit.device_id} {p.model} ({'inverter' if p.inverter else 'fixed speed'}, "
                f"{unit.occupants.room}) — {label} — on {on.mean():.0%}, "
                f"compressor {duty:.0%} of that",
                fontsize=9,
            )
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out


def _series(
    units: Sequence[AirConditionerUnit], *, start_ts: float, duration_s: float, interval_s: float
) -> list[dict[str, np.ndarray]]:
    """Every unit's readings as arrays, from one bank (a unit reads the same alone)."""
    bank = AirConditionerBank(units, start_ts=start_ts, interval_s=interval_s)
    ticks = list(bank.ticks(duration_s))
    ts = np.array([t for t, _ in ticks])
    return [
        {"ts": ts}
        | {name: np.array([m[name][i] for _, m in ticks], dtype=np.float64) for name in METRICS}
        for i in range(len(units))
    ]
