"""Event-time detectors for air-conditioner faults: one object per device and fault, O(1) state.

`RefrigerantLowDetector` catches a unit that delivers less cooling per watt than it did
itself in the same outdoor air at the same compressor input (HIGH): a heatwave or an
open window makes the compressor work harder, but each watt still buys the cooling it
bought before; a leak does not. It learns everything about the unit from the unit.
`FilterCloggedDetector` catches a filter whose resistance (pressure drop normalised to
fan speed) is far above normal, or climbing far faster than dust normally loads it
(LOW). Both read only what a reading carries, ignore readings older than the last one
they used, and keep all thresholds and physics constants in an `AirConditionerProfile`.
"""

from __future__ import annotations

import math

from detection.detector_base import ProfiledDetector, ewma_alpha
from detection.detector_set import DetectorSet
from detection.profiles import AirConditionerProfile
from domain import Anomaly, FaultCode, Reading, Severity

HOUR_S = 3600.0
DAY_S = 86400.0


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
    """Less cooling per watt than this unit itself delivered in the same conditions: the
    work done against the heat load (supply-return ΔT x fan speed, i.e. sensible cooling)
    per watt of compressor input has fallen well below its own normal for the same
    outdoor air and compressor input.

    Nothing about the unit is assumed: its normal cooling per watt of input is
    learned in bins of outdoor temperature and compressor input (an inverter's speed),
    as the median (and MAD) of its first normal half-hour blocks of steady running in
    each. A block is judged only against a bin learned in comparable or harder
    conditions (hotter condenser air or more input: both lower the cooling per watt of
    a healthy unit, so the comparison can only err towards silence), and no verdict is
    given before the unit has been watched for a day and a half. A heatwave, an open
    window, a setpoint change or part-load running move the unit to another bin; they do
    not make a watt buy less cooling. A leak does.

    >>> from domain import Reading
    >>> detector = RefrigerantLowDetector()
    >>> found = []
    >>> for minute in range(0, 96 * 60):  # on 45 min an hour; from hour 60 the ΔT falls 30 %
    ...     on = int(minute % 60 < 45)
    ...     delta = 11.0 * (0.7 if minute >= 60 * 60 else 1.0)
    ...     metrics = {"return_temp_c": 26.5, "supply_temp_c": 26.5 - delta * on,
    ...                "outdoor_temp_c": 33.0, "compressor_on": on, "fan_rpm": 1000,
    ...                "power_w": 830.0 if on else 30.0}
    ...     anomaly = detector.update(Reading("ac-1", 60.0 * minute, minute, metrics))
    ...     found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, round(a.detected_at / 3600, 1)) for a in found]
    [('AC_REFRIGERANT_LOW', 65.5)]
    """

    fault_code = FaultCode.AC_REFRIGERANT_LOW
    severity = Severity.HIGH
    _state_fields = (
        "last_ts",
        "first_ts",
        "run_start",
        "block",
        "bins",
        "blocks",
        "learned",
        "recent",
        "recent_spread",
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
        self.first_ts_: float | None = None
        self.run_start_: float | None = None  # compressor running, watched, since
        # The block being filled: weight (s), and weighted sums of log cooling per watt,
        # ΔT, outdoor air, log compressor input.
        self.block_ = [0.0, 0.0, 0.0, 0.0, 0.0]
        # Per conditions bin ("outdoor_bin:power_bin"): the first normal blocks' values.
        self.bins_: dict[str, list[list[float]]] = {}  # [value, day] pairs
        self.blocks_ = 0  # blocks of steady running seen
        self.learned_ = 0  # of which taught a bin
        self.recent_ = 0.0  # EWMA over judged blocks of the shortfall (log)...
        self.recent_spread_ = 0.0  # ...and of the bins' spread it was judged against
        self.onset_cusum_ = 0.0
        self.onset_cusum_zero_at_: float | None = None
        self.condition_s_ = 0.0
        self.condition_since_: float | None = None
        self.latched_ = False
        self.clear_s_ = 0.0
        self.duty_ = 0.5  # compressor share of the time the unit is switched on (evidence)
        self.baseline_duty_: float | None = None
        self.delta_ = 0.0  # evidence: last judged block's ΔT, its expected ΔT, conditions
        self.expected_delta_ = 0.0
        self.outdoor_ = 0.0
        self.compressor_w_ = 0.0

    def shortfall(self) -> float:
        """How far the unit's recent cooling per watt runs below its own normal in the same
        conditions, in log units (0.16 ≈ 15 % less); the score the decision thresholds.
        0 while nothing has been judged. Changes nothing."""
        return self.recent_

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
        if self.first_ts_ is None:
            self.first_ts_ = ts
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
        # All of the input: the controller's and the fan's few tens of watts are the same
        # in a bin, so comparing within bins needs no figure for them.
        compressor_w = power
        if compressor_w < p.refrigerant_min_compressor_w or delta < p.refrigerant_min_delta_c:
            return None
        per_watt = math.log(delta * rpm / 1000.0) - math.log(compressor_w)
        b = self.block_
        self.block_ = [
            b[0] + weight,
            b[1] + weight * per_watt,
            b[2] + weight * delta,
            b[3] + weight * outdoor,
            b[4] + weight * math.log(compressor_w),
        ]
        if self.block_[0] < p.refrigerant_block_s:
            return None
        return self._close_block(reading)

    def _bin(self, outdoor: float, log_w: float) -> tuple[int, int]:
        p = self.profile
        return (
            math.floor(outdoor / p.refrigerant_outdoor_bin_c),
            math.floor(log_w / p.refrigerant_power_bin_log),
        )

    def _reference(self, at: tuple[int, int]) -> tuple[float, float] | None:
        """The normal (log cooling per watt, spread) to judge a block in bin `at` by: its
        own bin once learned, else the least a learned neighbour bin promises. A bin in
        harder conditions (hotter, more input) is taken as it is; one in easier conditions
        less the most a healthy unit can lose to the difference (condenser air: COP falls
        at most ~3 %/K; speed: cooling per watt falls at most ~0.4 x the log of the extra
        input). None: nothing comparable learned yet."""
        p = self.profile
        own = self._learned(self.bins_.get(f"{at[0]}:{at[1]}"))
        if own is not None:
            return own
        per_out = p.refrigerant_outdoor_bin_c * p.refrigerant_cop_loss_per_k
        per_pow = p.refrigerant_power_bin_log * p.refrigerant_cop_loss_per_log_w
        found: tuple[float, float] | None = None
        for d_out in (-1, 0, 1):
            for d_pow in (-2, -1, 0, 1):
                learned = self._learned(self.bins_.get(f"{at[0] + d_out}:{at[1] + d_pow}"))
                if learned is None:
                    continue
                allowance = max(0, -d_out) * per_out + max(0, -d_pow) * per_pow
                expected = learned[0] - allowance
                if found is None or expected < found[0]:
                    found = (expected, learned[1])
        return found

    def _learned(self, pairs: list[list[float]] | None) -> tuple[float, float] | None:
        """Median and spread (MAD as an sd, floored) of a bin's values, once there are
        enough of them."""
        p = self.profile
        if pairs is None or len(pairs) < p.refrigerant_bin_min_blocks:
            return None
        values = [v for v, _ in pairs]
        median = _median(values)
        mad = _median([abs(v - median) for v in values])
        return median, max(1.4826 * mad, p.refrigerant_min_spread)

    def _close_block(self, reading: Reading) -> Anomaly | None:
        p = self.profile
        ts = reading.ts
        w, s_q, s_delta, s_out, s_logw = self.block_
        self.block_ = [0.0] * 5
        self.blocks_ += 1
        per_watt, delta, outdoor, log_w = s_q / w, s_delta / w, s_out / w, s_logw / w
        at = self._bin(outdoor, log_w)
        reference = self._reference(at)
        watched = ts - (self.first_ts_ if self.first_ts_ is not None else ts)
        ready = watched >= p.refrigerant_warmup_s and self.blocks_ >= p.refrigerant_warmup_blocks
        shortfall, spread = 0.0, p.refrigerant_min_spread
        if reference is not None:
            shortfall, spread = reference[0] - per_watt, reference[1]
        judged = ready and reference is not None
        # What looks normal teaches its bin (only its first blocks: a slow leak must not
        # teach it), and only while no shortfall is going on.
        normal = not judged or (shortfall < p.refrigerant_drop and self.onset_cusum_ == 0.0)
        key = f"{at[0]}:{at[1]}"
        values = self.bins_.setdefault(key, [])
        day = math.floor(ts / DAY_S)
        today = sum(1 for _, d in values if d == day)
        if (
            normal
            and not self.latched_
            and len(values) < p.refrigerant_bin_blocks
            and today < p.refrigerant_bin_blocks_per_day
        ):
            # Spread over days, so the normal includes a humid day's and a dry day's.
            values.append([round(per_watt, 5), day])
            self.learned_ += 1
            if not ready:
                duty = self.duty_
                prior = self.baseline_duty_
                self.baseline_duty_ = duty if prior is None else prior + 0.2 * (duty - prior)
        if not judged:
            return None
        hours = w / HOUR_S
        self.onset_cusum_ = max(
            0.0, self.onset_cusum_ + (shortfall - p.refrigerant_onset_allowance) * hours
        )
        if self.onset_cusum_ == 0.0:
            self.onset_cusum_zero_at_ = ts
        k = p.refrigerant_recent_weight
        self.recent_ += k * (shortfall - self.recent_)
        self.recent_spread_ += k * (spread - self.recent_spread_)
        self.delta_ = delta
        self.expected_delta_ = delta * math.exp(shortfall)
        self.outdoor_ = outdoor
        self.compressor_w_ = math.exp(log_w)
        recent = self.recent_
        if self.latched_:
            # The episode ends only after a sustained return to normal (a recharge).
            self.clear_s_ = self.clear_s_ + w if recent < p.refrigerant_clear_drop else 0.0
            if self.clear_s_ >= p.refrigerant_clear_hold_s:
                self.latched_ = False
                self.clear_s_ = 0.0
            return None
        short = recent >= p.refrigerant_drop and recent >= p.refrigerant_drop_z * spread
        if not short:
            # A block back within normal takes back a block's worth of the evidence; a
            # leak's shortfall wanders around the threshold before it clears it.
            self.condition_s_ = max(0.0, self.condition_s_ - w)
            if self.condition_s_ == 0.0:
                self.condition_since_ = None
            return None
        if self.condition_since_ is None:
            self.condition_since_ = ts
        self.condition_s_ += w
        if self.condition_s_ < p.refrigerant_confirm_s:
            return None
        self.latched_ = True
        onset = min(self.onset_cusum_zero_at_ or self.condition_since_, self.condition_since_)
        ratio = math.exp(-recent)
        working_harder = self.baseline_duty_ is not None and self.duty_ > self.baseline_duty_ + 0.05
        confidence = (
            0.6
            + 0.25 * min((recent - p.refrigerant_drop) / 0.3, 1.0)
            + (0.1 if working_harder else 0.0)
        )
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=confidence,
            summary=(
                f"Supply air only {self.delta_:.1f} K below return where "
                f"{self.expected_delta_:.1f} K is this unit's normal at {self.outdoor_:.0f} °C "
                f"outdoors and {self.compressor_w_:.0f} W: {ratio:.0%} of its usual cooling "
                f"per watt, consistent with low refrigerant."
            ),
            evidence={
                "metric": "supply_return_delta_c",
                "observed": round(self.delta_, 2),
                "baseline": round(self.expected_delta_, 2),
                "delta": round(self.delta_ - self.expected_delta_, 2),
                "cooling_per_watt_ratio": round(ratio, 3),
                "spread_log": round(self.recent_spread_, 3),
                "outdoor_temp_c": round(self.outdoor_, 1),
                "compressor_w": round(self.compressor_w_),
                "duty_cycle": round(self.duty_, 3),
                "baseline_duty_cycle": (
                    None if self.baseline_duty_ is None else round(self.baseline_duty_, 3)
                ),
                "learned_blocks": self.learned_,
                "window_start": onset,
                "condition_since": self.condition_since_,
                "window_end": ts,
            },
        )


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])


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
