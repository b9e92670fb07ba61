"""WASHER_DRAIN_BLOCKED: water that leaves too slowly, or not at all, with the pump running."""

from __future__ import annotations

from typing import Any

from detection.profiles import WasherProfile
from detection.washer_base import Phase, WasherDetector
from domain import Anomaly, FaultCode, Reading, Severity


class DrainBlockedDetector(WasherDetector):
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
        # Firmware differs in when it reports the drain phase: the pump running (outside a
        # fill) is a drain whatever the phase says.
        # (A spinning drum with the pump on is water thrown out of the laundry, not a drain.)
        drum_still = not self._spinning(phase, rpm)
        if phase == Phase.DRAIN or (pumping and drum_still and phase != Phase.FILL):
            self.in_cycle_ = True
            found = self._draining(reading, level, pumping, phase)
        elif self.drain_start_ is not None:
            # The pump has stopped and the phase moved on (idle, halted, anything): if the
            # water is still in, the controller gave up on the drain.
            found = self._stall(reading, level, phase)
            self._end_drain()
        if phase == Phase.IDLE and self.in_cycle_:
            found = self._end_cycle(reading) or found
        elif phase != Phase.IDLE:
            self.in_cycle_ = True
        self.prev_level_, self.prev_pump_ = level, pumping
        return found

    def _draining(self, reading: Reading, level: float, pumping: int, phase: int) -> Anomaly | None:
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
        return self._stall(reading, level, phase)

    def _stall(self, reading: Reading, level: float, phase: int) -> Anomaly | None:
        """The pump has stopped on a drain: with the water still in after pumping for a
        while (or with the appliance reporting it halted), the drain is blocked."""
        p = self.profile
        pumped_enough = self.pump_reports_ >= p.drain_stall_pump_reports or (
            phase == Phase.HALTED and self.pump_reports_ > 0
        )
        # A drain that works empties the drum before the pump stops; one that never got it
        # empty and stopped with the water in (not being added: no fill) gave up.
        stalled = (
            self.drain_start_ is not None
            and self.stalled_at_ is None
            and self.dry_within_s_ is None
            and level >= p.drain_stall_level_l
            and (self.prev_level_ is None or level <= self.prev_level_ + p.drain_empty_l)
            and pumped_enough
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
