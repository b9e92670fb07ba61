"""DEVICE_OFFLINE in event time: the fleet's watermark, and when a device's silence is a fault.

The fleet watermark is the event time the fleet as a whole has reached: the k-th latest
"last reading" across devices, so one device whose clock runs ahead cannot drag it into
the future (and mark every other device offline). A device is offline once the
watermark has moved past the moment it was last heard by more than its profile's
`offline_after_s` and several of its own typical intervals between readings (a daily
reporter is not offline after half an hour), or sooner after its MQTT last will
(`offline` status). It clears on the device's next reading.
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Mapping
from typing import Any, ClassVar

from detection.catalog import diagnosis_for
from detection.profiles.health import HealthProfile
from domain import Anomaly, AnomalySource, FaultCode, Severity

NEVER = float("-inf")


class FleetWatermark:
    """The fleet's event time: the k-th largest device clock, k = 1 + n_devices // 100
    (at least 2 once there are three devices to compare).

    Devices report through `ahead` (the engine writes `ahead[device_id] = ts` for any
    reading newer than `value`); `advance` folds them in, so each reading costs one dict
    store and each batch one partial sort of the devices that moved.

    >>> wm = FleetWatermark()
    >>> wm.ahead.update({"a": 100.0, "b": 101.0, "skewed": 90_000.0})
    >>> wm.advance(devices=3)  # the skewed clock is not the fleet's
    101.0
    """

    __slots__ = ("ahead", "value")

    def __init__(self, value: float = NEVER) -> None:
        self.value = value
        self.ahead: dict[str, float] = {}

    @staticmethod
    def rank(devices: int) -> int:
        # With two devices there is no telling which clock is wrong: trust the newest.
        if devices <= 2:
            return 1
        return max(2, 1 + devices // 100)

    def advance(self, *, devices: int) -> float:
        ahead = self.ahead
        k = self.rank(devices)
        if len(ahead) >= k:
            kth = heapq.nlargest(k, ahead.values())[-1]
            if kth > self.value:
                self.value = kth
                self.ahead = {d: ts for d, ts in ahead.items() if ts > kth}
        return self.value

    def state(self) -> dict[str, Any]:
        return {"value": None if self.value == NEVER else self.value, "ahead": dict(self.ahead)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> FleetWatermark:
        value = state.get("value")
        watermark = cls(NEVER if value is None else float(value))
        watermark.ahead = {str(k): float(v) for k, v in state.get("ahead", {}).items()}
        return watermark


class OfflineDetector:
    """Judges one device's silence against the fleet watermark.

    >>> from detection.profiles.health import HealthProfile
    >>> detector = OfflineDetector(HealthProfile(metrics=(), offline_after_s=1800))
    >>> for ts in (880.0, 940.0, 1000.0):  # a reading a minute
    ...     detector.heard(ts)
    >>> detector.check("d", heard_at=1000.0, watermark=2000.0) is None
    True
    >>> a = detector.check("d", heard_at=1000.0, watermark=3000.0)
    >>> a.fault_code.value, a.onset_at, a.evidence["silent_for_min"]
    ('DEVICE_OFFLINE', 1000.0, 33.3)
    >>> daily = OfflineDetector(HealthProfile(metrics=(), offline_after_s=1800))
    >>> for day in range(3):  # a reading a day: silent for a day is its normal
    ...     daily.heard(86400.0 * day)
    >>> daily.check("d", heard_at=172800.0, watermark=172800.0 + 86400.0) is None
    True
    >>> daily.check("d", heard_at=172800.0, watermark=172800.0 + 4 * 86400.0) is not None
    True
    """

    fault_code: ClassVar[FaultCode] = FaultCode.DEVICE_OFFLINE
    severity: ClassVar[Severity] = Severity.LOW

    def __init__(self, profile: HealthProfile) -> None:
        self.profile = profile
        # The broker delivered the device's last will when it was last heard at this
        # time; a reading heard later supersedes it.
        self.will_at_: float | None = None
        self.last_ts_: float | None = None  # the device's newest reading
        self.intervals_: list[float] = []  # its last intervals between readings

    def heard(self, ts: float) -> None:
        """A reading at event time `ts`: learn the device's cadence."""
        last = self.last_ts_
        if last is not None and ts <= last:
            return
        self.last_ts_ = ts
        if last is None:
            return
        intervals = self.intervals_
        intervals.append(ts - last)
        if len(intervals) > self.profile.offline_cadence_window:
            del intervals[0]

    @property
    def silence_limit(self) -> float:
        """The silence that makes the device offline (infinite before a cadence is known);
        worked out when asked (at the engine's periodic scan), not per reading."""
        p = self.profile
        if len(self.intervals_) < p.offline_min_intervals:
            return float("inf")
        typical = statistics.median(self.intervals_)
        return max(p.offline_after_s, p.offline_cadence_factor * typical)

    @property
    def min_limit(self) -> float:
        """The shortest silence that can make it offline (with or without a last will)."""
        return min(self.silence_limit, self.profile.offline_will_grace_s)

    def status(self, online: bool, *, heard_at: float) -> None:
        self.will_at_ = None if online else heard_at

    def check(self, device_id: str, *, heard_at: float, watermark: float) -> Anomaly | None:
        """The finding if the device counts as offline at `watermark`, else None."""
        p = self.profile
        silent = watermark - heard_at
        will = self.will_at_ is not None and heard_at <= self.will_at_
        limit = p.offline_will_grace_s if will else self.silence_limit
        if silent <= limit:
            return None
        return Anomaly(
            device_id=device_id,
            fault_code=self.fault_code,
            severity=self.severity,
            detected_at=watermark,
            onset_at=heard_at,
            confidence=0.95 if will else round(min(0.95, 0.7 + 0.05 * silent / limit), 3),
            summary=(
                f"No telemetry for {silent / 60:.0f} min while the rest of the fleet kept "
                f"reporting" + (" (the device's connection dropped)." if will else ".")
            ),
            evidence={
                "source": AnomalySource.TELEMETRY.value,
                "metric": "last_reading_ts",
                "observed": heard_at,
                "baseline": watermark,
                "delta": round(-silent, 1),
                "silent_for_min": round(silent / 60, 1),
                "normal_max_silence_min": round(limit / 60, 1),
                "last_will": will,
                "window_start": heard_at,
                "window_end": watermark,
            },
            diagnosis=diagnosis_for(self.fault_code),
        )

    def state(self) -> dict[str, Any]:
        return {"will_at": self.will_at_, "last_ts": self.last_ts_, "intervals": self.intervals_}

    @classmethod
    def from_state(cls, profile: HealthProfile, state: Mapping[str, Any]) -> OfflineDetector:
        detector = cls(profile)
        detector.will_at_ = state.get("will_at")
        detector.last_ts_ = state.get("last_ts")
        detector.intervals_ = [float(x) for x in state.get("intervals", [])]
        return detector
