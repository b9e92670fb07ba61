"""WASHER_BEARING_WEAR: current and vibration at full speed rising above normal."""

from __future__ import annotations

import math

from detection.profiles import WasherProfile
from detection.washer_base import Phase, WasherDetector, log_floor
from domain import Anomaly, FaultCode, Reading, Severity


class BearingWearDetector(WasherDetector):
    """The motor draws more current to hold the drum at full speed and the drum rumbles
    harder there, cycle after cycle: the drum bearings are wearing. Judged once per cycle
    on its longest spin at full speed, against what is normal for this washer: its
    model's current at that speed and any washer's vibration there (the profile) at
    first, then more and more its own cycles. A cycle adds to what is normal only where
    it looks normal: current when the drum ran quietly, vibration when the current was
    as usual (a unit that simply draws a little more, or stands on a springy floor, is
    learned; worn bearings, which raise both, are not). The excess of both is
    accumulated over cycles (CUSUM), so one heavy or unbalanced load proves nothing,
    and a washer already worn when first seen is still judged against its model.

    >>> from domain import Reading
    >>> from detection.profiles.washer import washer_profile_for
    >>> detector = BearingWearDetector(washer_profile_for("WM-700"))
    >>> found, t = [], 0.0
    >>> for cycle in range(12):  # 1.7 A at 1000 rpm, rising 6 % a cycle from the seventh
    ...     worn = max(cycle - 5, 0)
    ...     amps, vib = 1.7 * (1.0 + 0.06 * worn), 0.15 * (1.0 + 0.4 * worn)
    ...     for phase, rpm, a in [(2, 40, 0.6)] * 2 + [(4, 1000, amps)] * 4 + [(0, 0, 0.0)]:
    ...         t += 60.0  # seven reports a cycle: the seventh cycle starts at 2580 s
    ...         metrics = {"cycle_phase": phase, "drum_rpm": rpm, "motor_current_a": a,
    ...                    "vibration_g": vib}
    ...         anomaly = detector.update(Reading("w-1", t, int(t // 60), metrics))
    ...         found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, a.onset_at, a.evidence["cycles_counted"]) for a in found]
    [('WASHER_BEARING_WEAR', 2580.0, 3)]
    """

    fault_code = FaultCode.WASHER_BEARING_WEAR
    severity = Severity.MEDIUM
    _state_fields = (
        "cycle_start",
        "spin",
        "best",
        "fit",
        "vibration",
        "learned",
        "cusum",
        "excess_since",
        "cycles_counted",
        "recent_current",
        "recent_vibration",
        "latched",
        "clear_run",
    )

    def __init__(self, profile: WasherProfile | None = None) -> None:
        super().__init__(profile)
        self.cycle_start_: float | None = None
        self.spin_ = [0.0, 0.0, 0.0, 0]  # current spin at speed: sums of rpm, A, g; reports
        self.best_: list[float] | None = None  # this cycle's longest spin at speed (means)
        # The unit's own normal, from the cycles that looked normal: weighted sums for the
        # line of log current against speed (weight, x, x^2, y, xy with x = rpm/1000 - 1),
        # and the weighted sum of log vibration at speed with its weight.
        self.fit_ = [0.0, 0.0, 0.0, 0.0, 0.0]
        self.vibration_ = [0.0, 0.0]
        self.learned_ = 0  # cycles that taught the normal current
        self.cusum_ = 0.0  # accumulated excess of current and vibration, standard units
        self.excess_since_: float | None = None  # start of the first cycle in the excess
        self.cycles_counted_ = 0
        self.recent_current_ = 0.0  # EWMA over cycles of log(current / normal)
        self.recent_vibration_ = 0.0  # EWMA over cycles of log(vibration / normal)
        self.latched_ = False
        self.clear_run_ = 0

    def _forget(self) -> None:
        self.cycle_start_ = None
        self.spin_ = [0.0, 0.0, 0.0, 0]
        self.best_ = None

    def _step(self, reading: Reading, phase: int, rpm: float) -> Anomaly | None:
        if self.prev_phase_ == Phase.SPIN and phase != Phase.SPIN:
            self._end_spin()
        if phase == Phase.IDLE:
            return self._end_cycle(reading) if self.cycle_start_ is not None else None
        if self.cycle_start_ is None:
            self.cycle_start_ = reading.ts
        current = reading.get("motor_current_a")
        vibration = reading.get("vibration_g")
        if current is None or vibration is None or not self._at_speed(phase, rpm):
            return None
        self.spin_ = [
            self.spin_[0] + rpm,
            self.spin_[1] + current,
            self.spin_[2] + vibration,
            self.spin_[3] + 1,
        ]
        return None

    def _end_spin(self) -> None:
        n = int(self.spin_[3])
        fast = n > 0 and self.spin_[0] / n >= self.profile.bearing_min_rpm
        if fast and (self.best_ is None or n > self.best_[3]):
            self.best_ = [self.spin_[0] / n, self.spin_[1] / n, self.spin_[2] / n, n]
        self.spin_ = [0.0, 0.0, 0.0, 0]

    def _end_cycle(self, reading: Reading) -> Anomaly | None:
        p = self.profile
        start, best = self.cycle_start_, self.best_
        self.cycle_start_, self.best_ = None, None
        if best is None or start is None:
            return None
        rpm, amps, g = best[0], best[1], max(best[2], p.vibration_floor_g)
        x = rpm / 1000.0 - 1.0
        y, v = log_floor(amps), log_floor(g)
        normal_a, spread_a = self._normal_current(x)
        normal_g, spread_g = self._normal_vibration()
        excess_a = 0.0 if normal_a is None else y - normal_a
        excess_g = v - normal_g
        z_current, z_vibration = excess_a / spread_a, excess_g / spread_g
        self.cusum_ = max(0.0, self.cusum_ + z_current + z_vibration - p.bearing_allowance)
        w = p.bearing_recent_weight
        self.recent_current_ += w * (excess_a - self.recent_current_)
        self.recent_vibration_ += w * (excess_g - self.recent_vibration_)
        quiet = self.cusum_ == 0.0
        if quiet:
            self.excess_since_ = None
            self.cycles_counted_ = 0
        else:
            if self.excess_since_ is None:
                self.excess_since_ = start
            self.cycles_counted_ += 1
        if self.latched_:
            # Nothing is learned from bearings known to be worn; normal again cycle
            # after cycle, they have been replaced.
            calm = z_current + z_vibration <= p.bearing_allowance
            self.clear_run_ = self.clear_run_ + 1 if calm else 0
            if self.clear_run_ >= p.bearing_clear_cycles:
                # Repaired: what normal looks like for this unit is learned afresh.
                self.latched_, self.cusum_, self.learned_ = False, 0.0, 0
                self.fit_, self.vibration_ = [0.0] * 5, [0.0, 0.0]
                self.recent_current_ = self.recent_vibration_ = 0.0
                self.excess_since_, self.cycles_counted_ = None, 0
            return None
        # What looks normal teaches normal: current drawn while the drum ran quietly,
        # vibration while the current was as usual (or anything, with no excess going).
        if quiet or z_vibration <= p.bearing_learn_current_below or normal_a is None:
            self._learn_current(x, y)  # (with no model's figure, the first cycle is all)
        if quiet or z_current <= p.bearing_learn_vibration_below:
            self._learn_vibration(v)
        if (
            normal_a is None
            or self.cusum_ < p.bearing_cusum_limit
            or self.recent_current_ < p.bearing_current_margin
            or self.recent_vibration_ < p.bearing_vibration_margin
        ):
            return None
        self.latched_ = True
        self.clear_run_ = 0
        onset = self.excess_since_ if self.excess_since_ is not None else start
        base_a, base_g = math.exp(normal_a), math.exp(normal_g)
        rise = math.exp(self.recent_current_) - 1.0
        confidence = (
            0.6
            + 0.15 * min(self.cusum_ / p.bearing_cusum_limit - 1.0, 1.0)
            + 0.15 * min(self.recent_vibration_ / p.bearing_vibration_margin - 1.0, 1.0)
        )
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=confidence,
            summary=(
                f"At {rpm:.0f} rpm the motor now draws {amps:.2f} A (normally {base_a:.2f} A, "
                f"recent cycles {rise:+.0%}) and the drum shakes {g:.2f} g (normally "
                f"{base_g:.2f} g): the drum bearings are wearing."
            ),
            evidence={
                "metric": "motor_current_a",
                "baseline": round(base_a, 3),
                "observed": round(amps, 3),
                "delta": round(amps - base_a, 3),
                "recent_rise": round(rise, 3),
                "rpm": round(rpm),
                "vibration_baseline_g": round(base_g, 3),
                "vibration_observed_g": round(g, 3),
                "vibration_recent_rise": round(math.exp(self.recent_vibration_) - 1.0, 3),
                "cusum": round(self.cusum_, 3),
                "cycles_counted": self.cycles_counted_,
                "cycles_learned": self.learned_,
                "model_normal_current_a": p.bearing_normal_current_a,
                "window_start": onset,
                "window_end": reading.ts,
            },
        )

    def _learn_current(self, x: float, y: float) -> None:
        """Add a cycle at speed `x` (rpm/1000 - 1) drawing log current `y` to the normal."""
        self.learned_ += 1
        # A short memory from the start (the weight grows about as sqrt(2 n)): the unit's
        # current follows its seasons, water and detergent, and the model's figure keeps
        # a say until the unit has shown a few normal cycles.
        keep = 1.0 - max(1.0 / (self.fit_[0] + 1.0), self.profile.bearing_baseline_weight)
        for i, term in enumerate((1.0, x, x * x, y, x * y)):
            self.fit_[i] = self.fit_[i] * keep + term

    def _learn_vibration(self, v: float) -> None:
        """Add a cycle's log vibration at speed to the normal."""
        forget = self.profile.bearing_baseline_weight
        keep = 1.0 - forget if self.vibration_[1] + 1.0 >= 1.0 / forget else 1.0
        self.vibration_ = [self.vibration_[0] * keep + v, self.vibration_[1] * keep + 1.0]

    def _normal_current(self, x: float) -> tuple[float | None, float]:
        """Normal log current at speed `x`, and how far a normal cycle strays from it (sd);
        None while there is neither a model's figure nor a cycle of the unit's own."""
        p = self.profile
        s0, s1, s2, sy, sxy = self.fit_
        cycle_sd = p.bearing_current_cycle_spread
        lam, slope = p.bearing_slope_prior_weight, p.bearing_current_slope
        own = 0.0
        if s0 > 0.0:
            det = s0 * (s2 + lam) - s1 * s1
            slope = (s0 * (sxy + lam * slope) - s1 * sy) / det
            own = (sy - s1 * slope) / s0
        model = p.bearing_normal_current_a
        # The model's figure counts as this many of the unit's own cycles.
        prior = 0.0 if model is None else (cycle_sd / p.bearing_current_unit_spread) ** 2
        if prior + s0 <= 0.0:
            return None, cycle_sd
        level = ((prior * log_floor(model) if model is not None else 0.0) + s0 * own) / (prior + s0)
        return level + slope * x, cycle_sd * math.sqrt(1.0 + 1.0 / (prior + s0))

    def _normal_vibration(self) -> tuple[float, float]:
        """Normal log vibration at speed, and how far a normal cycle strays from it (sd)."""
        p = self.profile
        cycle_sd = p.bearing_vibration_cycle_spread
        prior = (cycle_sd / p.bearing_vibration_unit_spread) ** 2
        weight = prior + self.vibration_[1]
        level = (prior * math.log(p.bearing_normal_vibration_g) + self.vibration_[0]) / weight
        return level, cycle_sd * math.sqrt(1.0 + 1.0 / weight)
