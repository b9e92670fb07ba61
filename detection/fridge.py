"""Event-time detectors for fridge faults: one object per device and fault, O(1) state each.

`CompressorFailureDetector` catches a compressor that stopped starting (CRITICAL);
`TempDriftDetector` catches cooling capacity fading away, the compressor working ever
harder and still losing ground (HIGH); `DoorSealLeakDetector` catches an extra heat load
on the cabinet with the cooling circuit intact: the compressor runs longer, the freezer
is overcooled and the cabinet still holds (MEDIUM). All read only what a reading carries,
ignore readings older than the last one they used, and keep all thresholds in a
`FridgeProfile`.
"""

from __future__ import annotations

from detection.detector_base import ProfiledDetector, ewma_alpha
from detection.detector_set import DetectorSet
from detection.profiles import FridgeProfile
from domain import Anomaly, FaultCode, Reading, Severity


class _Detector(ProfiledDetector[FridgeProfile]):
    """Fridge detectors read the fridge profile."""

    profile_type = FridgeProfile


class CompressorFailureDetector(_Detector):
    """The compressor has stayed off far longer than any off period or defrost, while the
    cabinet sits well above setpoint and keeps warming: it is not starting.

    >>> from domain import Reading
    >>> detector = CompressorFailureDetector()
    >>> found = []
    >>> for minute in range(0, 181):  # off for three hours, cabinet 4 °C -> 8.5 °C
    ...     metrics = {"cabinet_temp_c": 4.0 + 0.025 * minute, "setpoint_c": 4.0,
    ...                "compressor_on": 0}
    ...     anomaly = detector.update(Reading("f-1", 60.0 * minute, minute, metrics))
    ...     found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, a.detected_at / 60) for a in found]
    [('FRIDGE_COMPRESSOR_FAILURE', 115.0)]
    """

    fault_code = FaultCode.FRIDGE_COMPRESSOR_FAILURE
    severity = Severity.CRITICAL
    _state_fields = (
        "last_ts",
        "cabinet",
        "last_on_ts",
        "run_start",
        "observed_since",
        "coldest",
        "cabinet_at_start",
        "freezer_at_start",
        "warm_since",
        "latched",
    )

    def __init__(self, profile: FridgeProfile | None = None) -> None:
        super().__init__(profile)
        self.last_ts_: float | None = None
        self.cabinet_: float | None = None  # cabinet temperature, door spikes smoothed off
        self.last_on_ts_: float | None = None
        self.run_start_: float | None = None  # first reading of the current off run
        self.observed_since_: float | None = None  # ...watched without a gap since
        self.coldest_: float | None = None
        self.cabinet_at_start_: float | None = None
        self.freezer_at_start_: float | None = None
        self.warm_since_: float | None = None
        self.latched_ = False

    def update(self, reading: Reading) -> Anomaly | None:
        """Learn from one reading; return an anomaly when it confirms a failed compressor."""
        p = self.profile
        ts = reading.ts
        if self.last_ts_ is not None and ts <= self.last_ts_:
            return None  # late or repeated: event time has moved past it
        cabinet = reading.get("cabinet_temp_c")
        compressor = reading.get("compressor_on")
        if cabinet is None or compressor is None:
            return None
        setpoint = reading.get("setpoint_c")
        if setpoint is None:
            setpoint = p.default_setpoint_c
        gap = self.last_ts_ is not None and ts - self.last_ts_ > p.max_gap_s
        if self.cabinet_ is None or self.last_ts_ is None or gap:
            self.cabinet_ = cabinet
        else:
            weight = ewma_alpha(
                ts - self.last_ts_, p.compressor_cabinet_tau_s, p.max_sample_weight_s
            )
            self.cabinet_ += weight * (cabinet - self.cabinet_)
        self.last_ts_ = ts
        smoothed = self.cabinet_

        if compressor >= 0.5:
            self.last_on_ts_ = ts
            self.run_start_ = self.observed_since_ = self.warm_since_ = None
            self.coldest_ = self.cabinet_at_start_ = self.freezer_at_start_ = None
            self.latched_ = False
            return None

        if self.run_start_ is None:
            self.run_start_ = self.observed_since_ = ts
            self.coldest_ = smoothed
            self.cabinet_at_start_ = cabinet
            self.freezer_at_start_ = reading.get("freezer_temp_c")
        elif gap or self.observed_since_ is None or self.coldest_ is None:
            # Unwatched time proves nothing (a power cut looks like an off compressor).
            self.observed_since_ = ts
            self.coldest_ = smoothed
            self.warm_since_ = None
        self.coldest_ = min(self.coldest_, smoothed)
        if smoothed >= setpoint + p.compressor_warm_margin_c:
            if self.warm_since_ is None:
                self.warm_since_ = ts
        else:
            self.warm_since_ = None

        if self.latched_:
            if smoothed <= setpoint + p.compressor_clear_margin_c:
                self.latched_ = False
            return None
        off_for = ts - self.observed_since_
        warm_for = 0.0 if self.warm_since_ is None else ts - self.warm_since_
        rise = smoothed - self.coldest_
        if (
            off_for < p.compressor_min_off_run_s
            or warm_for < p.compressor_warm_hold_s
            or rise < p.compressor_rise_c
        ):
            return None
        self.latched_ = True
        excess = smoothed - setpoint
        confidence = (
            0.7
            + 0.1 * min((excess - p.compressor_warm_margin_c) / 2.0, 1.0)
            + 0.15 * min(off_for / p.compressor_min_off_run_s - 1.0, 1.0)
        )
        onset = self.run_start_
        freezer = reading.get("freezer_temp_c")
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=confidence,
            summary=(
                f"Compressor has not run for {(ts - onset) / 60:.0f} min while the cabinet "
                f"warmed to {smoothed:.1f} °C (setpoint {setpoint:.1f} °C): it is not starting."
            ),
            evidence={
                "metric": "compressor_on",
                "observed": 0,
                "off_run_min": round((ts - onset) / 60, 1),
                "normal_max_off_min": round(p.compressor_min_off_run_s / 60, 1),
                # What moved against what: minutes off, against the longest normal off run.
                "baseline": round(p.compressor_min_off_run_s / 60, 1),
                "delta": round((ts - onset - p.compressor_min_off_run_s) / 60, 1),
                "window_start": onset,
                "window_end": ts,
                "last_compressor_on_at": self.last_on_ts_,
                "setpoint_c": setpoint,
                "baseline_cabinet_c": self.cabinet_at_start_,
                "observed_cabinet_c": round(smoothed, 2),
                "delta_cabinet_c": round(smoothed - (self.cabinet_at_start_ or smoothed), 2),
                "freezer_at_start_c": self.freezer_at_start_,
                "observed_freezer_c": freezer,
                "power_w": reading.get("power_w"),
                "duty_cycle": 0.0,
            },
        )


def _thermal_inputs(
    reading: Reading, p: FridgeProfile
) -> tuple[float, float, float, float | None] | None:
    """(cabinet, compressor running 0/1, setpoint, freezer) from a reading, or None without
    a cabinet temperature and compressor state. The setpoint defaults to the profile's;
    the freezer is None when absent or outside what a working sensor reads (a broken
    freezer sensor says nothing about the freezer)."""
    cabinet = reading.get("cabinet_temp_c")
    compressor = reading.get("compressor_on")
    if cabinet is None or compressor is None:
        return None
    setpoint = reading.get("setpoint_c")
    freezer = reading.get("freezer_temp_c")
    if freezer is not None and not p.freezer_valid_min_c <= freezer <= p.freezer_valid_max_c:
        freezer = None
    return (
        cabinet,
        1.0 if compressor >= 0.5 else 0.0,
        p.default_setpoint_c if setpoint is None else setpoint,
        freezer,
    )


class TempDriftDetector(_Detector):
    """The smoothed cabinet temperature stays above setpoint while the compressor runs
    nearly all the time: it is working flat out and still losing ground (cooling capacity
    is fading). A stopped compressor (duty ~0) is not this fault, nor is a freezer well
    below its own normal: a circuit that overcools the freezer has its capacity, and the
    warm cabinet has an extra heat load (`DoorSealLeakDetector`).

    >>> from domain import Reading
    >>> detector = TempDriftDetector()
    >>> found = []
    >>> for minute in range(0, 12 * 60):  # a normal morning, then running flat out and warm
    ...     broken = minute >= 5 * 60
    ...     metrics = {"cabinet_temp_c": 7.0 if broken else 4.0, "setpoint_c": 4.0,
    ...                "compressor_on": 1 if broken or minute % 3 == 0 else 0}
    ...     anomaly = detector.update(Reading("f-1", 60.0 * minute, minute, metrics))
    ...     found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, round(a.detected_at / 3600, 1)) for a in found]
    [('FRIDGE_TEMP_DRIFT', 10.8)]
    """

    fault_code = FaultCode.FRIDGE_TEMP_DRIFT
    severity = Severity.HIGH
    _state_fields = (
        "first_ts",
        "last_ts",
        "cabinet",
        "freezer",
        "duty",
        "baseline_duty",
        "baseline_offset",
        "baseline_freezer",
        "setpoint",
        "grace_until",
        "cusum",
        "cusum_zero_at",
        "condition_since",
        "latched",
        "clear_since",
        "work_duty",
        "door",
        "baseline_door",
        "work_since",
    )

    def __init__(self, profile: FridgeProfile | None = None) -> None:
        super().__init__(profile)
        self.first_ts_: float | None = None
        self.last_ts_: float | None = None
        self.cabinet_: float | None = None  # EWMA, hours
        self.freezer_: float | None = None
        self.work_duty_ = self.profile.drift_duty_prior  # EWMA of compressor_on, longer
        self.door_: float | None = None  # EWMA of door_open, as long
        self.baseline_door_: float | None = None  # ...and its normal
        self.work_since_: float | None = None  # working hard for the same cabinet since
        self.duty_ = self.profile.drift_duty_prior  # EWMA of compressor_on
        self.baseline_duty_ = self.profile.drift_duty_prior  # slow, while behaving normally
        self.baseline_offset_ = 0.0  # slow cabinet minus setpoint, while behaving normally
        self.baseline_freezer_: float | None = None  # slow freezer, while behaving normally
        self.setpoint_: float | None = None
        self.grace_until_: float | None = None
        self.cusum_ = 0.0  # duty above baseline, accumulated in hours
        self.cusum_zero_at_: float | None = None  # last time it stood at zero
        self.condition_since_: float | None = None
        self.latched_ = False
        self.clear_since_: float | None = None

    def update(self, reading: Reading) -> Anomaly | None:
        """Learn from one reading; return an anomaly when it confirms a temperature drift."""
        p = self.profile
        ts = reading.ts
        if self.last_ts_ is not None and ts <= self.last_ts_:
            return None
        inputs = _thermal_inputs(reading, p)
        if inputs is None:
            return None
        cabinet, running, setpoint, freezer = inputs
        if self.last_ts_ is None or self.cabinet_ is None or self.first_ts_ is None:
            self.first_ts_ = self.last_ts_ = ts
            self.cabinet_, self.freezer_, self.setpoint_ = cabinet, freezer, setpoint
            self.cusum_zero_at_ = ts
            return None
        dt = ts - self.last_ts_
        cap = p.max_sample_weight_s
        self.cabinet_ += ewma_alpha(dt, p.drift_cabinet_tau_s, cap) * (cabinet - self.cabinet_)
        if freezer is not None:
            if self.freezer_ is None:
                self.freezer_ = freezer
            self.freezer_ += ewma_alpha(dt, p.drift_cabinet_tau_s, cap) * (freezer - self.freezer_)
        self.duty_ += ewma_alpha(dt, p.drift_duty_tau_s, cap) * (running - self.duty_)
        work = ewma_alpha(dt, p.drift_work_tau_s, cap)
        self.work_duty_ += work * (running - self.work_duty_)
        door = reading.get("door_open")
        if door is not None:
            opened = 1.0 if door >= 0.5 else 0.0
            self.door_ = opened if self.door_ is None else self.door_ + work * (opened - self.door_)
        self.last_ts_ = ts
        if dt > p.max_gap_s:
            self.condition_since_ = self.work_since_ = None  # persistence must be seen
        if self.setpoint_ is None or abs(setpoint - self.setpoint_) > 0.05:
            # Someone turned the dial: the pull-down to the new setpoint is not a fault.
            self.grace_until_ = ts + p.setpoint_change_grace_s
            self.condition_since_ = self.work_since_ = None
            self.setpoint_ = setpoint
        excess = self.cabinet_ - setpoint

        step_h = min(dt, cap) / 3600.0
        learning = ts - self.first_ts_ < p.drift_work_warmup_s
        self.cusum_ = (
            0.0
            if learning
            else max(
                0.0,
                self.cusum_ + (self.duty_ - self.baseline_duty_ - p.drift_onset_allowance) * step_h,
            )
        )
        if self.cusum_ == 0.0:
            # Behaving as usual: this is what the device's normal looks like.
            self.cusum_zero_at_ = ts
            slow = ewma_alpha(dt, p.drift_baseline_tau_s, cap)
            # A running mean over the first day, then a slow EWMA.
            early = max(slow, min(dt, cap) / max(ts - self.first_ts_, min(dt, cap)))
            self.baseline_duty_ += early * (running - self.baseline_duty_)
            self.baseline_offset_ += slow * (excess - self.baseline_offset_)
            if self.door_ is not None:
                if self.baseline_door_ is None:
                    self.baseline_door_ = self.door_
                self.baseline_door_ += early * (self.door_ - self.baseline_door_)
            if freezer is not None:
                if self.baseline_freezer_ is None:
                    self.baseline_freezer_ = freezer
                # A running mean over the first day (one defrost must not set the norm);
                # an overcooled freezer is not learned as the new normal.
                if not self._freezer_overcooled(p.drift_overcooled_freezer_c / 2):
                    early = min(dt, cap) / max(ts - self.first_ts_, min(dt, cap))
                    weight = max(slow, early)
                    self.baseline_freezer_ += weight * (freezer - self.baseline_freezer_)

        working_hard = self._working_hard(ts)
        if self.latched_:
            # The episode ends only after a sustained return to normal (hysteresis in
            # level and in time), so a cool night does not re-open the same fault.
            if (
                self.duty_ < p.drift_clear_duty
                and excess < p.drift_clear_margin_c
                and not working_hard
            ):
                if self.clear_since_ is None:
                    self.clear_since_ = ts
                if ts - self.clear_since_ >= p.drift_clear_hold_s:
                    self.latched_ = False
                    self.clear_since_ = None
            else:
                self.clear_since_ = None
            return None
        settled = ts - self.first_ts_ >= p.drift_warmup_s
        in_grace = self.grace_until_ is not None and ts < self.grace_until_
        warm = not (
            not settled
            or in_grace
            or excess < p.drift_margin_c
            or self.duty_ < p.drift_duty_threshold
            or self._freezer_overcooled()
        )
        if not warm:
            self.condition_since_ = None
        elif self.condition_since_ is None:
            self.condition_since_ = ts
        confirmed_warm = warm and ts - (self.condition_since_ or ts) >= p.drift_confirm_s
        confirmed_work = (
            not in_grace
            and self.work_since_ is not None
            and ts - self.work_since_ >= p.drift_work_confirm_s
        )
        if not (confirmed_warm or confirmed_work):
            return None
        since = min(t for t in (self.condition_since_, self.work_since_, ts) if t is not None)
        self.condition_since_ = since
        self.latched_ = True
        onset = min(self.cusum_zero_at_ or since, since)
        share = (self.duty_ - p.drift_duty_threshold) / (1.0 - p.drift_duty_threshold)
        confidence = (
            0.6
            + 0.2 * min(max(share, 0.0), 1.0)
            + 0.15 * min(max((excess - p.drift_margin_c) / 2.0, 0.0), 1.0)
        )
        baseline_cabinet = setpoint + self.baseline_offset_
        if confirmed_warm:
            summary = (
                f"Cabinet averaging {self.cabinet_:.1f} °C (setpoint {setpoint:.1f} °C) while "
                f"the compressor runs {self.duty_:.0%} of the time (normally "
                f"{self.baseline_duty_:.0%}): cooling capacity is falling."
            )
        else:
            summary = (
                f"The compressor now runs {self.work_duty_:.0%} of the time (normally "
                f"{self.baseline_duty_:.0%}) to hold the cabinet at {self.cabinet_:.1f} °C "
                f"(setpoint {setpoint:.1f} °C), with no more door openings than usual: "
                "cooling capacity is falling before the cabinet warms."
            )
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=confidence,
            summary=summary,
            evidence={
                "metric": "cabinet_temp_c",
                "setpoint_c": setpoint,
                "baseline": round(baseline_cabinet, 2),
                "observed": round(self.cabinet_, 2),
                "delta": round(self.cabinet_ - baseline_cabinet, 2),
                "duty_cycle": round(self.duty_, 3),
                "baseline_duty_cycle": round(self.baseline_duty_, 3),
                "work_duty_cycle": round(self.work_duty_, 3),
                "door_open_share": None if self.door_ is None else round(self.door_, 3),
                "observed_freezer_c": None if self.freezer_ is None else round(self.freezer_, 2),
                "window_start": onset,
                "condition_since": self.condition_since_,
                "window_end": ts,
                "smoothing_tau_h": p.drift_cabinet_tau_s / 3600,
            },
        )

    def _working_hard(self, ts: float) -> bool:
        """Track whether the compressor works far harder than its normal for a cabinet
        that holds, with the door and the freezer as usual; True while it does."""
        p = self.profile
        base = self.baseline_duty_
        needed = max(base * p.drift_work_ratio, base + p.drift_work_headroom * (1.0 - base))
        door_as_usual = (
            self.door_ is None
            or self.baseline_door_ is None
            or self.door_ <= self.baseline_door_ + p.drift_work_door_rise
        )
        hard = (
            self.first_ts_ is not None
            and ts - self.first_ts_ >= p.drift_work_warmup_s
            and self.work_duty_ >= needed
            and door_as_usual
            and not self._freezer_overcooled()
        )
        if not hard:
            self.work_since_ = None
        elif self.work_since_ is None:
            self.work_since_ = ts
        return hard

    def _freezer_overcooled(self, by_c: float | None = None) -> bool:
        """The smoothed freezer sits `by_c` (default: the profile's margin) below its normal."""
        if self.freezer_ is None or self.baseline_freezer_ is None:
            return False
        margin = self.profile.drift_overcooled_freezer_c if by_c is None else by_c
        return self.freezer_ <= self.baseline_freezer_ - margin


class DoorSealLeakDetector(_Detector):
    """Warm kitchen air leaks past the door seal: the cabinet gains an extra heat load
    while the cooling circuit keeps its full capacity.

    The compressor follows the cabinet thermostat, so it runs longer to hold the cabinet
    at setpoint; the evaporator serves the freezer too, which is overcooled and settles
    well below its own normal. A refrigerant leak or a stopped compressor warms the
    freezer instead, so a freezer colder than usual while the compressor works at least
    as hard as usual and the cabinet holds is a heat load, not lost capacity. Warm
    groceries look alike for some hours; the condition must hold for a day.

    The device's normal (freezer level, duty cycle) is learned from its own history: a
    running mean over the first day, then a slow EWMA, updated only while a CUSUM of the
    freezer below its normal stands at zero (so a leak does not become the new normal).

    >>> from domain import Reading
    >>> detector = DoorSealLeakDetector()
    >>> found = []
    >>> for minute in range(0, 5 * 24 * 60):  # two normal days, then an overcooled freezer
    ...     leaking = minute >= 2 * 24 * 60
    ...     metrics = {"cabinet_temp_c": 4.0, "setpoint_c": 4.0,
    ...                "freezer_temp_c": -24.0 if leaking else -18.0,
    ...                "compressor_on": 1 if minute % (2 if leaking else 3) == 0 else 0}
    ...     anomaly = detector.update(Reading("f-1", 60.0 * minute, minute, metrics))
    ...     found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, round(a.detected_at / 3600, 1)) for a in found]
    [('FRIDGE_DOOR_SEAL_LEAK', 77.9)]
    """

    fault_code = FaultCode.FRIDGE_DOOR_SEAL_LEAK
    severity = Severity.MEDIUM
    _state_fields = (
        "first_ts",
        "last_ts",
        "setpoint",
        "cabinet",
        "freezer",
        "duty",
        "baseline_freezer",
        "baseline_duty",
        "cusum",
        "cusum_zero_at",
        "condition_since",
        "latched",
        "clear_since",
    )

    def __init__(self, profile: FridgeProfile | None = None) -> None:
        super().__init__(profile)
        self.first_ts_: float | None = None  # start of the history the baseline knows
        self.last_ts_: float | None = None
        self.setpoint_: float | None = None
        self.cabinet_: float | None = None  # EWMAs over hours
        self.freezer_: float | None = None
        self.duty_: float | None = None
        self.baseline_freezer_: float | None = None  # the device's normal, while calm
        self.baseline_duty_: float | None = None
        self.cusum_ = 0.0  # freezer below its normal, accumulated in K h
        self.cusum_zero_at_: float | None = None
        self.condition_since_: float | None = None
        self.latched_ = False
        self.clear_since_: float | None = None

    def update(self, reading: Reading) -> Anomaly | None:
        """Learn from one reading; return an anomaly when it confirms a leaking door seal."""
        p = self.profile
        ts = reading.ts
        if self.last_ts_ is not None and ts <= self.last_ts_:
            return None
        inputs = _thermal_inputs(reading, p)
        if inputs is None:
            return None
        cabinet, running, setpoint, freezer_or_none = inputs
        if freezer_or_none is None:
            return None
        freezer = freezer_or_none
        if (
            self.last_ts_ is None
            or self.cabinet_ is None
            or self.freezer_ is None
            or self.duty_ is None
            or self.setpoint_ is None
            or abs(setpoint - self.setpoint_) > 0.05
        ):
            # First sight, or the dial was turned: a new setpoint is a new normal.
            self._restart(ts, setpoint, cabinet, freezer, running)
            return None
        dt = ts - self.last_ts_
        cap = p.max_sample_weight_s
        fast = ewma_alpha(dt, p.seal_fast_tau_s, cap)
        self.cabinet_ += fast * (cabinet - self.cabinet_)
        self.freezer_ += fast * (freezer - self.freezer_)
        self.duty_ += fast * (running - self.duty_)
        self.last_ts_ = ts
        if dt > p.max_gap_s:
            self.condition_since_ = None  # persistence must be seen, not assumed

        first_ts = self.first_ts_ if self.first_ts_ is not None else ts
        if self.baseline_freezer_ is None or self.baseline_duty_ is None:
            self.baseline_freezer_, self.baseline_duty_ = freezer, running
        drop = self.baseline_freezer_ - self.freezer_
        step_h = min(dt, cap) / 3600.0
        self.cusum_ = max(0.0, self.cusum_ + (drop - p.seal_onset_allowance_c) * step_h)
        if self.cusum_ == 0.0 and not self.latched_:
            # Behaving as usual: a running mean over the first day, then a slow EWMA.
            self.cusum_zero_at_ = ts
            slow = max(
                ewma_alpha(dt, p.seal_baseline_tau_s, cap),
                min(dt, cap) / max(ts - first_ts, min(dt, cap)),
            )
            self.baseline_freezer_ += slow * (freezer - self.baseline_freezer_)
            self.baseline_duty_ += slow * (running - self.baseline_duty_)

        if self.latched_:
            # Over only after a sustained return to normal: a cool night or a defrost
            # does not re-open the same fault.
            if drop < p.seal_clear_drop_c:
                if self.clear_since_ is None:
                    self.clear_since_ = ts
                if ts - self.clear_since_ >= p.seal_clear_hold_s:
                    self.latched_ = False
                    self.clear_since_ = None
                    self.condition_since_ = None
            else:
                self.clear_since_ = None
            return None
        rise = self.duty_ - self.baseline_duty_
        excess = self.cabinet_ - setpoint
        if (
            ts - first_ts < p.seal_warmup_s
            or drop < p.seal_freezer_drop_c
            or rise < p.seal_duty_rise
            or excess >= p.seal_cabinet_margin_c
        ):
            self.condition_since_ = None
            return None
        if self.condition_since_ is None:
            self.condition_since_ = ts
        if ts - self.condition_since_ < p.seal_confirm_s:
            return None
        self.latched_ = True
        self.clear_since_ = None
        onset = min(self.cusum_zero_at_ or self.condition_since_, self.condition_since_)
        confidence = (
            0.6
            + 0.2 * min((drop - p.seal_freezer_drop_c) / 3.0, 1.0)
            + 0.15 * min(max(rise, 0.0) / 0.1, 1.0)
        )
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=confidence,
            summary=(
                f"Freezer averaging {self.freezer_:.1f} °C, {drop:.1f} K below its usual "
                f"{self.baseline_freezer_:.1f} °C, while the compressor runs "
                f"{self.duty_:.0%} of the time (normally {self.baseline_duty_:.0%}) and the "
                f"cabinet holds {self.cabinet_:.1f} °C (setpoint {setpoint:.1f} °C): an extra "
                "heat load on the cabinet with cooling capacity intact, likely the door seal."
            ),
            evidence={
                "metric": "freezer_temp_c",
                "baseline": round(self.baseline_freezer_, 2),
                "observed": round(self.freezer_, 2),
                "delta": round(-drop, 2),
                "duty_cycle": round(self.duty_, 3),
                "baseline_duty_cycle": round(self.baseline_duty_, 3),
                "delta_duty_cycle": round(rise, 3),
                "observed_cabinet_c": round(self.cabinet_, 2),
                "setpoint_c": setpoint,
                "window_start": onset,
                "condition_since": self.condition_since_,
                "window_end": ts,
                "smoothing_tau_h": p.seal_fast_tau_s / 3600,
            },
        )

    def _restart(
        self, ts: float, setpoint: float, cabinet: float, freezer: float, running: float
    ) -> None:
        """Forget the device's normal and learn it again from this reading on."""
        self.first_ts_ = self.last_ts_ = self.cusum_zero_at_ = ts
        self.setpoint_ = setpoint
        self.cabinet_, self.freezer_, self.duty_ = cabinet, freezer, running
        self.baseline_freezer_, self.baseline_duty_ = freezer, running
        self.cusum_ = 0.0
        self.condition_since_ = self.clear_since_ = None
        self.latched_ = False


FRIDGE_DETECTORS = DetectorSet(
    profile_type=FridgeProfile,
    detectors={
        "compressor_failure": CompressorFailureDetector,
        "temp_drift": TempDriftDetector,
        "door_seal_leak": DoorSealLeakDetector,
    },
)
