"""The fade model behind battery prognosis: state of health falls slowly and linearly, then
faster after a knee; fitted robustly to regeneration, weighted towards the recent past as
far back as it projects ahead, and averaged over where the knee may be.

For each candidate knee k (past samples' ages, spaced evenly on a log scale of how far
back they lie, plus "no knee yet"),

    soh(a) = level + slope (a - a_now) + bend max(k - a, 0),

a linear fit in (level, slope, bend): the pre-knee fade is slope - bend, the post-knee
fade `slope`. A knee is where fade speeds up (Attia et al., "Knees in lithium-ion battery
aging trajectories", J. Electrochem. Soc. 2022; the Bacon-Watts two-phase line of
Fermín-Cueto et al., Energy and AI 2020), so candidates where it slows are dropped; the
others are averaged, weighted by their marginal likelihood (Bayesian model averaging
over where the knee is).

Regeneration (capacity coming back for a few cycles after a rest, NASA PCoE cells: up
to +0.15 Ah) only ever lifts readings, so the fit is a low expectile (asymmetric least
squares, Eilers & Boelens 2005, as for a baseline under peaks): readings above the line
weigh `regen_weight`, those below 1. It neither alarms on a jump nor takes it as recovery.

The fit forgets: samples weigh 0.5 per `memory_ratio` times the projected remaining life
(at least `min_memory`), so a fade rate is estimated over about as long a past as the
future it is extrapolated into. The trend's (co)variance is a Newey-West sandwich with
an Andrews (1991) bandwidth, since regeneration makes residuals run in streaks.

>>> import numpy as np
>>> age = np.arange(0.0, 80.0)
>>> soh = 0.95 - 0.0005 * age - 0.003 * np.maximum(age - 40.0, 0.0)  # knee at 40
>>> soh[[55, 56, 57]] += [0.04, 0.025, 0.012]  # a regeneration after a rest
>>> fit = KneeFadeModel().fit(age, soh, np.ones_like(age), threshold=0.70)
>>> round(fit.level, 3), round(fit.slope, 4)
(0.793, -0.0035)
>>> p = fit.projection(0.70, shape_sd=0.2, z=1.645)
>>> round(p.central), p.earliest < 105.7 < p.latest  # truly 105.7
(106, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detection.prognosis import FadeFit

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class KneeFadeModel:
    """Parameters of the fit (state-of-health units; ages in the axis' unit)."""

    regen_weight: float = 0.1  # weight of a reading above the trend (1 below)
    memory_ratio: float = 1.0  # half-life of the past, in projected remaining lives
    min_memory: float = 5.0  # ...but at least this much age
    min_post_knee: int = 8  # samples after a knee before it can be fitted
    knee_candidates: int = 32
    slope_prior_sd: float = 0.01  # a weak prior on slopes: 1 % of design per unit age
    min_scale: float = 0.0025  # smallest measurement scatter believed
    iterations: int = 8  # of the reweighted fit

    def fit(
        self, ages: FloatArray, levels: FloatArray, counts: FloatArray, *, threshold: float
    ) -> FadeFit:
        """Fit the samples (ages non-decreasing, `counts` per sample) and return the
        mixture of trends at the latest age. Needs at least three samples."""
        ages = np.asarray(ages, dtype=float)
        levels = np.asarray(levels, dtype=float)
        counts = np.asarray(counts, dtype=float)
        if ages.size < 3:
            raise ValueError("need at least three samples to fit a fade")
        first = self._fit(ages, levels, counts, memory=math.inf, spread=False)
        remaining = _median_remaining(first, threshold)
        if not math.isfinite(remaining):
            return self._fit(ages, levels, counts, memory=math.inf, spread=True)
        memory = max(self.memory_ratio * remaining, self.min_memory)
        forget = np.exp2(-(ages[-1] - ages) / memory)
        return self._fit(ages, levels, counts * forget, memory=memory, spread=True)

    def _fit(
        self, ages: FloatArray, y: FloatArray, prior_w: FloatArray, *, memory: float, spread: bool
    ) -> FadeFit:
        """One reweighted fit of every knee candidate; the trends' (co)variances only if
        `spread` (the final pass)."""
        n = ages.size
        u = ages - ages[-1]
        last = max(n - self.min_post_knee, 1)
        knees = ages[_knee_candidates(ages, last, self.knee_candidates)]
        bend = np.maximum(knees[:, None] - ages[None, :], 0.0)  # K x N
        k = knees.size
        basis = np.stack([np.ones((k, n)), np.broadcast_to(u, (k, n)), bend], axis=-1)  # K N 3
        prior = np.diag([0.0, 1.0, 1.0]) / self.slope_prior_sd**2
        reweight = np.ones((k, n))
        scale = np.full(k, self.min_scale)
        weights = prior_w[None, :] * reweight
        beta = np.zeros((k, 3))
        normal = np.zeros((k, 3, 3))
        for _ in range(self.iterations):
            weights = prior_w[None, :] * reweight
            wxt = (weights[..., None] * basis).transpose(0, 2, 1)  # K 3 N
            normal = wxt @ basis
            normal += prior[None] * (scale**2)[:, None, None]
            normal[:, 0, 0] += 1e-12  # the level is free; keep the system solvable
            beta = np.linalg.solve(normal, (wxt @ y)[..., None])[..., 0]
            residual = y[None, :] - (basis @ beta[..., None])[..., 0]
            reweight = np.where(residual > 0.0, self.regen_weight, 1.0)
            scale = np.maximum(_lower_scale(residual), self.min_scale)
        residual = y[None, :] - (basis @ beta[..., None])[..., 0]
        # A knee is where fade speeds up: the bend must not make the past fade faster.
        keep = beta[:, 2] <= 0.0
        keep[0] = True
        if spread:
            cov = _sandwich(normal, basis, weights * residual, residual)
        else:
            cov = np.zeros((k, 3, 3))
        # Marginal likelihood of each knee (Gaussian, at a scale common to all, so they
        # compare): how well it explains the weighted samples, less its Occam factor.
        sigma = float(np.median(scale))
        fit_term = (weights * residual * residual).sum(axis=1) / sigma**2
        _, logdet = np.linalg.slogdet(normal / sigma**2)
        log_evidence = np.where(keep, -0.5 * fit_term - 0.5 * logdet, -np.inf)
        mix = np.exp(log_evidence - log_evidence.max())
        mix[mix < 1e-9] = 0.0  # drop the negligible: the mixture stays small
        mix /= mix.sum()
        scatter = np.maximum(1.4826 * np.median(np.abs(residual), axis=1), self.min_scale)
        chosen = np.nonzero(mix > 0)[0]
        return FadeFit(
            x=float(ages[-1]),
            weights=tuple(float(v) for v in mix[chosen]),
            levels=tuple(float(v) for v in beta[chosen, 0]),
            slopes=tuple(float(v) for v in beta[chosen, 1]),
            var_level=tuple(float(v) for v in cov[chosen, 0, 0]),
            cov_level_slope=tuple(float(v) for v in cov[chosen, 0, 1]),
            var_slope=tuple(float(v) for v in cov[chosen, 1, 1]),
            scatter=tuple(float(v) for v in scatter[chosen]),
            knees=tuple(float(v) for v in knees[chosen]),
            memory=memory,
            samples=n,
        )


def _knee_candidates(ages: FloatArray, last: int, count: int) -> npt.NDArray[np.intp]:
    """Indices of the samples a knee may sit at: the first (no knee yet) and up to `count`
    more among the first `last`, spaced evenly in how far back they lie on a log scale
    (a knee is resolved as finely as its distance from now matters)."""
    back = ages[-1] - ages[:last]
    nearest = max(float(back[-1]), 1e-9)
    targets = np.geomspace(nearest, max(float(back[0]), nearest), count)
    idx = np.searchsorted(-back, -targets)  # back is non-increasing
    idx = np.clip(idx, 0, last - 1)
    return np.unique(np.concatenate([[0], idx])).astype(np.intp)


def _lower_scale(residual: FloatArray) -> FloatArray:
    """Robust scale of each row's residuals below the trend (1.4826 * median |r|, r < 0):
    regeneration never reaches below, so this is the gauge's own scatter."""
    below = np.where(residual < 0.0, -residual, np.inf)
    below.sort(axis=1)
    count = (residual < 0.0).sum(axis=1)
    rows = np.arange(residual.shape[0])
    lo = below[rows, np.maximum((count - 1) // 2, 0)]
    hi = below[rows, np.maximum(count // 2, 0)]
    median = np.where(count > 0, 0.5 * (lo + hi), 0.0)
    return 1.4826 * np.where(np.isfinite(median), median, 0.0)


def _sandwich(
    normal: FloatArray, basis: FloatArray, scores: FloatArray, residual: FloatArray
) -> FloatArray:
    """Newey-West covariance of each row's coefficients, Bartlett kernel, Andrews' AR(1)
    plug-in bandwidth from that row's residuals.

    The Bartlett-weighted sum of score cross-products equals the sum of squared moving
    sums of L + 1 scores over L + 1 (partial windows at the ends included), which cumsums
    give in O(N) per row.
    """
    k, n, _ = basis.shape
    inv = np.linalg.inv(normal)
    g = scores[..., None] * basis  # K N 3
    num = (residual[:, 1:] * residual[:, :-1]).sum(axis=1)
    den = (residual * residual).sum(axis=1)
    rho = np.clip(np.divide(num, den, out=np.zeros(k), where=den > 0), 0.0, 0.95)
    alpha = 4.0 * rho**2 / ((1.0 - rho) ** 2 * (1.0 + rho) ** 2)
    lags = np.minimum(np.ceil(1.1447 * np.cbrt(alpha * n)), n - 1).astype(int)
    span = int(lags.max(initial=0))
    padded = np.concatenate([np.zeros((k, span + 1, 3)), g, np.zeros((k, span, 3))], axis=1)
    total = np.cumsum(padded, axis=1)  # total[:, i] = sum of padded[:, :i + 1]
    ends = np.arange(span + 1, n + 2 * span + 1)[None, :]  # windows ending at each position
    starts = ends - (lags[:, None] + 1)
    moving = np.take_along_axis(total, ends[..., None], axis=1) - np.take_along_axis(
        total, starts[..., None], axis=1
    )
    meat = moving.transpose(0, 2, 1) @ moving / (lags + 1.0)[:, None, None]
    out: FloatArray = inv @ meat @ inv
    return out


def _median_remaining(fit: FadeFit, threshold: float) -> float:
    """Weighted median, over the mixture, of each trend's straight-line time to threshold."""
    level, slope = np.asarray(fit.levels), np.asarray(fit.slopes)
    with np.errstate(divide="ignore", invalid="ignore"):
        remaining = np.where(slope < 0.0, np.maximum((level - threshold) / -slope, 0.0), np.inf)
    order = np.argsort(remaining)
    cumulative = np.cumsum(np.asarray(fit.weights)[order])
    return float(remaining[order][min(int(np.searchsorted(cumulative, 0.5)), order.size - 1)])
