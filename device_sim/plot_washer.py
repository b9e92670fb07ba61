"""Draw simulated washers to a PNG, to eyeball the physics: one cycle up close, and every
cycle's key figures over the days, for a healthy unit and for each fault.

matplotlib is an optional dependency (`pip install faultline[plot]`), imported only here.
Run `python -m device_sim.plot_washer out.png` for the standard picture.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from device_sim.faults import FaultSpec
from device_sim.washer import METRICS, Phase, WasherUnit
from domain import FaultCode

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FloatArray = npt.NDArray[np.float64]
HOUR_S = 3600.0
DAY_S = 86400.0
_PHASE_COLOURS = {
    Phase.FILL: "#9ecae1",
    Phase.WASH: "#c7e9c0",
    Phase.RINSE: "#fdd0a2",
    Phase.SPIN: "#dadaeb",
    Phase.DRAIN: "#fcbba1",
}


@dataclass(frozen=True)
class _CycleFigures:
    """What one cycle looked like, in the numbers a technician would ask for."""

    start_ts: float
    spin_up_peak_g: float  # vibration peak while spinning below 600 rpm (resonance)
    top_rpm: float
    plateau_current_a: float  # mean current at the top speed (nan if none held)
    plateau_g: float  # peak vibration at the top speed
    drain_minutes: float  # longest drain with water still above 1 L
    stalled: bool


def _series(unit: WasherUnit, *, start_ts: float, duration_s: float) -> dict[str, FloatArray]:
    rows = list(unit.readings(start_ts=start_ts, duration_s=duration_s))
    out = {"ts": np.array([r.ts for r in rows])}
    for name in METRICS:
        out[name] = np.array([r.metrics[name] for r in rows], dtype=np.float64)
    return out


def _cycles(s: dict[str, FloatArray]) -> list[tuple[int, int]]:
    """Index ranges [start, end) of cycles: runs of non-idle phase (short idle gaps joined)."""
    active = s["cycle_phase"] > 0
    edges = np.diff(np.concatenate(([0], active.astype(np.int64), [0])))
    starts, ends = np.nonzero(edges > 0)[0], np.nonzero(edges < 0)[0]
    runs: list[tuple[int, int]] = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if runs and a - runs[-1][1] <= 2:
            runs[-1] = (runs[-1][0], b)
        else:
            runs.append((a, b))
    return runs


def _figures(s: dict[str, FloatArray], a: int, b: int) -> _CycleFigures:
    sl = slice(a, b + 1)
    phase, rpm, vib = s["cycle_phase"][sl], s["drum_rpm"][sl], s["vibration_g"][sl]
    spin = phase == Phase.SPIN
    low = spin & (rpm > 60) & (rpm < 600)
    top = float(rpm[spin].max()) if spin.any() else 0.0
    held = spin & (rpm >= 0.97 * top) & (top >= 600)
    draining = (phase == Phase.DRAIN) & (s["drain_pump_on"][sl] > 0) & (s["water_level_l"][sl] > 1)
    longest = run = 0
    for d in draining.tolist():
        run = run + 1 if d else 0
        longest = max(longest, run)
    stalled = bool(((phase == Phase.DRAIN) & (s["drain_pump_on"][sl] == 0) & (rpm == 0)).sum() > 3)
    return _CycleFigures(
        start_ts=float(s["ts"][a]),
        spin_up_peak_g=float(vib[low].max()) if low.any() else float("nan"),
        top_rpm=top,
        plateau_current_a=float(s["motor_current_a"][sl][held].mean()) if held.any() else np.nan,
        plateau_g=float(vib[held].max()) if held.any() else np.nan,
        drain_minutes=float(longest),
        stalled=stalled,
    )


def plot_washers(
    units: Sequence[WasherUnit],
    *,
    start_ts: float,
    path: str | Path,
    duration_s: float = 21 * DAY_S,
) -> Path:
    """Plot each unit to `path`: left, one cycle (the last one that ran for a faulty unit,
    the first for a healthy one); right, every cycle's vibration peaks spinning up and at
    top speed, top speed, current at top speed and drain time over `duration_s`. A
    fault's onset is a red line."""
    if not units:
        raise ValueError("nothing to plot: no units given")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        2 * len(units),
        2,
        figsize=(17, 4.6 * len(units)),
        squeeze=False,
        gridspec_kw={"width_ratios": [1.6, 1]},
    )
    for row, unit in enumerate(units):
        s = _series(unit, start_ts=start_ts, duration_s=duration_s)
        runs = _cycles(s)
        figures = [_figures(s, a, b) for a, b in runs]
        label = unit.fault.code.value if unit.fault else "healthy"
        onset = unit.fault.onset_ts if unit.fault else None
        complete = [(a, b) for a, b in runs if b + 3 < s["ts"].size]
        top_ax, low_ax = axes[2 * row, 0], axes[2 * row + 1, 0]
        if complete:
            a, b = complete[-1] if onset is not None else complete[0]
            _plot_cycle(top_ax, low_ax, s, max(a - 3, 0), b + 3)
        top_ax.set_title(
            f"{unit.device_id} {unit.params.model} — {label} — "
            f"{unit.habits.loads_per_week:.1f} loads/week, spin {unit.habits.spin_rpm:.0f} rpm",
            fontsize=9,
        )
        _plot_days(axes[2 * row, 1], axes[2 * row + 1, 1], figures, start_ts, onset, duration_s)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out


def _plot_cycle(top_ax: Axes, low_ax: Axes, s: dict[str, FloatArray], a: int, b: int) -> None:
    ts = s["ts"][a:b]
    minutes = (ts - ts[0]) / 60.0
    for ax in (top_ax, low_ax):
        for i in range(len(ts) - 1):
            colour = _PHASE_COLOURS.get(Phase(int(s["cycle_phase"][a + i + 1])))
            if colour:
                ax.axvspan(minutes[i], minutes[i + 1], color=colour, lw=0)
    top_ax.step(minutes, s["drum_rpm"][a:b], where="pre", color="black", lw=0.9)
    top_ax.set_ylabel("drum rpm")
    level_ax = top_ax.twinx()
    level_ax.step(minutes, s["water_level_l"][a:b], where="pre", color="tab:blue", lw=1.0)
    pump = s["drain_pump_on"][a:b] > 0
    level_ax.plot(minutes[pump], np.full(pump.sum(), -0.8), "|", color="tab:red", ms=5)
    level_ax.set_ylabel("water L (| pump)", color="tab:blue")
    level_ax.set_ylim(-1.5, 25)
    low_ax.step(minutes, s["vibration_g"][a:b], where="pre", color="tab:red", lw=1.4)
    low_ax.set_ylabel("vibration g (peak)", color="tab:red")
    low_ax.set_xlabel("minutes; phase: fill blue, wash green, rinse orange, spin lilac, drain red")
    cur_ax = low_ax.twinx()
    amps = s["motor_current_a"][a:b]
    cur_ax.step(minutes, amps, where="pre", color="tab:orange", lw=0.8, ls="--")
    cur_ax.set_ylabel("motor A (mean, dashed)", color="tab:orange")
    cur_ax.set_ylim(0, 1.6 * max(float(amps.max()), 0.1))
    for ax in (top_ax, low_ax):
        ax.set_xlim(minutes[0], minutes[-1])


def _plot_days(
    top_ax: Axes,
    low_ax: Axes,
    figures: list[_CycleFigures],
    start_ts: float,
    onset: float | None,
    duration_s: float,
) -> None:
    days = np.array([(f.start_ts - start_ts) / DAY_S for f in figures])
    top_ax.plot(days, [f.spin_up_peak_g for f in figures], "o", color="tab:red", ms=4)
    top_ax.plot(days, [f.plateau_g for f in figures], "d", color="tab:purple", ms=4)
    top_ax.set_ylabel("peak g: spin-up ●, top speed ◆", color="tab:red")
    rpm_ax = top_ax.twinx()
    rpm_ax.plot(days, [f.top_rpm for f in figures], "_", color="black", ms=8, mew=2)
    rpm_ax.set_ylabel("top rpm (—)")
    rpm_ax.set_ylim(0, 1500)
    low_ax.plot(days, [f.plateau_current_a for f in figures], "s", color="tab:orange", ms=4)
    low_ax.set_ylabel("A at top speed", color="tab:orange")
    low_ax.set_xlabel("days; x = drain stalled")
    drain_ax = low_ax.twinx()
    drain_ax.plot(days, [f.drain_minutes for f in figures], "^", color="tab:blue", ms=4)
    stalled = [f.stalled for f in figures]
    drain_ax.plot(days[stalled], np.full(sum(stalled), 9.5), "x", color="black", ms=8)
    drain_ax.set_ylabel("longest drain, min", color="tab:blue")
    drain_ax.set_ylim(0, 10.5)
    for ax in (top_ax, low_ax):
        ax.set_xlim(0, duration_s / DAY_S)
        if onset is not None:
            ax.axvline((onset - start_ts) / DAY_S, color="red", lw=1.2)


def standard_units(start_ts: float) -> list[WasherUnit]:
    """A healthy washer and one with each fault, its onset on day 3."""
    onset = start_ts + 3 * DAY_S
    return [
        WasherUnit.sample("washer-healthy", 11),
        WasherUnit.sample(
            "washer-imbalance", 12, fault=FaultSpec(FaultCode.WASHER_IMBALANCE, onset)
        ),
        WasherUnit.sample(
            "washer-drain", 13, fault=FaultSpec(FaultCode.WASHER_DRAIN_BLOCKED, onset)
        ),
        WasherUnit.sample(
            "washer-bearing", 14, fault=FaultSpec(FaultCode.WASHER_BEARING_WEAR, onset)
        ),
    ]


if __name__ == "__main__":  # pragma: no cover - a convenience for eyeballing
    start = 1_764_000_000.0 - (1_764_000_000.0 + 8 * HOUR_S) % DAY_S
    target = sys.argv[1] if len(sys.argv) > 1 else "washers.png"
    print(plot_washers(standard_units(start), start_ts=start, path=target))
