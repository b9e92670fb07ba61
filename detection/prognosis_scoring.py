"""Grading end-of-life projections on cells aged to the end: replay a cell's capacity one
discharge cycle at a time through the wear detector, score the projections from half of
life on (error of the central estimate, whether the band holds the true crossing), and
calibrate the band's width — leaving one cell out, so no cell grades itself.

A cell whose record ends before end of life is censored: its truth lies beyond the last
cycle, so a band "holds" it when its late edge does, and a central estimate before the
last cycle is an early call whose error is at least the gap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from detection.battery import WearDetector
from detection.profiles import BatteryProfile
from detection.prognosis import FadeFit
from domain import Anomaly, Reading

DAY_S = 86400.0
START_TS = 1_700_000_000.0  # a fixed event time for cycle 0; one cycle a day after it


@dataclass(frozen=True)
class CellRun:
    """One cell replayed: its fits after each cycle from `start`, and any wear ticket."""

    name: str
    cycles: tuple[float, ...]  # the cycles the fits were made at
    fits: tuple[FadeFit, ...]
    true_eol: float | None  # first cycle below end of life; None: not within the record
    last_cycle: float
    ticket: Anomaly | None = None
    ticket_cycle: float | None = None


@dataclass(frozen=True)
class CellScore:
    """How one cell's projections did from half of life on, at one band width."""

    name: str
    true_eol: float | None
    scored: int
    mean_error: float  # |central - truth| in cycles (a lower bound when censored)
    median_error: float
    coverage: float  # share of bands holding the truth
    early_calls: float = 0.0  # censored cells: share of central estimates before the record ended
    errors: tuple[float, ...] = field(default=(), repr=False)
    covered: tuple[bool, ...] = field(default=(), repr=False)


def first_crossing(cycles: Sequence[float], soh: Sequence[float], threshold: float) -> float | None:
    """The first cycle whose state of health is below `threshold` (None: never)."""
    for cycle, level in zip(cycles, soh, strict=True):
        if level < threshold:
            return cycle
    return None


def replay(
    name: str,
    cycles: Sequence[float],
    capacity_mah: Sequence[float],
    *,
    design_mah: float,
    profile: BatteryProfile,
    start: float = 20.0,
    progress: Callable[[str, float], None] | None = None,
) -> CellRun:
    """Feed a cell to a `WearDetector` as a battery pack, one discharge cycle a day
    (cycle_count = cycle), keeping its fade fit after every cycle from `start` on."""
    detector = WearDetector(profile)
    at, fits = [], []
    ticket, ticket_cycle = None, None
    for seq, (cycle, capacity) in enumerate(zip(cycles, capacity_mah, strict=True), start=1):
        metrics = {
            "full_charge_capacity_mah": float(capacity),
            "design_capacity_mah": design_mah,
            "cycle_count": float(cycle),
        }
        anomaly = detector.update(Reading(name, START_TS + float(cycle) * DAY_S, seq, metrics))
        if anomaly is not None and ticket is None:
            ticket, ticket_cycle = anomaly, float(cycle)
        if cycle >= start:
            fit = detector.fade_fit()
            if fit is not None:
                at.append(float(cycle))
                fits.append(fit)
        if progress is not None:
            progress(name, float(cycle))
    soh = [c / design_mah for c in capacity_mah]
    return CellRun(
        name=name,
        cycles=tuple(at),
        fits=tuple(fits),
        true_eol=first_crossing(cycles, soh, profile.eol_soh),
        last_cycle=float(cycles[-1]),
        ticket=ticket,
        ticket_cycle=ticket_cycle,
    )


def score(run: CellRun, *, shape_sd: float, profile: BatteryProfile) -> CellScore:
    """Error and coverage of `run`'s projections from half of life on, at `shape_sd`."""
    truth = run.true_eol
    censored = truth is None
    life = run.last_cycle if truth is None else truth
    errors, covered, early = [], [], []
    for cycle, fit in zip(run.cycles, run.fits, strict=True):
        if cycle < life / 2 or (truth is not None and cycle >= truth):
            continue
        p = fit.projection(profile.eol_soh, shape_sd=shape_sd, z=profile.wear_z)
        if censored:
            errors.append(max(run.last_cycle - p.central, 0.0))
            covered.append(p.latest > run.last_cycle)
            early.append(p.central < run.last_cycle)
        else:
            assert truth is not None
            errors.append(abs(p.central - truth))
            covered.append(p.earliest <= truth <= p.latest)
    return CellScore(
        name=run.name,
        true_eol=truth,
        scored=len(errors),
        mean_error=float(np.mean(errors)) if errors else math.nan,
        median_error=float(np.median(errors)) if errors else math.nan,
        coverage=float(np.mean(covered)) if covered else math.nan,
        early_calls=float(np.mean(early)) if early else 0.0,
        errors=tuple(errors),
        covered=tuple(covered),
    )


def pooled(scores: Sequence[CellScore]) -> CellScore:
    """All projections of cells with a known end of life, as one (a censored cell's
    figures are only bounds, so they stay on their own line)."""
    known = [s for s in scores if s.true_eol is not None]
    errors = [e for s in known for e in s.errors]
    covered = [c for s in known for c in s.covered]
    return CellScore(
        name="pooled",
        true_eol=None,
        scored=len(errors),
        mean_error=float(np.mean(errors)) if errors else math.nan,
        median_error=float(np.median(errors)) if errors else math.nan,
        coverage=float(np.mean(covered)) if covered else math.nan,
    )


class ScoreTable:
    """Scores of each run at each band width, computed once and kept."""

    def __init__(self, runs: Sequence[CellRun], profile: BatteryProfile) -> None:
        self.runs = {run.name: run for run in runs}
        self.profile = profile
        self._scores: dict[tuple[str, float], CellScore] = {}

    def get(self, name: str, shape_sd: float) -> CellScore:
        key = (name, round(shape_sd, 6))
        if key not in self._scores:
            self._scores[key] = score(self.runs[name], shape_sd=shape_sd, profile=self.profile)
        return self._scores[key]

    def calibrate(self, names: Sequence[str], grid: Sequence[float], nominal: float) -> float:
        """The narrowest band width at which every named cell's band holds its truth at
        least `nominal` of the time (the widest of `grid` if none does)."""
        for shape_sd in grid:
            if all(self.get(name, shape_sd).coverage >= nominal for name in names):
                return float(shape_sd)
        return float(grid[-1])

    def leave_one_out(
        self, grid: Sequence[float], nominal: float
    ) -> list[tuple[str, float, CellScore]]:
        """For each cell: the width calibrated on the others, and how it did on this one."""
        out = []
        for held in self.runs:
            others = [name for name in self.runs if name != held]
            shape_sd = self.calibrate(others, grid, nominal)
            out.append((held, shape_sd, self.get(held, shape_sd)))
        return out
