"""What the washer detectors share: the cycle phases washers report and the base that
keeps event-time order and the previous report (see `detection/washer.py`)."""

from __future__ import annotations

import math
from enum import IntEnum

from detection.detector_base import ProfiledDetector
from detection.profiles import WasherProfile
from domain import Anomaly, Reading


class Phase(IntEnum):
    """`cycle_phase` as washers send it (DESIGN.md)."""

    IDLE = 0
    FILL = 1
    WASH = 2
    RINSE = 3
    SPIN = 4
    DRAIN = 5
    HALTED = 9  # stopped by the appliance (e.g. a drain timeout)


class WasherDetector(ProfiledDetector[WasherProfile]):
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

    def _spinning(self, phase: int, rpm: float) -> bool:
        """In a spin by the phase or by the drum: firmware differs in when it reports the
        spin phase, but no wash, rinse or drain turns the drum past the distribution speed."""
        return phase == Phase.SPIN or rpm >= self.profile.spin_detect_rpm

    def _spin_ended(self, phase: int, rpm: float) -> bool:
        return self._spinning(self.prev_phase_, self.prev_rpm_) and not self._spinning(phase, rpm)

    def _at_speed(self, phase: int, rpm: float) -> bool:
        """A whole report interval spinning at a steady speed (no ramp or brake in it),
        judged by the drum whatever the phase says."""
        p = self.profile
        return (
            rpm >= p.plateau_min_rpm
            and self.prev_rpm_ >= p.plateau_min_rpm
            and abs(rpm - self.prev_rpm_) <= p.plateau_tolerance * rpm
        )


def log_floor(x: float) -> float:
    """log(x), with x floored at 1e-6 (a zero current or vibration stays finite)."""
    return math.log(max(x, 1e-6))
