"""WASHER_BEARING_WEAR: current and vibration at full speed rising above normal."""

from __future__ import annotations

import math

from detection.profiles import WasherProfile
from detection.washer_base import Phase, WasherDetector, log_floor
from domain import Anomaly, FaultCode, Reading, Severity


class BearingWearDetector(WasherDetector):
    """The motor draws more current to hold the drum at full speed and the drum rumbles
    harder there, cycle after cycle: the drum bearings are wearing. Judged once per cycle
    on its longest spin at full speed, against this washer's own normal at that speed:
    the median (and MAD) of its first normal cycles there. Nothing is assumed about the
    unit (a maker's rated current, where provisioned, judges its speed until the unit's
    own normal is learned), and a speed not yet learned gives no verdict. A cycle adds to
    what is normal only where it looks normal: current when the drum ran quietly,
    vibration when the current was as usual. The excess of both is accumulated over
    cycles (CUSUM), so one heavy or unbalanced load proves nothing.

    >>> from domain import Reading
    >>> detector = BearingWearDetector()
    >>> found, t = [], 0.0
    >>> for cycle in range(14):  # 1.7 A at 1000 rpm, rising 6 % a cycle from the eighth
    ...     worn = max(cycle - 6, 0)
    ...     amps = 1.7 * (1.0 + 0.06 * worn) * (1.0 + 0.01 * (cycle % 3 - 1))
    ...     vib = 0.15 * (1.0 + 0.4 * worn)
    ...     for phase, rpm, a in [(2, 40, 0.6)] * 2 + [(4, 1000, amps)] * 4 + [(0, 0, 0.0)]:
    ...         t += 60.0  # seven reports a cycle: the eighth cycle starts at 3000 s
    ...         metrics = {"cycle_phase": phase, "drum_rpm": rpm, "motor_current_a": a,
    ...                    "vibration_g": vib}
    ...         anomaly = detector.update(Reading("w-1", t, int(t // 60), metrics))
    ...         found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, a.onset_at, a.evidence["cycles_counted"]) for a in found]
    [('WASHER_BEARING_WEAR', 3000.0, 2)]
    """

    fault_code = FaultCode.WASHER_BEARING_WEAR
    severity = Severity.MEDIUM
    _state_fields = (
        "cycle_start",
        "spin",
        "best",
        "currents",
        "vibrations",
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
        # The unit's own normal per speed bin (str(rpm // bin)), from its first cycles
        # there that looked normal: log current, and log vibration at speed.
        self.currents_: dict[str, list[float]] = {}
        self.vibrations_: dict[str, list[float]] = {}
        self.learned_ = 0  # cycles that taught a normal current
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
        if self._spin_ended(phase, rpm):
            self._end_spin()
        if phase == Phase.IDLE:
            return self._end_cycle(reading) if self.cycle_start_ is not None else None
        if self.cycle_start_ is None:
            self.cycle_start_ = reading.ts
        current = reading.get("motor_current_a")
        vibration = reading.get("vibration_g")
        if current is None or not self._at_speed(phase, rpm):
            return None
        self.spin_ = [
            self.spin_[0] + rpm,
            self.spin_[1] + current,
            self.spin_[2] + (vibration if vibration is not None else math.nan),
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
        rpm, amps = best[0], best[1]
        has_g = not math.isnan(best[2])
        g = max(best[2], p.vibration_floor_g) if has_g else math.nan
        key = str(round(rpm / p.bearing_speed_bin_rpm))  # centred on the usual speeds
        y = log_floor(amps)
        v = log_floor(g) if has_g else math.nan
        normal_a = self._normal_current(key, rpm)
        normal_g = self._normal(self.vibrations_.get(key), p.bearing_vibration_min_spread)
        excess_a = 0.0 if normal_a is None else y - normal_a[0]
        excess_g = 0.0 if normal_g is None or not has_g else v - normal_g[0]
        z_current = 0.0 if normal_a is None else excess_a / normal_a[1]
        z_vibration = 0.0 if normal_g is None or not has_g else excess_g / normal_g[1]
        judged = normal_a is not None
        if judged:
            self.cusum_ = max(0.0, self.cusum_ + z_current + z_vibration - p.bearing_allowance)
            w = p.bearing_recent_weight
            self.recent_current_ += w * (excess_a - self.recent_current_)
            self.recent_vibration_ += w * (excess_g - self.recent_vibration_)
        quiet = self.cusum_ == 0.0
        if quiet:
            self.excess_since_ = None
            self.cycles_counted_ = 0
        elif judged:
            if self.excess_since_ is None:
                self.excess_since_ = start
            self.cycles_counted_ += 1
        if self.latched_:
            # Nothing is learned from bearings known to be worn; normal again cycle
            # after cycle (against the worn state's spread), they have been replaced.
            calm = judged and z_current + z_vibration <= p.bearing_allowance
            self.clear_run_ = self.clear_run_ + 1 if calm else 0
            if self.clear_run_ >= p.bearing_clear_cycles:
                # Repaired: what normal looks like for this unit is learned afresh.
                self.latched_, self.cusum_, self.learned_ = False, 0.0, 0
                self.currents_, self.vibrations_ = {}, {}
                self.recent_current_ = self.recent_vibration_ = 0.0
                self.excess_since_, self.cycles_counted_ = None, 0
            return None
        # What looks normal teaches normal: current drawn while the drum ran quietly,
        # vibration while the current was as usual (or anything, with no excess going).
        learn_current = quiet or z_vibration <= p.bearing_learn_current_below
        if learn_current and self._learn(self.currents_, key, y):
            self.learned_ += 1
        if has_g and (quiet or z_current <= p.bearing_learn_vibration_below):
            self._learn(self.vibrations_, key, v)
        vibration_up = normal_g is None or self.recent_vibration_ >= p.bearing_vibration_margin
        if (
            normal_a is None
            or self.cusum_ < p.bearing_cusum_limit
            or self.recent_current_ < p.bearing_current_margin
            or not vibration_up
        ):
            return None
        self.latched_ = True
        self.clear_run_ = 0
        onset = self.excess_since_ if self.excess_since_ is not None else start
        base_a = math.exp(normal_a[0])
        base_g = None if normal_g is None else math.exp(normal_g[0])
        rise = math.exp(self.recent_current_) - 1.0
        vibration_score = (
            0.0
            if normal_g is None
            else min(self.recent_vibration_ / p.bearing_vibration_margin - 1.0, 1.0)
        )
        confidence = (
            0.6
            + 0.15 * min(self.cusum_ / p.bearing_cusum_limit - 1.0, 1.0)
            + 0.15 * vibration_score
        )
        shaking = (
            ""
            if base_g is None or not has_g
            else f" and the drum shakes {g:.2f} g (normally {base_g:.2f} g)"
        )
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=confidence,
            summary=(
                f"At {rpm:.0f} rpm the motor now draws {amps:.2f} A (normally {base_a:.2f} A "
                f"for this washer, recent cycles {rise:+.0%}){shaking}: the drum bearings "
                "are wearing."
            ),
            evidence={
                "metric": "motor_current_a",
                "baseline": round(base_a, 3),
                "observed": round(amps, 3),
                "delta": round(amps - base_a, 3),
                "recent_rise": round(rise, 3),
                "rpm": round(rpm),
                "vibration_baseline_g": None if base_g is None else round(base_g, 3),
                "vibration_observed_g": round(g, 3) if has_g else None,
                "vibration_recent_rise": round(math.exp(self.recent_vibration_) - 1.0, 3),
                "cusum": round(self.cusum_, 3),
                "cycles_counted": self.cycles_counted_,
                "cycles_learned": self.learned_,
                "rated_current_a": p.bearing_rated_current_a,
                "window_start": onset,
                "window_end": reading.ts,
            },
        )

    def _learn(self, bins: dict[str, list[float]], key: str, value: float) -> bool:
        """Add a normal cycle's value to its speed's normal, while that is being learned."""
        values = bins.setdefault(key, [])
        if len(values) >= self.profile.bearing_baseline_cycles:
            return False
        values.append(round(value, 5))
        return True

    def _normal(self, values: list[float] | None, min_spread: float) -> tuple[float, float] | None:
        """Median and spread (MAD as an sd, floored) of a learned normal; None while it is
        still being learned."""
        if values is None or len(values) < self.profile.bearing_baseline_cycles:
            return None
        ordered = sorted(values)
        median = ordered[len(ordered) // 2]
        mad = sorted(abs(x - median) for x in ordered)[len(ordered) // 2]
        return median, max(1.4826 * mad, min_spread)

    def _normal_current(self, key: str, rpm: float) -> tuple[float, float] | None:
        """Normal log current at this speed and its spread: the unit's own once learned,
        else the maker's rated figure if provisioned for this speed, else None."""
        p = self.profile
        own = self._normal(self.currents_.get(key), p.bearing_current_min_spread)
        if own is not None:
            return own
        rated = p.bearing_rated_current_a
        if rated is None or round(p.bearing_rated_rpm / p.bearing_speed_bin_rpm) != int(key):
            return None
        return log_floor(rated), p.bearing_rated_spread
