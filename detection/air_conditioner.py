"""Event-time detectors for air-conditioner faults: one object per device and fault, O(1) state.

`RefrigerantLowDetector` catches a unit that delivers less cooling per watt than its own
normal for the same outdoor air, return air, compressor power and fan speed (HIGH): a
heatwave or an open window makes the compressor work harder, but each watt still buys
the expected supply-air temperature drop; a leak does not. `FilterCloggedDetector`
catches a filter whose resistance (pressure drop normalised to fan speed) is far above
normal, or climbing far faster than dust normally loads it (LOW). Both read only what a
reading carries, ignore readings older than the last one they used, and keep all
thresholds and physics constants in an `AirConditionerProfile`.
"""

from __future__ import annotations

import math

from detection.detector_base import ProfiledDetector, ewma_alpha
from detection.detector_set import DetectorSet
from detection.profiles import AirConditionerProfile
from domain import Anomaly, FaultCode, Reading, Severity

HOUR_S = 3600.0


class _Detector(ProfiledDetector[AirConditionerProfile]):
    """AC detectors read the AC profile and keep event-time bookkeeping."""

    profile_type = AirConditionerProfile

    def __init__(self, profile: AirConditionerProfile | None = None) -> None:
        super().__init__(profile)
        self.last_ts_: float | None = None

    def _advance(self, ts: float) -> tuple[float, bool] | None:
        """Move event time to `ts`: the sample's weight (s) and whether a gap preceded it;
        None for a late or repeated reading."""
        p = self.profile
        if self.last_ts_ is not None and ts <= self.last_ts_:
            return None
        dt = p.max_sample_weight_s if self.last_ts_ is None else ts - self.last_ts_
        self.last_ts_ = ts
        return min(dt, p.max_sample_weight_s), dt > p.max_gap_s


class RefrigerantLowDetector(_Detector):
    """Less cooling per watt than this unit delivers in the same conditions: the
    supply-return temperature difference, given the compressor's power, the fan speed,
    the outdoor and the return air, has fallen well below its learned normal.

    Only steady running counts (compressor on for minutes, fan running); it is averaged
    in half-hour blocks of running time. A learned per-unit intercept is the normal; the
    fleet's typical intercept less a margin is a floor no healthy unit falls below, which
    catches a unit that was already leaking when it was first seen.

    >>> from domain import Reading
    >>> detector = RefrigerantLowDetector()
    >>> found = []
    >>> for minute in range(0, 40 * 60):  # running flat out; from hour 16 the ΔT halves
    ...     leaking = minute >= 16 * 60
    ...     metrics = {"return_temp_c": 27.0, "supply_temp_c": 21.5 if leaking else 16.0,
    ...                "outdoor_temp_c": 33.0, "compressor_on": 1, "fan_rpm": 1000,
    ...                "power_w": 900.0}
    ...     anomaly = detector.update(Reading("ac-1", 60.0 * minute, minute, metrics))
    ...     found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, round(a.detected_at / 3600, 1)) for a in found]
    [('AC_REFRIGERANT_LOW', 18.1)]
    """

    fault_code = FaultCode.AC_REFRIGERANT_LOW
    severity = Severity.HIGH
    _state_fields = (
        "last_ts",
        "run_start",
        "block_w",
        "block_r",
        "block_delta",
        "block_outdoor",
        "block_compressor_w",
        "blocks",
        "learned",
        "level",
        "baseline",
        "cusum",
        "onset_cusum",
        "onset_cusum_zero_at",
        "condition_s",
        "condition_since",
        "latched",
        "clear_s",
        "duty",
        "baseline_duty",
        "delta",
        "expected_delta",
        "outdoor",
        "compressor_w",
    )

    def __init__(self, profile: AirConditionerProfile | None = None) -> None:
        super().__init__(profile)
        p = self.profile
        self.run_start_: float | None = None  # compressor running, watched, since
        self.block_w_ = 0.0  # the block being filled: weight (s) and weighted sums
        self.block_r_ = 0.0
        self.block_delta_ = 0.0
        self.block_outdoor_ = 0.0
        self.block_compressor_w_ = 0.0
        self.blocks_ = 0
        self.learned_ = 0  # blocks that taught the baseline
        self.level_ = 0.0  # recent efficiency (log intercept): EWMA of blocks, once there are some
        self.baseline_ = p.refrigerant_prior_intercept  # this unit's normal
        self.cusum_ = 0.0  # gates learning
        self.onset_cusum_ = 0.0  # dates the onset
        self.onset_cusum_zero_at_: float | None = None
        self.condition_s_ = 0.0
        self.condition_since_: float | None = None
        self.latched_ = False
        self.clear_s_ = 0.0
        self.duty_ = 0.5  # compressor share of the time the unit is switched on
        self.baseline_duty_ = 0.5
        self.delta_ = 0.0  # evidence: recent ΔT, ΔT expected, outdoor air, compressor power
        self.expected_delta_ = 0.0
        self.outdoor_ = 0.0
        self.compressor_w_ = 0.0

    def shortfall(self) -> float:
        """How far the unit's recent cooling per watt runs below what is expected of it, in
        log units (0.16 ≈ 15 % less); the score the decision thresholds. Changes nothing."""
        if self.blocks_ == 0:
            return 0.0
        return self._expected_intercept() - self.level_

    def _expected_intercept(self) -> float:
        p = self.profile
        floor = p.refrigerant_prior_intercept - p.refrigerant_prior_margin
        if self.learned_ < p.refrigerant_warmup_blocks:
            return floor  # not yet learned: only the model's floor applies
        return max(self.baseline_, floor)

    def update(self, reading: Reading) -> Anomaly | None:
        """Learn from one reading; return an anomaly when it confirms a refrigerant loss."""
        p = self.profile
        metrics = reading.metrics
        compressor, rpm = metrics.get("compressor_on"), metrics.get("fan_rpm")
        if compressor is None or rpm is None:
            return None
        advanced = self._advance(reading.ts)
        if advanced is None:
            return None
        weight, gap = advanced
        ts = reading.ts
        running = compressor >= 0.5
        fan_on = rpm >= p.fan_running_rpm
        if fan_on and not gap:
            self.duty_ += ewma_alpha(weight, p.duty_tau_s) * (
                (1.0 if running else 0.0) - self.duty_
            )
        if not running:
            self.run_start_ = None
            return None
        if self.run_start_ is None or gap:
            self.run_start_ = ts  # unwatched running proves nothing about the coil
            return None
        if ts - self.run_start_ < p.refrigerant_settle_s or not fan_on:
            return None
        supply, ret = metrics.get("supply_temp_c"), metrics.get("return_temp_c")
        outdoor, power = metrics.get("outdoor_temp_c"), metrics.get("power_w")
        if supply is None or ret is None or outdoor is None or power is None:
            return None
        if supply < p.refrigerant_coil_limited_supply_c:
            return None
        delta = ret - supply
        compressor_w = power - p.electronics_w - p.fan_w_at_1000_rpm * (rpm / 1000.0) ** 3
        if compressor_w < p.refrigerant_min_compressor_w or delta < p.refrigerant_min_delta_c:
            return None
        physics = (
            p.refrigerant_power_exp * math.log(compressor_w)
            + p.refrigerant_rpm_exp * math.log(rpm / 1000.0)
            + p.refrigerant_outdoor_slope * (outdoor - 30.0)
            + p.refrigerant_return_slope * (ret - 26.0)
        )
        self.block_w_ += weight
        self.block_r_ += weight * (math.log(delta) - physics)
        self.block_delta_ += weight * delta
        self.block_outdoor_ += weight * outdoor
        self.block_compressor_w_ += weight * compressor_w
        if self.block_w_ < p.refrigerant_block_s:
            return None
        return self._close_block(reading)

    def _close_block(self, reading: Reading) -> Anomaly | None:
        p = self.profile
        ts = reading.ts
        w = self.block_w_
        r = self.block_r_ / w
        delta, outdoor = self.block_delta_ / w, self.block_outdoor_ / w
        compressor_w = self.block_compressor_w_ / w
        self.block_w_ = self.block_r_ = self.block_delta_ = 0.0
        self.block_outdoor_ = self.block_compressor_w_ = 0.0
        self.blocks_ += 1
        hours = w / HOUR_S
        fast = 1.0 if self.blocks_ == 1 else ewma_alpha(w, p.refrigerant_level_tau_s)
        expected = self._expected_intercept()
        self.level_ += fast * (r - self.level_)
        self.delta_ += fast * (delta - self.delta_)
        self.expected_delta_ += fast * (math.exp(expected - r) * delta - self.expected_delta_)
        self.outdoor_ += fast * (outdoor - self.outdoor_)
        self.compressor_w_ += fast * (compressor_w - self.compressor_w_)
        self.cusum_ = max(0.0, self.cusum_ + (expected - r - p.refrigerant_learn_allowance) * hours)
        self.onset_cusum_ = max(
            0.0, self.onset_cusum_ + (expected - r - p.refrigerant_onset_allowance) * hours
        )
        warming_up = self.learned_ < p.refrigerant_warmup_blocks
        if warming_up:
            self.cusum_ = self.onset_cusum_ = 0.0
        if self.onset_cusum_ == 0.0:
            self.onset_cusum_zero_at_ = ts
        if self.cusum_ == 0.0:
            # Behaving as usual (or still getting to know the unit): this is its normal.
            self.learned_ += 1
            # A running mean that starts from the fleet's prior, then an EWMA.
            weight = max(
                1.0 / (self.learned_ + p.refrigerant_prior_blocks),
                ewma_alpha(w, p.refrigerant_baseline_tau_s),
            )
            self.baseline_ += weight * (r - self.baseline_)
            self.baseline_duty_ += weight * (self.duty_ - self.baseline_duty_)

        shortfall = self.shortfall()
        if self.latched_:
            # The episode ends only after a sustained return to normal (a recharge).
            self.clear_s_ = self.clear_s_ + w if shortfall < p.refrigerant_clear_drop else 0.0
            if self.clear_s_ >= p.refrigerant_clear_hold_s:
                self.latched_ = False
                self.clear_s_ = 0.0
            return None
        if self.blocks_ < p.refrigerant_min_blocks or shortfall < p.refrigerant_drop:
            self.condition_s_ = 0.0
            self.condition_since_ = None
            return None
        if self.condition_since_ is None:
            self.condition_since_ = ts
        self.condition_s_ += w
        if self.condition_s_ < p.refrigerant_confirm_s:
            return None
        self.latched_ = True
        onset = min(self.onset_cusum_zero_at_ or self.condition_since_, self.condition_since_)
        ratio = math.exp(-shortfall)
        confidence = (
            0.6
            + 0.25 * min((shortfall - p.refrigerant_drop) / 0.3, 1.0)
            + (0.1 if self.duty_ > self.baseline_duty_ + 0.05 else 0.0)
        )
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=confidence,
            summary=(
                f"Supply air only {self.delta_:.1f} K below return where "
                f"{self.expected_delta_:.1f} K is normal for this unit at {self.outdoor_:.0f} °C "
                f"outdoors and {self.compressor_w_:.0f} W: {ratio:.0%} of its usual cooling "
                f"per watt, consistent with low refrigerant."
            ),
            evidence={
                "metric": "supply_return_delta_c",
                "observed": round(self.delta_, 2),
                "baseline": round(self.expected_delta_, 2),
                "delta": round(self.delta_ - self.expected_delta_, 2),
                "cooling_per_watt_ratio": round(ratio, 3),
                "outdoor_temp_c": round(self.outdoor_, 1),
                "compressor_w": round(self.compressor_w_),
                "duty_cycle": round(self.duty_, 3),
                "baseline_duty_cycle": round(self.baseline_duty_, 3),
                "learned_blocks": self.learned_,
                "window_start": onset,
                "condition_since": self.condition_since_,
                "window_end": ts,
            },
        )


class FilterCloggedDetector(_Detector):
    """The filter's resistance, read as its pressure drop normalised to fan speed
    (dp / (rpm/1000)^2, the same at every fan stage), is far above what any normal
    filter shows, or far above this unit's own recent normal and still climbing many
    times faster than dust normally loads it. A rinse (a drop) is not a fault.

    >>> from domain import Reading
    >>> detector = FilterCloggedDetector()
    >>> found = []
    >>> for minute in range(0, 48 * 60):  # fan always on; from hour 12 dp climbs 2 Pa/h
    ...     dp = 40.0 + max(0.0, minute / 60 - 12) * 2.0
    ...     metrics = {"filter_dp_pa": dp, "fan_rpm": 1000}
    ...     anomaly = detector.update(Reading("ac-1", 60.0 * minute, minute, metrics))
    ...     found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, round(a.detected_at / 3600, 1)) for a in found]
    [('AC_FILTER_CLOGGED', 21.0)]
    """

    fault_code = FaultCode.AC_FILTER_CLOGGED
    severity = Severity.LOW
    _state_fields = (
        "last_ts",
        "fan_since",
        "run_s",
        "level",
        "fast",
        "slow",
        "baseline",
        "quiet_at",
        "condition_s",
        "condition_since",
        "latched",
        "clear_s",
        "delta",
        "baseline_delta",
    )

    def __init__(self, profile: AirConditionerProfile | None = None) -> None:
        super().__init__(profile)
        self.fan_since_: float | None = None  # fan running, watched, since
        self.run_s_ = 0.0  # fan running time seen
        self.level_ = 0.0  # normalised dp, EWMA (from the first sample on)
        self.fast_ = 0.0  # two slower EWMAs: their gap is the trend
        self.slow_ = 0.0
        self.baseline_ = 0.0  # this unit's recent normal
        self.quiet_at_: float | None = None  # when the dp last rose no faster than normal
        self.condition_s_ = 0.0
        self.condition_since_: float | None = None
        self.latched_ = False
        self.clear_s_ = 0.0
        self.delta_: float | None = None  # supply-return ΔT while cooling (evidence)
        self.baseline_delta_: float | None = None

    def trend(self) -> float:
        """How fast the normalised dp is rising, Pa per hour of fan running."""
        p = self.profile
        return (self.fast_ - self.slow_) / (
            (p.filter_trend_slow_tau_s - p.filter_trend_fast_tau_s) / HOUR_S
        )

    def update(self, reading: Reading) -> Anomaly | None:
        """Learn from one reading; return an anomaly when it confirms a clogged filter."""
        p = self.profile
        dp, rpm = reading.get("filter_dp_pa"), reading.get("fan_rpm")
        if dp is None or rpm is None:
            return None
        advanced = self._advance(reading.ts)
        if advanced is None:
            return None
        weight, gap = advanced
        ts = reading.ts
        if rpm < p.fan_running_rpm:
            self.fan_since_ = None
            return None
        if self.fan_since_ is None or gap:
            self.fan_since_ = ts
        if ts - self.fan_since_ < p.filter_settle_s:
            return None
        x = dp / (rpm / 1000.0) ** 2
        if x < p.filter_min_plausible_pa:
            return None  # running without its filter, or a failed sensor
        if self.run_s_ == 0.0:
            self.level_ = self.fast_ = self.slow_ = self.baseline_ = x
            self.quiet_at_ = ts
        self.run_s_ += weight
        self.level_ += ewma_alpha(weight, p.filter_level_tau_s) * (x - self.level_)
        self.fast_ += ewma_alpha(weight, p.filter_trend_fast_tau_s) * (x - self.fast_)
        self.slow_ += ewma_alpha(weight, p.filter_trend_slow_tau_s) * (x - self.slow_)
        self._watch_delta(reading, weight)
        trend = self.trend()
        if trend <= p.filter_quiet_rate_pa_per_h:
            self.quiet_at_ = ts

        level, baseline = self.level_, self.baseline_
        if self.latched_:
            # Over once the filter is back near this unit's normal: it was rinsed. The
            # baseline only follows it down meanwhile, never up to the clogged level.
            if level < baseline:
                self._learn_baseline(weight)
            near = level <= self.baseline_ * p.filter_clear_ratio and level < p.filter_limit_pa
            self.clear_s_ = self.clear_s_ + weight if near else 0.0
            if self.clear_s_ >= p.filter_clear_hold_s:
                self.latched_ = False
                self.clear_s_ = 0.0
            return None
        beyond_normal = level >= p.filter_limit_pa
        climbing = level >= baseline * p.filter_rise_ratio and trend >= p.filter_rate_pa_per_h
        if self.run_s_ < p.filter_warmup_s or not (beyond_normal or climbing):
            self._learn_baseline(weight)
            self.condition_s_ = 0.0
            self.condition_since_ = None
            return None
        if self.condition_since_ is None:
            self.condition_since_ = ts
        self.condition_s_ += weight
        if self.condition_s_ < p.filter_confirm_s:
            return None
        self.latched_ = True
        onset = min(self.quiet_at_ or self.condition_since_, self.condition_since_)
        ratio = level / baseline
        corroborated = (
            self.delta_ is not None
            and self.baseline_delta_ is not None
            and self.delta_ > 1.05 * self.baseline_delta_
        )
        confidence = (
            0.6
            + 0.15 * min(max(level - p.filter_limit_pa, 0.0) / 40.0 + (ratio - 1.0), 1.0)
            + (0.1 if corroborated else 0.0)
        )
        why = "far above normal" if beyond_normal else f"{ratio:.1f}x its normal and climbing"
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=confidence,
            summary=(
                f"Filter pressure drop {dp:.0f} Pa at {rpm:.0f} rpm ({level:.0f} Pa at 1000 rpm, "
                f"{why}; rising {trend:.1f} Pa per running hour): the filter is clogging."
            ),
            evidence={
                "metric": "filter_dp_pa",
                "observed": dp,
                "fan_rpm": rpm,
                "normalised_dp_pa": round(level, 1),
                "baseline": round(baseline, 1),
                "delta": round(level - baseline, 1),
                "limit_pa": p.filter_limit_pa,
                "trend_pa_per_run_h": round(trend, 2),
                "delta_t_c": None if self.delta_ is None else round(self.delta_, 2),
                "baseline_delta_t_c": (
                    None if self.baseline_delta_ is None else round(self.baseline_delta_, 2)
                ),
                "window_start": onset,
                "condition_since": self.condition_since_,
                "window_end": ts,
            },
        )

    def _learn_baseline(self, weight: float) -> None:
        # Down at once (a rinse); up only as fast as dust normally loads a filter.
        p = self.profile
        if self.level_ < self.baseline_:
            tau = p.filter_baseline_fall_tau_s
        elif self.trend() <= p.filter_quiet_rate_pa_per_h:
            tau = p.filter_baseline_rise_tau_s
        else:
            return
        self.baseline_ += ewma_alpha(weight, tau) * (self.level_ - self.baseline_)

    def _watch_delta(self, reading: Reading, weight: float) -> None:
        # Less air over the coil cools it further: supply air runs colder (evidence only).
        supply, ret = reading.get("supply_temp_c"), reading.get("return_temp_c")
        if supply is None or ret is None or (reading.get("compressor_on") or 0.0) < 0.5:
            return
        delta = ret - supply
        p = self.profile
        if self.delta_ is None or self.baseline_delta_ is None:
            self.delta_ = self.baseline_delta_ = delta
        self.delta_ += ewma_alpha(weight, p.filter_trend_slow_tau_s) * (delta - self.delta_)
        if not self.latched_ and self.condition_since_ is None:
            self.baseline_delta_ += ewma_alpha(weight, p.filter_baseline_rise_tau_s) * (
                delta - self.baseline_delta_
            )


AC_DETECTORS = DetectorSet(
    profile_type=AirConditionerProfile,
    detectors={
        "refrigerant_low": RefrigerantLowDetector,
        "filter_clogged": FilterCloggedDetector,
    },
)
