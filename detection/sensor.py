"""Sensor-health detectors for every device type: a stuck sensor and an impossible value.

`StuckSensorDetector` reports SENSOR_STUCK while a metric that should keep moving has not
changed for longer than its profile allows; `OutOfRangeDetector` reports
SENSOR_OUT_OF_RANGE for each reading with a physically impossible value. Both report the
raw condition on every reading; persistence and hysteresis come from the engine's alarm
hygiene (`detection/hygiene.py`). Limits live in `detection/profiles/health.py`.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from detection.catalog import diagnosis_for
from detection.profiles.health import HealthProfile
from domain import Anomaly, AnomalySource, FaultCode, Reading, Severity


class StuckSensorDetector:
    """A normally-varying metric frozen for too long.

    >>> from detection.profiles.health import HealthProfile, MetricSpec
    >>> profile = HealthProfile(metrics=(MetricSpec("t", -40, 70, stuck_after_s=3600),))
    >>> detector = StuckSensorDetector(profile)
    >>> found = [detector.update(Reading("d", 60.0 * i, i, {"t": 4.0 if i > 30 else i * 0.1}))
    ...          for i in range(120)]
    >>> first = next(a for a in found if a is not None)
    >>> first.fault_code.value, first.evidence["metric"], first.onset_at / 60
    ('SENSOR_STUCK', 't', 31.0)
    >>> first.detected_at / 60  # frozen since minute 31, an hour allowed
    91.0
    """

    fault_code: ClassVar[FaultCode] = FaultCode.SENSOR_STUCK
    severity: ClassVar[Severity] = Severity.MEDIUM

    def __init__(self, profile: HealthProfile) -> None:
        self.profile = profile
        self._specs = tuple(
            (i, s.name, s.tolerance, s.stuck_after_s or 0.0, s.moving_while, s.low, s.high)
            for i, s in enumerate(m for m in profile.metrics if m.stuck_after_s is not None)
        )
        n = len(self._specs)
        self.last_ts_: float | None = None
        self.values_: list[float | None] = [None] * n  # the value each metric sits at...
        self.since_: list[float] = [0.0] * n  # ...since when...
        self.held_: list[float] = [0.0] * n  # ...and for how much watched, active time
        self.cached_: Anomaly | None = None  # the finding while the same run lasts
        self.stuck_: tuple[str, ...] = ()  # metrics past their limit at the latest reading

    def update(self, reading: Reading) -> Anomaly | None:
        """The finding while some metric is stuck past its limit, else None."""
        ts = reading.ts
        last_ts = self.last_ts_
        if last_ts is not None and ts <= last_ts:
            return None
        self.last_ts_ = ts
        # Unwatched time proves nothing: a gap adds nothing to how long a value has held.
        dt = 0.0 if last_ts is None or ts - last_ts > self.profile.max_gap_s else ts - last_ts
        get = reading.metrics.get
        values, since, held = self.values_, self.since_, self.held_
        worst = -1
        worst_held = 0.0
        stuck: list[str] | None = None
        for i, name, tolerance, after, moving_while, low, high in self._specs:
            value = get(name)
            if value is None:
                continue
            last = values[i]
            # A value outside the physical range is a railed sensor: out of range, not stuck.
            if (
                last is None
                or not -tolerance <= value - last <= tolerance
                or not low <= value <= high
            ):
                values[i] = value
                since[i] = ts
                held[i] = 0.0
                continue
            # Only time in which the metric should have moved counts (a washer's water
            # level sits at 0 between washes).
            if moving_while is None or get(moving_while[0], 0.0) >= moving_while[1]:
                held[i] += dt
            if held[i] >= after:
                stuck = [name] if stuck is None else [*stuck, name]
                if held[i] > worst_held:
                    worst, worst_held = i, held[i]
        if worst < 0:
            self.cached_ = None
            self.stuck_ = ()
            return None
        self.stuck_ = tuple(stuck or ())
        cached = self.cached_
        name = self._specs[worst][1]
        if cached is not None and cached.evidence["metric"] == name:
            return cached
        self.cached_ = self._finding(reading, worst)
        return self.cached_

    def _finding(self, reading: Reading, i: int) -> Anomaly:
        _, name, tolerance, after, _, _, _ = self._specs[i]
        value = self.values_[i]
        since = self.since_[i]
        frozen_min = self.held_[i] / 60.0
        limit_min = after / 60.0
        return Anomaly(
            device_id=reading.device_id,
            fault_code=self.fault_code,
            severity=self.severity,
            detected_at=reading.ts,
            onset_at=since,
            confidence=round(min(0.99, 0.8 + 0.1 * (frozen_min / limit_min - 1.0)), 3),
            summary=(
                f"{name} has read {value} since {_clock(since)} ({frozen_min:.0f} min of "
                f"operation); it normally changes within {limit_min:.0f} min: the sensor is "
                "stuck."
            ),
            evidence={
                "source": AnomalySource.TELEMETRY.value,
                "metric": name,
                "observed": value,
                "baseline": f"changes by more than {tolerance} within {limit_min:.0f} min",
                "frozen_since": since,
                "frozen_for_min": round(frozen_min, 1),
                "normal_max_unchanged_min": round(limit_min, 1),
                "delta": 0.0,
                "window_start": since,
                "window_end": reading.ts,
            },
            diagnosis=diagnosis_for(self.fault_code),
        )

    def state(self) -> dict[str, Any]:
        return {
            "last_ts": self.last_ts_,
            "metrics": {
                spec[1]: [self.values_[i], self.since_[i], self.held_[i]]
                for i, spec in enumerate(self._specs)
            },
        }

    @classmethod
    def from_state(cls, profile: HealthProfile, state: Mapping[str, Any]) -> StuckSensorDetector:
        detector = cls(profile)
        detector.last_ts_ = state.get("last_ts")
        saved = state.get("metrics", {})
        for i, spec in enumerate(detector._specs):
            if spec[1] in saved:
                detector.values_[i], detector.since_[i], detector.held_[i] = saved[spec[1]]
        return detector


class OutOfRangeDetector:
    """A sensor railed at a value no working sensor can report (outside the metric's
    physical limits).

    An open or shorted sensor reads the end of its converter's scale, the same impossible
    value every time (or every time its loose connector lets go); a reading counts once
    it repeats an impossible value the metric has already shown. Impossible values that
    scatter are a noisy sensor, not a broken one: the fleet model's case.

    >>> from detection.profiles.health import HealthProfile, MetricSpec
    >>> detector = OutOfRangeDetector(HealthProfile(metrics=(MetricSpec("t", -35, 70),)))
    >>> detector.update(Reading("d", 0.0, 1, {"t": 4.0})) is None
    True
    >>> detector.update(Reading("d", 60.0, 2, {"t": -40.0})) is None  # once is not yet a rail
    True
    >>> a = detector.update(Reading("d", 120.0, 3, {"t": -40.0}))
    >>> a.fault_code.value, a.evidence["metric"], a.evidence["delta"], a.onset_at
    ('SENSOR_OUT_OF_RANGE', 't', -5.0, 60.0)
    """

    fault_code: ClassVar[FaultCode] = FaultCode.SENSOR_OUT_OF_RANGE
    severity: ClassVar[Severity] = Severity.MEDIUM

    def __init__(self, profile: HealthProfile) -> None:
        self.profile = profile
        self._limits = tuple((s.name, s.low, s.high, s.tolerance) for s in profile.metrics)
        # Fast path: every metric fetched in one C call and compared with map().
        names = tuple(s.name for s in profile.metrics)
        self._pick = operator.itemgetter(*names) if len(names) > 1 else None
        self._lows = tuple(s.low for s in profile.metrics)
        self._highs = tuple(s.high for s in profile.metrics)
        self.rail_: dict[str, list[float]] = {}  # metric -> [impossible value, first seen at]
        self.bad_: tuple[str, ...] = ()  # metrics out of range in the latest reading

    def update(self, reading: Reading) -> Anomaly | None:
        """The finding when this reading repeats an impossible value, else None.

        `bad_` names the metrics this reading has out of range (railed or not): the
        engine keeps them from the type detectors, whose physics they would mislead."""
        metrics = reading.metrics
        if self._pick is not None and not self.bad_:
            try:
                values = self._pick(metrics)
            except KeyError:
                pass  # a metric is missing: the careful path below
            else:
                if all(map(operator.le, self._lows, values)) and all(
                    map(operator.le, values, self._highs)
                ):
                    return None
        get = metrics.get
        found = None
        bad: list[str] | None = None
        for name, low, high, tolerance in self._limits:
            value = get(name)
            if value is not None and not low <= value <= high:
                bad = [name] if bad is None else [*bad, name]
                rail = self.rail_.get(name)
                if rail is not None and -tolerance <= value - rail[0] <= tolerance:
                    if found is None:
                        found = self._finding(reading, name, value, low, high, rail[1])
                else:
                    self.rail_[name] = [value, reading.ts]
        self.bad_ = () if bad is None else tuple(bad)
        return found

    def _finding(
        self, reading: Reading, name: str, value: float, low: float, high: float, since: float
    ) -> Anomaly:
        bound = low if value < low else high
        return Anomaly(
            device_id=reading.device_id,
            fault_code=self.fault_code,
            severity=self.severity,
            detected_at=reading.ts,
            onset_at=since,
            confidence=0.95,
            summary=(
                f"{name} reads {value} again, outside what the sensor can physically report "
                f"({low} to {high}): open or shorted sensor or wiring."
            ),
            evidence={
                "source": AnomalySource.TELEMETRY.value,
                "metric": name,
                "observed": value,
                "baseline": [low, high],
                "delta": round(value - bound, 3),
                "first_seen_at": since,
                "window_start": since,
                "window_end": reading.ts,
            },
            diagnosis=diagnosis_for(self.fault_code),
        )

    def state(self) -> dict[str, Any]:
        return {"rail": {k: list(v) for k, v in self.rail_.items()}}

    @classmethod
    def from_state(cls, profile: HealthProfile, state: Mapping[str, Any]) -> OutOfRangeDetector:
        detector = cls(profile)
        detector.rail_ = {
            str(k): [float(v[0]), float(v[1])] for k, v in state.get("rail", {}).items()
        }
        return detector


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")
