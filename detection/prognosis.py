"""Battery prognosis: the trend of state of health against cycles or days, and when it will
cross end of life, with an uncertainty band. Pure, O(1) memory, restorable.

`FadeTrend` is a weighted least-squares line that forgets old samples exponentially (in
x, not in sample count), down-weights samples far above the line (capacity "regenerates"
for a few cycles after a rest: no recovery, and no reason to alarm) more than those below
it (a knee is real), and keeps only running sums. `project()` solves for where the line,
and its prediction band, crosses a threshold: an `EolProjection`.

The band allows for four things, all estimated online: the fit's own uncertainty, with
residuals inflated for their serial correlation (capacity wanders, it is not white
noise); the scatter of one measurement about the line; and the slope itself drifting
(a random walk whose rate comes from how much successive fits' slopes move).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Sums kept, centred on the latest x: weight, weight*u, weight*u^2, weight*y, weight*u*y,
# weight*y^2 (u = x - latest x); and of squared weights: w^2, w^2*u, w^2*u^2.
_SUMS = ("s0", "s1", "s2", "sy", "sxy", "syy", "q0", "q1", "q2")
_STATE = (*_SUMS, "x_ref", "count", "scale", "prev_residual", "c01", "c11", "slope_prev", "drift")
_MAX_HORIZON_STEPS = 60  # doublings of the search horizon before calling a crossing "never"


@dataclass(frozen=True, slots=True)
class EolProjection:
    """Where the health trend crosses `threshold`, in the same unit as x.

    `central` is the trend line's crossing; `earliest` and `latest` bound it (the band
    at `z` standard deviations); `math.inf` means "not within any horizon" (the trend is
    flat or rising, or the band cannot rule out that it is).
    """

    x: float  # the latest sample's x
    level: float  # the trend's health at x
    slope: float  # health per unit x (negative when fading)
    slope_se: float
    threshold: float
    central: float
    earliest: float
    latest: float
    samples: int
    effective_samples: float

    @property
    def slope_t(self) -> float:
        """Slope over its standard error: how many sigmas the fade is away from flat."""
        return self.slope / self.slope_se if self.slope_se > 0 else 0.0

    def remaining(self) -> tuple[float, float, float]:
        """(earliest, central, latest) x left until the crossing, from `x`."""
        return (self.earliest - self.x, self.central - self.x, self.latest - self.x)


class FadeTrend:
    """A robust, forgetting linear trend of health `y` against a non-decreasing `x`.

    `half_life` is in units of x (a sample `half_life` older weighs half as much);
    `huber_up` / `huber_down` are the Huber thresholds, in robust scale units, above and
    below the line; `min_scale` is the smallest residual scale believed (the measurement
    resolution), which keeps the first samples from looking perfectly certain.

    >>> trend = FadeTrend(half_life=30.0, min_scale=0.002)
    >>> for cycle in range(60):  # 0.3 % a cycle, from 95 %
    ...     _ = trend.update(float(cycle), 0.95 - 0.003 * cycle + 0.002 * (-1) ** cycle)
    >>> p = trend.project(0.70)
    >>> round(p.slope, 4), round(p.central), p.earliest < p.central < p.latest
    (-0.003, 83, True)
    """

    def __init__(
        self,
        *,
        half_life: float,
        huber_up: float = 1.0,
        huber_down: float = 3.0,
        min_scale: float = 0.0,
    ) -> None:
        if half_life <= 0:
            raise ValueError(f"half_life must be positive, got {half_life}")
        self.half_life = half_life
        self.huber_up = huber_up
        self.huber_down = huber_down
        self.min_scale = min_scale
        self.s0_ = self.s1_ = self.s2_ = 0.0  # sums of w, w*u, w*u^2
        self.sy_ = self.sxy_ = self.syy_ = 0.0  # sums of w*y, w*u*y, w*y^2
        self.q0_ = self.q1_ = self.q2_ = 0.0  # sums of w^2, w^2*u, w^2*u^2
        self.x_ref_: float | None = None
        self.count_ = 0
        self.scale_ = min_scale  # robust residual scale (EWMA of |r|, in sigma units)
        self.prev_residual_: float | None = None
        self.c01_ = 0.0  # EWMA of r_t * r_(t-1)
        self.c11_ = 0.0  # EWMA of r_t^2
        self.slope_prev_: float | None = None
        self.drift_ = 0.0  # EWMA of (slope change)^2 per unit x

    # -- learning -----------------------------------------------------------------------

    def update(self, x: float, y: float) -> float | None:
        """Learn one sample; returns its residual against the trend before it (None at first).

        Samples must come in non-decreasing x; an earlier x raises `ValueError`.
        """
        if self.x_ref_ is not None and x < self.x_ref_:
            raise ValueError(f"x must not decrease: {x} after {self.x_ref_}")
        residual = None
        weight = 1.0
        if self.count_ >= 3:
            residual = y - self.level(x)
            scale = max(self.scale_, self.min_scale)
            k = self.huber_up if residual > 0 else self.huber_down
            if abs(residual) > k * scale:
                weight = k * scale / abs(residual)
            # 1.25 * mean |r| estimates sigma for normal residuals; clip the outliers.
            self.scale_ += 0.1 * (1.25 * min(abs(residual), 3.0 * scale) - self.scale_)
            if self.prev_residual_ is not None:
                self.c01_ += 0.05 * (residual * self.prev_residual_ - self.c01_)
                self.c11_ += 0.05 * (residual * residual - self.c11_)
            else:
                self.c11_ = residual * residual
            self.prev_residual_ = residual
        elif self.count_ >= 1:
            self.scale_ = max(abs(y - self.sy_ / self.s0_), self.min_scale)
        x_before = self.x_ref_
        self._shift(x)
        self.s0_ += weight
        self.sy_ += weight * y
        self.syy_ += weight * y * y
        self.q0_ += weight * weight
        self.count_ += 1
        if self.count_ >= 5:
            slope = self._fit()[2]
            if self.slope_prev_ is not None and x_before is not None and x > x_before:
                change = (slope - self.slope_prev_) ** 2 / (x - x_before)
                self.drift_ += 0.1 * (change - self.drift_)
            self.slope_prev_ = slope
        return residual

    def _shift(self, x: float) -> None:
        """Re-centre the sums on `x` and age them by the distance moved."""
        if self.x_ref_ is None:
            self.x_ref_ = x
            return
        d = x - self.x_ref_
        if d == 0:
            return
        s0, s1, s2 = self.s0_, self.s1_, self.s2_
        self.s1_, self.s2_ = s1 - d * s0, s2 - 2 * d * s1 + d * d * s0
        self.sxy_ = self.sxy_ - d * self.sy_
        q0, q1, q2 = self.q0_, self.q1_, self.q2_
        self.q1_, self.q2_ = q1 - d * q0, q2 - 2 * d * q1 + d * d * q0
        keep = 0.5 ** (d / self.half_life)
        self.s0_, self.s1_, self.s2_ = self.s0_ * keep, self.s1_ * keep, self.s2_ * keep
        self.sy_, self.sxy_, self.syy_ = self.sy_ * keep, self.sxy_ * keep, self.syy_ * keep
        keep2 = keep * keep
        self.q0_, self.q1_, self.q2_ = self.q0_ * keep2, self.q1_ * keep2, self.q2_ * keep2
        self.x_ref_ = x

    # -- reading ------------------------------------------------------------------------

    def _fit(self) -> tuple[float, float, float, float, float]:
        """(mean u, mean y, slope, weighted variance of u, weighted residual variance)."""
        s0 = self.s0_
        ub, yb = self.s1_ / s0, self.sy_ / s0
        suu = self.s2_ / s0 - ub * ub
        suy = self.sxy_ / s0 - ub * yb
        syy = self.syy_ / s0 - yb * yb
        slope = suy / suu if suu > 1e-12 * max(1.0, ub * ub) else 0.0
        return ub, yb, slope, suu, max(syy - slope * suy, 0.0)

    @property
    def samples(self) -> int:
        return self.count_

    def level(self, x: float) -> float:
        """The trend's health at `x`."""
        if self.x_ref_ is None:
            raise ValueError("no samples yet")
        ub, yb, slope, _, _ = self._fit()
        return yb + slope * (x - self.x_ref_ - ub)

    @property
    def slope(self) -> float:
        return self._fit()[2] if self.count_ else 0.0

    def _band(self, h: float, z: float) -> tuple[float, float, float]:
        """(mean, lower, upper) of health `h` past the latest x, at `z` sigmas."""
        ub, yb, slope, suu, rss = self._fit()
        s0, q0 = self.s0_, self.q0_
        n_eff = s0 * s0 / q0
        s2 = max(rss * n_eff / max(n_eff - 2.0, 1.0), self.min_scale**2)
        rho = 0.0 if self.c11_ <= 0 else min(max(self.c01_ / self.c11_, 0.0), 0.9)
        inflate = (1.0 + rho) / (1.0 - rho)
        # Variance of the fitted line at u (relative to the weighted mean of u), for
        # weights that are not inverse variances: sums of squared weights.
        q1 = self.q1_ - ub * q0
        q2 = self.q2_ - 2 * ub * self.q1_ + ub * ub * q0
        sxx = suu * s0
        u = h - ub
        var_line = s2 * inflate * (q0 / s0**2 + 2 * u * q1 / (s0 * sxx) + u * u * q2 / sxx**2)
        var = max(var_line, 0.0) + s2
        mean = yb + slope * u
        # The slope's drift widens the band on the early side only: fades accelerate
        # (a knee), they do not stop.
        early = z * math.sqrt(var + self.drift_ * h**3 / 3.0)
        return mean, mean - early, mean + z * math.sqrt(var)

    def project(self, threshold: float, *, z: float = 1.96) -> EolProjection:
        """Where the trend (and its band at `z` sigmas) crosses down through `threshold`."""
        if self.count_ < 3 or self.x_ref_ is None:
            raise ValueError("need at least three samples to project")
        ub, yb, slope, _, _ = self._fit()
        x0 = self.x_ref_
        level = yb - slope * ub
        central = x0 + (threshold - level) / slope if slope < 0 else math.inf
        if level <= threshold:
            central = x0
        _, lower0, upper0 = self._band(0.0, z)
        slope_se = self._slope_se()
        return EolProjection(
            x=x0,
            level=level,
            slope=slope,
            slope_se=slope_se,
            threshold=threshold,
            central=central,
            earliest=x0 + self._first_below(threshold, z, 1, lower0),
            latest=x0 + self._first_below(threshold, z, 2, upper0),
            samples=self.count_,
            effective_samples=self.s0_ * self.s0_ / self.q0_,
        )

    def _slope_se(self) -> float:
        ub, _, _, suu, rss = self._fit()
        s0, q0 = self.s0_, self.q0_
        if suu <= 0:
            return math.inf
        n_eff = s0 * s0 / q0
        s2 = max(rss * n_eff / max(n_eff - 2.0, 1.0), self.min_scale**2)
        rho = 0.0 if self.c11_ <= 0 else min(max(self.c01_ / self.c11_, 0.0), 0.9)
        q2 = self.q2_ - 2 * ub * self.q1_ + ub * ub * q0
        return math.sqrt(s2 * (1.0 + rho) / (1.0 - rho) * q2) / (suu * s0)

    def _first_below(self, threshold: float, z: float, which: int, at_zero: float) -> float:
        """Smallest h >= 0 where band edge `which` (1 lower, 2 upper) is at or below threshold."""
        if at_zero <= threshold:
            return 0.0
        scale = max(self.half_life / 16.0, 1e-9)
        lo, hi = 0.0, scale
        for _ in range(_MAX_HORIZON_STEPS):
            if self._band(hi, z)[which] <= threshold:
                break
            lo, hi = hi, hi * 2.0
        else:
            return math.inf
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            if self._band(mid, z)[which] <= threshold:
                hi = mid
            else:
                lo = mid
            if hi - lo <= 1e-6 * max(1.0, hi):
                break
        return hi

    # -- hand-off -----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything learned, JSON-ready; `from_state` resumes from it."""
        return {name: getattr(self, name + "_") for name in _STATE}

    @classmethod
    def from_state(
        cls,
        state: dict[str, Any],
        *,
        half_life: float,
        huber_up: float = 1.0,
        huber_down: float = 3.0,
        min_scale: float = 0.0,
    ) -> FadeTrend:
        trend = cls(
            half_life=half_life, huber_up=huber_up, huber_down=huber_down, min_scale=min_scale
        )
        for name in _STATE:
            if name in state:
                setattr(trend, name + "_", state[name])
        return trend
