"""Battery prognosis: when a pack's capacity will cross end of life, as a predictive
distribution over a mixture of fitted fade trends, and the `EolProjection` read from it.

A `FadeFit` (made by `detection.knee_fade.KneeFadeModel`) is a mixture of linear trends of
state of health against age (cycles or days), one per candidate knee, each with the
uncertainty of its level and slope and the scatter of measurements about it. Its
predictive probability that end of life has come by age x_now + h is

    P(h) = sum_k w_k  E_d [ Phi( (threshold - level_k - slope_k e^d h) / sd_k(h) ) ],
    d ~ N(0, shape_sd^2),

where sd_k(h)^2 holds the trend's own uncertainty at h plus the scatter of readings
about it (the first reading below the threshold decides, and regeneration lifts readings
above the trend). The factor e^d is the fade model's own error: the future fade may run faster (a
knee yet to come) or slower (fade that decelerates, as the NASA cells' does) than the
trend says; `shape_sd` is calibrated on real cells (`detection.prognosis_scoring`). The
expectation over d uses Gauss-Hermite quadrature, so the result is deterministic.

>>> fit = FadeFit(x=100.0, weights=(1.0,), levels=(0.80,), slopes=(-0.002,),
...               var_level=(1e-6,), cov_level_slope=(0.0,), var_slope=(1e-9,),
...               scatter=(0.005,), knees=(40.0,), memory=50.0, samples=80)
>>> p = fit.projection(0.70, shape_sd=0.2, z=1.645)
>>> round(p.central), round(p.earliest), round(p.latest), p.earliest < p.central < p.latest
(150, 135, 170, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr

# Gauss-Hermite nodes and weights for E[f(d)], d ~ N(0, 1).
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(9)
_GH_WEIGHTS = _GH_WEIGHTS / _GH_WEIGHTS.sum()
_MAX_DOUBLINGS = 60  # of the search horizon before calling a crossing "never"


@dataclass(frozen=True, slots=True)
class EolProjection:
    """Where the state of health crosses `threshold`, in the unit of the age axis.

    `central` is the median of the predictive distribution of the crossing; `earliest`
    and `latest` bound its two-sided band at `band_z` standard deviations (1.645: 90 %);
    `math.inf` means "not within any horizon" (the fade is flat, or the band cannot rule
    out that it is). `level` and `slope` are the trend's at `x`.
    """

    x: float  # the latest sample's age
    level: float  # the trend's state of health at x
    slope: float  # state of health per unit of age (negative when fading)
    slope_se: float
    threshold: float
    central: float
    earliest: float
    latest: float
    band_z: float
    samples: int
    memory: float  # the fit's half-life in age units (how far back it mostly looks)

    @property
    def slope_t(self) -> float:
        """Slope over its standard error: how many sigmas the fade is away from flat."""
        return self.slope / self.slope_se if self.slope_se > 0 else 0.0

    def remaining(self) -> tuple[float, float, float]:
        """(earliest, central, latest) age left until the crossing, from `x`."""
        return (self.earliest - self.x, self.central - self.x, self.latest - self.x)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (infinities as None)."""
        return {
            name: (None if isinstance(v, float) and math.isinf(v) else v)
            for name in self.__slots__
            for v in [getattr(self, name)]
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EolProjection:
        values = {name: data[name] for name in cls.__slots__}
        for name in ("central", "earliest", "latest", "memory"):
            if values[name] is None:
                values[name] = math.inf
        return cls(**values)


@dataclass(frozen=True, slots=True)
class FadeFit:
    """A mixture of linear fade trends at age `x`, one per knee candidate kept.

    Per component: its weight, the trend's level and slope at `x` with their
    (co)variances, and the scatter of readings about the trend (`scatter`), all in
    state-of-health units; `knees` are the ages where each component's fade sped up.
    """

    x: float
    weights: tuple[float, ...]
    levels: tuple[float, ...]
    slopes: tuple[float, ...]
    var_level: tuple[float, ...]
    cov_level_slope: tuple[float, ...]
    var_slope: tuple[float, ...]
    scatter: tuple[float, ...]
    knees: tuple[float, ...]
    memory: float
    samples: int

    @property
    def level(self) -> float:
        return float(np.dot(self.weights, self.levels))

    @property
    def slope(self) -> float:
        return float(np.dot(self.weights, self.slopes))

    @property
    def slope_se(self) -> float:
        """Standard error of the mixture's slope (within and between components)."""
        w, s = np.asarray(self.weights), np.asarray(self.slopes)
        spread = float(np.dot(w, (s - float(np.dot(w, s))) ** 2))
        return math.sqrt(float(np.dot(w, self.var_slope)) + spread)

    def probability_by(self, h: float, threshold: float, *, shape_sd: float) -> float:
        """Probability that end of life (`threshold`) has come by age `x + h`."""
        w = np.asarray(self.weights)
        level, slope = np.asarray(self.levels), np.asarray(self.slopes)
        v_ll, v_ls = np.asarray(self.var_level), np.asarray(self.cov_level_slope)
        v_ss, obs = np.asarray(self.var_slope), np.asarray(self.scatter)
        fh = (np.exp(shape_sd * _GH_NODES) * h)[:, None]  # the future fade's age, per node
        mean = level + slope * fh
        var = v_ll + 2.0 * fh * v_ls + fh * fh * v_ss + obs * obs
        p = ndtr((threshold - mean) / np.sqrt(np.maximum(var, 1e-18))) @ w
        return min(max(float(np.dot(_GH_WEIGHTS, p)), 0.0), 1.0)

    def quantile(self, q: float, threshold: float, *, shape_sd: float) -> float:
        """The age by which end of life has come with probability `q` (inf: never)."""
        if self.probability_by(0.0, threshold, shape_sd=shape_sd) >= q:
            return self.x
        lo, hi = 0.0, max(self.memory / 8.0, 1.0) if math.isfinite(self.memory) else 1.0
        for _ in range(_MAX_DOUBLINGS):
            if self.probability_by(hi, threshold, shape_sd=shape_sd) >= q:
                break
            lo, hi = hi, hi * 2.0
        else:
            return math.inf
        while hi - lo > 1e-4 * max(1.0, hi):
            mid = 0.5 * (lo + hi)
            if self.probability_by(mid, threshold, shape_sd=shape_sd) >= q:
                hi = mid
            else:
                lo = mid
        return self.x + hi

    def projection(self, threshold: float, *, shape_sd: float, z: float) -> EolProjection:
        """The crossing's median and its two-sided band at `z` standard deviations."""
        tail = float(ndtr(-z))
        return EolProjection(
            x=self.x,
            level=self.level,
            slope=self.slope,
            slope_se=self.slope_se,
            threshold=threshold,
            central=self.quantile(0.5, threshold, shape_sd=shape_sd),
            earliest=self.quantile(tail, threshold, shape_sd=shape_sd),
            latest=self.quantile(1.0 - tail, threshold, shape_sd=shape_sd),
            band_z=z,
            samples=self.samples,
            memory=self.memory,
        )
