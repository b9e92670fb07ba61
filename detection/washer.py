"""Event-time detectors for washer faults: one object per device and fault, O(1) state each.

`ImbalanceDetector` catches a suspension that no longer damps the tub (a broken shock
absorber): every spin-up shakes far harder than the same spin at full speed.
`DrainBlockedDetector` catches water that leaves too slowly or not at all with the pump
running. `BearingWearDetector` catches current and vibration at full speed rising above
normal: the washer model's at first, more and more the washer's own. All three judge
whole spins, drains and cycles from the reports' summaries (`cycle_phase`: 0 idle,
1 fill, 2 wash, 3 rinse, 4 spin, 5 drain), ignore readings older than the last one they
used, and keep every threshold in a `WasherProfile`.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import Any

from detection.detector_base import ProfiledDetector
from detection.detector_set import DetectorSet
from detection.profiles import WasherProfile
from detection.profiles.washer import WASHER_MODEL_PROFILES
from domain import Anomaly, FaultCode, Reading, Severity


class Phase(IntEnum):
    """`cycle_phase` as washers send it (DESIGN.md)."""

    IDLE = 0
    FILL = 1
    WASH = 2
    RINSE = 3
    SPIN = 4
    DRAIN = 5


class _Detector(ProfiledDetector[WasherProfile]):
    """Washer detectors: event-time order and the previous report, shared by all three."""

    profile_type = WasherProfile

    def __init__(self, profile: WasherProfile | None = None) -> None:
        super().__init__(profile)
        self.last_ts_: float | None = None
        self.prev_rpm_ = 0.0
        self.prev_phase_ = 0

    @classmethod
    def _state_names(cls) -> tuple[str, ...]:
        return ("last_ts", "prev_rpm", "prev_phase", *cls._state_fields)

    def update(self, reading: Reading) -> Anomaly | None:
        """Learn from one reading; return an anomaly when it confirms this detector's fault."""
        if self.last_ts_ is not None and reading.ts <= self.last_ts_:
            return None  # late or repeated: event time has moved past it
        phase_value = reading.get("cycle_phase")
        rpm = reading.get("drum_rpm")
        if phase_value is None or rpm is None:
            return None
        if self.last_ts_ is not None and reading.ts - self.last_ts_ > self.profile.max_gap_s:
            self._forget()  # unwatched time: what was being followed cannot be judged
            self.prev_phase_, self.prev_rpm_ = 0, 0.0
        phase = int(phase_value)
        found = self._step(reading, phase, rpm)
        self.last_ts_ = reading.ts
        self.prev_phase_, self.prev_rpm_ = phase, rpm
        return found

    def _step(self, reading: Reading, phase: int, rpm: float) -> Anomaly | None:
        raise NotImplementedError

    def _forget(self) -> None:
        raise NotImplementedError

    def _at_speed(self, phase: int, rpm: float) -> bool:
        """A whole report interval spinning at a steady speed (no ramp or brake in it)."""
        p = self.profile
        return (
            phase == Phase.SPIN
            and self.prev_phase_ == Phase.SPIN
            and rpm >= p.plateau_min_rpm
            and abs(rpm - self.prev_rpm_) <= p.plateau_tolerance * rpm
        )


def _log(x: float) -> float:
    return math.log(max(x, 1e-6))


class ImbalanceDetector(_Detector):
    """Spin after spin, the tub shakes far harder passing through its suspension resonance
    than at full speed: the damping is gone (a broken shock absorber, worn friction pads).

    The amplification (spin-up peak over vibration at speed, in the same spin) does not
    depend on how well the load balanced, so heavy or bulky loads that the controller has
    to redistribute, spin slower or not at all do not count; spins that never reach speed
    count only if they shook hard. Confirmed when most of the last few cycles were rough.

    >>> from domain import Reading
    >>> detector = ImbalanceDetector()
    >>> spin = [(90, 0.1), (300, 2.4), (1000, 0.2), (1000, 0.22), (1000, 0.21), (200, 1.9)]
    >>> found, t = [], 0.0
    >>> for cycle in range(3):  # three cycles, each: wash, spin, idle
    ...     for phase, (rpm, g) in [(2, (40, 0.1))] * 3 + [(4, s) for s in spin] + [(0, (0, 0.01))]:
    ...         t += 60.0
    ...         metrics = {"cycle_phase": phase, "drum_rpm": rpm, "vibration_g": g}
    ...         anomaly = detector.update(Reading("w-1", t, int(t // 60), metrics))
    ...         found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, a.detected_at / 60, a.evidence["cycles_rough"]) for a in found]
    [('WASHER_IMBALANCE', 30.0, 3)]
    """

    fault_code = FaultCode.WASHER_IMBALANCE
    severity = Severity.MEDIUM
    _state_fields = (
        "cycle_start",
        "spin_peak",
        "spin_top",
        "speed_sum",
        "speed_n",
        "spins_judged",
        "spins_rough",
        "spins_stalled",
        "cycle_amplification",
        "cycle_peak",
        "cycle_at_speed",
        "window",
        "normal_amplification",
        "latched",
        "smooth_run",
    )

    def __init__(self, profile: WasherProfile | None = None) -> None:
        super().__init__(profile)
        self.cycle_start_: float | None = None
        self.spin_peak_ = 0.0  # spin-up vibration peak of the current spin
        self.spin_top_ = 0.0  # fastest report of the current spin
        self.speed_sum_ = 0.0  # vibration at speed in the current spin: sum and count
        self.speed_n_ = 0
        self.spins_judged_ = 0  # this cycle
        self.spins_rough_ = 0
        self.spins_stalled_ = 0  # never got to speed, shaking hard
        self.cycle_amplification_ = 0.0  # the largest of this cycle's judged spins
        self.cycle_peak_ = 0.0
        self.cycle_at_speed_ = 0.0
        # The last cycles judged: [start_ts, rough, amplification, peak_g, at_speed_g, stalled].
        self.window_: list[list[Any]] = []
        self.normal_amplification_: float | None = None  # learned on smooth spins (log)
        self.latched_ = False
        self.smooth_run_ = 0

    def _forget(self) -> None:
        self.cycle_start_ = None
        self._reset_spin()
        self._reset_cycle()

    def _reset_spin(self) -> None:
        self.spin_peak_, self.spin_top_, self.speed_sum_, self.speed_n_ = 0.0, 0.0, 0.0, 0

    def _reset_cycle(self) -> None:
        self.spins_judged_ = self.spins_rough_ = self.spins_stalled_ = 0
        self.cycle_amplification_ = self.cycle_peak_ = self.cycle_at_speed_ = 0.0

    def _step(self, reading: Reading, phase: int, rpm: float) -> Anomaly | None:
        if self.prev_phase_ == Phase.SPIN and phase != Phase.SPIN:
            self._end_spin()
        if phase == Phase.IDLE:
            return self._end_cycle(reading) if self.cycle_start_ is not None else None
        if self.cycle_start_ is None:
            self.cycle_start_ = reading.ts
        if phase != Phase.SPIN:
            return None
        vibration = reading.get("vibration_g")
        if vibration is None:
            return None
        self.spin_top_ = max(self.spin_top_, rpm)
        if self._at_speed(phase, rpm):
            self.speed_sum_ += vibration
            self.speed_n_ += 1
        else:  # speeding up or braking: through the resonance
            self.spin_peak_ = max(self.spin_peak_, vibration)
        return None

    def _end_spin(self) -> None:
        p = self.profile
        peak = self.spin_peak_
        if self.speed_n_:
            at_speed = max(self.speed_sum_ / self.speed_n_, p.vibration_floor_g)
            amplification = peak / at_speed
            rough = amplification >= p.imbalance_ratio and peak >= p.imbalance_min_peak_g
            self.spins_judged_ += 1
            self.spins_rough_ += int(rough)
            if not rough:
                a = _log(amplification)
                prior = self.normal_amplification_
                self.normal_amplification_ = a if prior is None else prior + 0.2 * (a - prior)
            if amplification >= self.cycle_amplification_:
                self.cycle_amplification_ = amplification
                self.cycle_at_speed_ = at_speed
            self.cycle_peak_ = max(self.cycle_peak_, peak)
        elif self.spin_top_ < p.plateau_min_rpm / 2 and peak >= p.imbalance_abort_peak_g:
            # Never got past the resonance, shaking hard on the way: aborted spin-ups.
            self.spins_judged_ += 1
            self.spins_rough_ += 1
            self.spins_stalled_ += 1
            self.cycle_peak_ = max(self.cycle_peak_, peak)
        self._reset_spin()

    def _end_cycle(self, reading: Reading) -> Anomaly | None:
        p = self.profile
        start = self.cycle_start_
        self.cycle_start_ = None
        judged, rough_spins = self.spins_judged_, self.spins_rough_
        figures = [
            self.cycle_amplification_,
            self.cycle_peak_,
            self.cycle_at_speed_,
            self.spins_stalled_,
        ]
        self._reset_cycle()
        if not judged or start is None:
            return None
        rough = 2 * rough_spins >= judged
        self.window_.append([start, rough, *figures])
        del self.window_[: -p.imbalance_window_cycles]
        if self.latched_:
            self.smooth_run_ = 0 if rough else self.smooth_run_ + 1
            if self.smooth_run_ >= p.imbalance_clear_cycles:
                self.latched_ = False
                self.window_ = []
            return None
        rough_cycles = [c for c in self.window_ if c[1]]
        if len(rough_cycles) < p.imbalance_confirm_cycles:
            return None
        self.latched_ = True
        self.smooth_run_ = 0
        onset = rough_cycles[0][0]
        amplifications = sorted(c[2] for c in rough_cycles if c[2] > 0)
        # Cycles whose spins never got to speed have no amplification to show.
        amplification = amplifications[len(amplifications) // 2] if amplifications else None
        peak = max(c[3] for c in rough_cycles)
        at_speed = [c[4] for c in rough_cycles if c[4] > 0]
        stalled = sum(int(c[5]) for c in rough_cycles)
        normal = (
            None if self.normal_amplification_ is None else math.exp(self.normal_amplification_)
        )
        excess = 1.0 if amplification is None else amplification / p.imbalance_ratio - 1.0
        confidence = (
            0.6
            + 0.1 * (len(rough_cycles) - p.imbalance_confirm_cycles + 1)
            + 0.15 * min(excess, 1.0)
        )
        how = (
            "with spins aborted before full speed"
            if amplification is None
            else f"{amplification:.0f}x the vibration at full speed"
        )
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=confidence,
            summary=(
                f"Spin-ups shake the cabinet up to {peak:.1f} g, {how}, in {len(rough_cycles)} "
                f"of the last {len(self.window_)} cycles: the suspension is no longer damping "
                "the tub."
            ),
            evidence={
                "metric": "vibration_g",
                "baseline": None if normal is None else round(normal, 2),
                "observed": None if amplification is None else round(amplification, 2),
                "delta": (
                    None
                    if normal is None or amplification is None
                    else round(amplification - normal, 2)
                ),
                "quantity": "resonance amplification (spin-up peak / vibration at speed)",
                "threshold": p.imbalance_ratio,
                "spin_up_peak_g": round(peak, 2),
                "at_speed_g": round(sorted(at_speed)[len(at_speed) // 2], 3) if at_speed else None,
                "cycles_rough": len(rough_cycles),
                "cycles_judged": len(self.window_),
                "spins_never_at_speed": stalled,
                "window_start": onset,
                "window_end": reading.ts,
            },
        )


class DrainBlockedDetector(_Detector):
    """Water leaves too slowly with the pump running, cycle after cycle (a clogging filter
    or hose), or not at all: the pump runs out its time and the machine stops with water
    inside (blocked). A stopped machine is confirmed at once and is HIGH; slow drains
    need `drain_confirm_cycles` slow cycles in a row, so one sudsy drain is not a fault.

    >>> from domain import Reading
    >>> detector = DrainBlockedDetector()
    >>> levels = [12.0, 11.2, 10.5, 9.9, 9.4, 9.0, 9.0, 9.0]  # pumping, then it gives up
    >>> rows = [(2, 12.0, 0)] + [(5, lv, int(i < 6)) for i, lv in enumerate(levels)]
    >>> found = []
    >>> for minute, (phase, level, pump) in enumerate(rows, start=1):
    ...     metrics = {"cycle_phase": phase, "drum_rpm": 0, "water_level_l": level,
    ...                "drain_pump_on": pump}
    ...     anomaly = detector.update(Reading("w-1", 60.0 * minute, minute, metrics))
    ...     found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, a.severity.label, a.evidence["stalled"]) for a in found]
    [('WASHER_DRAIN_BLOCKED', 'high', True)]
    """

    fault_code = FaultCode.WASHER_DRAIN_BLOCKED
    severity = Severity.MEDIUM
    _state_fields = (
        "prev_level",
        "prev_pump",
        "in_cycle",
        "drain_start",
        "drain_from",
        "pump_reports",
        "wet_reports",
        "full_minutes",
        "full_drop_l",
        "dry_within_s",
        "cycle_drains",
        "cycle_slow",
        "cycle_first_slow",
        "cycle_rate",
        "slow_cycles",
        "streak_start",
        "stalled_at",
        "latched",
        "normal_run",
        "normal_rate",
    )

    def __init__(self, profile: WasherProfile | None = None) -> None:
        super().__init__(profile)
        self.prev_level_: float | None = None
        self.prev_pump_ = 0
        self.in_cycle_ = False
        self.drain_start_: float | None = None  # the current drain: when it began...
        self.drain_from_ = 0.0  # ...the level it began from...
        self.pump_reports_ = 0  # ...reports with the pump on...
        self.wet_reports_ = 0  # ...of which still above empty...
        self.full_minutes_ = 0.0  # ...whole intervals pumping with water left, in minutes...
        self.full_drop_l_ = 0.0  # ...and the litres they moved...
        self.dry_within_s_: float | None = None  # ...or how soon it was empty, at most
        self.cycle_drains_ = 0
        self.cycle_slow_ = 0
        self.cycle_first_slow_: float | None = None
        self.cycle_rate_: float | None = None  # slowest measured rate this cycle, L/min
        self.slow_cycles_ = 0  # in a row
        self.streak_start_: float | None = None  # first slow drain of the streak
        self.stalled_at_: float | None = None  # this cycle's drain stopped with water in
        self.latched_ = False
        self.normal_run_ = 0
        self.normal_rate_: float | None = None  # measured rate of normal drains, L/min

    def _forget(self) -> None:
        self.drain_start_ = None
        self.in_cycle_ = False
        self.cycle_drains_ = self.cycle_slow_ = 0
        self.cycle_first_slow_ = self.cycle_rate_ = self.stalled_at_ = None
        self.prev_level_ = None

    def _step(self, reading: Reading, phase: int, rpm: float) -> Anomaly | None:
        level = reading.get("water_level_l")
        pump = reading.get("drain_pump_on")
        if level is None or pump is None:
            return None
        pumping = int(pump >= 0.5)
        found: Anomaly | None = None
        if phase == Phase.DRAIN:
            self.in_cycle_ = True
            found = self._draining(reading, level, pumping)
        elif self.drain_start_ is not None:
            self._end_drain()
        if phase == Phase.IDLE and self.in_cycle_:
            found = self._end_cycle(reading) or found
        elif phase != Phase.IDLE:
            self.in_cycle_ = True
        self.prev_level_, self.prev_pump_ = level, pumping
        return found

    def _draining(self, reading: Reading, level: float, pumping: int) -> Anomaly | None:
        p = self.profile
        if self.drain_start_ is None:
            # It began at most one report interval ago.
            self.drain_start_ = reading.ts if self.last_ts_ is None else self.last_ts_
            self.drain_from_ = level if self.prev_level_ is None else max(self.prev_level_, level)
            self.pump_reports_ = self.wet_reports_ = 0
            self.full_minutes_ = self.full_drop_l_ = 0.0
            self.dry_within_s_ = None
        if pumping:
            self.pump_reports_ += 1
            if level <= p.drain_empty_l and self.dry_within_s_ is None:
                self.dry_within_s_ = reading.ts - self.drain_start_
            if level > p.drain_empty_l:
                self.wet_reports_ += 1
                if self.prev_pump_ and self.prev_level_ is not None and self.last_ts_ is not None:
                    # Pumping all interval long and still not empty: a true measure of flow.
                    self.full_minutes_ += (reading.ts - self.last_ts_) / 60.0
                    self.full_drop_l_ += self.prev_level_ - level
            return None
        stalled = (
            self.stalled_at_ is None
            and level >= p.drain_stall_level_l
            and self.pump_reports_ >= p.drain_stall_pump_reports
        )
        if not stalled:
            return None
        # The pump has stopped with the water still in: the controller gave up.
        self.stalled_at_ = reading.ts
        if self.cycle_first_slow_ is None:
            self.cycle_first_slow_ = self.drain_start_
        if self.streak_start_ is None:
            self.streak_start_ = self.cycle_first_slow_
        if self.latched_:
            return None
        self.latched_ = True
        self.normal_run_ = 0
        rate = self._rate()
        onset = self.streak_start_ if self.streak_start_ is not None else reading.ts
        pumped_min = (reading.ts - (self.drain_start_ or reading.ts)) / 60.0
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=0.85 + 0.1 * min(self.slow_cycles_, 1),
            severity=Severity.HIGH,
            summary=(
                f"The drain pump ran for {pumped_min:.0f} min and the water only fell from "
                f"{self.drain_from_:.1f} L to {level:.1f} L; the washer stopped with water "
                "inside: the drain is blocked."
            ),
            evidence=self._evidence(reading, onset, rate, level, stalled=True),
        )

    def _rate(self) -> float | None:
        if self.full_minutes_ <= 0:
            return None
        return self.full_drop_l_ / self.full_minutes_

    def _end_drain(self) -> None:
        p = self.profile
        rate = self._rate()
        slow = (rate is not None and rate < p.drain_slow_lpm) or (
            self.wet_reports_ >= p.drain_slow_reports
        )
        if self.pump_reports_:
            self.cycle_drains_ += 1
        if slow:
            self.cycle_slow_ += 1
            if self.cycle_first_slow_ is None:
                self.cycle_first_slow_ = self.drain_start_
            if rate is not None:
                self.cycle_rate_ = rate if self.cycle_rate_ is None else min(self.cycle_rate_, rate)
        else:
            if rate is None and self.dry_within_s_:
                # Emptied between two reports: the flow was at least this.
                rate = (self.drain_from_ - p.drain_empty_l) / (self.dry_within_s_ / 60.0)
            if rate is not None:
                prior = self.normal_rate_
                self.normal_rate_ = rate if prior is None else prior + 0.2 * (rate - prior)
        self.drain_start_ = None

    def _end_cycle(self, reading: Reading) -> Anomaly | None:
        p = self.profile
        self.in_cycle_ = False
        drains, slow_drains = self.cycle_drains_, self.cycle_slow_
        stalled, first_slow, rate = self.stalled_at_, self.cycle_first_slow_, self.cycle_rate_
        self.cycle_drains_ = self.cycle_slow_ = 0
        self.cycle_first_slow_ = self.cycle_rate_ = self.stalled_at_ = None
        if not drains:
            return None
        slow = stalled is not None or slow_drains >= max(1.0, p.drain_slow_share * drains)
        if not slow:
            self.slow_cycles_ = 0
            self.streak_start_ = None
            self.normal_run_ += 1
            if self.latched_ and self.normal_run_ >= p.drain_clear_cycles:
                self.latched_ = False
            return None
        self.normal_run_ = 0
        self.slow_cycles_ += 1
        if self.streak_start_ is None:
            self.streak_start_ = first_slow
        if self.latched_ or self.slow_cycles_ < p.drain_confirm_cycles:
            return None
        self.latched_ = True
        onset = self.streak_start_ if self.streak_start_ is not None else reading.ts
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=0.65 + 0.1 * min(self.slow_cycles_ - p.drain_confirm_cycles + 1, 2),
            summary=(
                f"Slow drains in {self.slow_cycles_} cycles in a row ({slow_drains} of "
                f"{drains} drains in the last"
                + (f", {rate:.1f} L/min" if rate is not None else "")
                + "): the drain filter or hose is clogging."
            ),
            evidence={
                **self._evidence(reading, onset, rate, None, stalled=False),
                "slow_drains_last_cycle": slow_drains,
                "drains_last_cycle": drains,
            },
        )

    def _evidence(
        self,
        reading: Reading,
        onset: float,
        rate: float | None,
        level: float | None,
        *,
        stalled: bool,
    ) -> dict[str, Any]:
        p = self.profile
        return {
            "metric": "water_level_l",
            "quantity": "drain rate with the pump running, L/min (normal: at least)",
            "baseline": None if self.normal_rate_ is None else round(self.normal_rate_, 1),
            "observed": None if rate is None else round(rate, 1),
            "delta": (
                None
                if rate is None or self.normal_rate_ is None
                else round(rate - self.normal_rate_, 1)
            ),
            "slow_below_lpm": p.drain_slow_lpm,
            "stalled": stalled,
            "level_at_drain_start_l": round(self.drain_from_, 1) if stalled else None,
            "level_held_l": level,
            "pump_reports": self.pump_reports_ if stalled else None,
            "slow_cycles_in_a_row": self.slow_cycles_ + (1 if stalled else 0),
            "window_start": onset,
            "window_end": reading.ts,
        }


class BearingWearDetector(_Detector):
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
        y, v = _log(amps), _log(g)
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
        level = ((prior * _log(model) if model is not None else 0.0) + s0 * own) / (prior + s0)
        return level + slope * x, cycle_sd * math.sqrt(1.0 + 1.0 / (prior + s0))

    def _normal_vibration(self) -> tuple[float, float]:
        """Normal log vibration at speed, and how far a normal cycle strays from it (sd)."""
        p = self.profile
        cycle_sd = p.bearing_vibration_cycle_spread
        prior = (cycle_sd / p.bearing_vibration_unit_spread) ** 2
        weight = prior + self.vibration_[1]
        level = (prior * math.log(p.bearing_normal_vibration_g) + self.vibration_[0]) / weight
        return level, cycle_sd * math.sqrt(1.0 + 1.0 / weight)


WASHER_DETECTORS = DetectorSet(
    profile_type=WasherProfile,
    detectors={
        "imbalance": ImbalanceDetector,
        "drain_blocked": DrainBlockedDetector,
        "bearing_wear": BearingWearDetector,
    },
    model_profiles=WASHER_MODEL_PROFILES,
)
