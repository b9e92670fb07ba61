"""Alarm hygiene: the rules that turn detector findings into one clean alarm stream per
device and fault — persistence (N of M), hysteresis, cooldown and severity escalation.

The engine puts an `AlarmStream` around every (device, fault code) and feeds it whatever
the detectors say; only the stream decides when an `Anomaly` leaves the engine. The rules
are data (`AlarmPolicy`), one per fault code, overridable per engine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain import Anomaly, FaultCode, Severity

HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class AlarmPolicy:
    """How findings about one fault become alarms.

    - persistence: an episode opens once `confirm_n` of the last `confirm_m` evaluations
      found the fault (a detector that confirms and latches by itself uses 1 of 1);
    - hysteresis: an open episode closes only after `clear_hold_s` of event time with no
      finding (and, for latching detectors, with the latch released);
    - cooldown: a recurrence within `cooldown_s` of the close continues the old episode
      and raises no new alarm;
    - escalation: while open, a finding of higher severity is re-announced; and every
      `escalate_every_s` the episode lasts, severity rises one step up to `max_severity`;
    - `event_hold_s`: a finding that comes from a one-off event (an error code) counts as
      present this long after it.
    """

    confirm_n: int = 1
    confirm_m: int = 1
    clear_hold_s: float = 0.0
    cooldown_s: float = 6 * HOUR_S
    escalate_every_s: float | None = None
    max_severity: Severity = Severity.CRITICAL
    # Appliances repeat an error code while the fault lasts (at least daily): a day and
    # an hour of silence ends it.
    event_hold_s: float = 25 * HOUR_S

    def __post_init__(self) -> None:
        if not 1 <= self.confirm_n <= self.confirm_m <= 64:
            raise ValueError(
                f"persistence needs 1 <= confirm_n <= confirm_m <= 64, "
                f"got {self.confirm_n} of {self.confirm_m}"
            )
        if self.clear_hold_s < 0 or self.cooldown_s < 0 or self.event_hold_s < 0:
            raise ValueError("clear_hold_s, cooldown_s and event_hold_s must be >= 0")
        if self.escalate_every_s is not None and self.escalate_every_s <= 0:
            raise ValueError(f"escalate_every_s must be positive, got {self.escalate_every_s}")


# Defaults per fault code. Detectors that confirm by themselves (the type detectors) keep
# 1 of 1; raw per-reading conditions get persistence here instead.
DEFAULT_POLICY = AlarmPolicy()
DEFAULT_POLICIES: dict[FaultCode, AlarmPolicy] = {
    # One glitch is not a broken sensor: 3 of the last 5 readings out of range.
    FaultCode.SENSOR_OUT_OF_RANGE: AlarmPolicy(
        confirm_n=3, confirm_m=5, clear_hold_s=1 * HOUR_S, cooldown_s=12 * HOUR_S
    ),
    # Stuck has its own duration rule; a moment of movement must not end the episode.
    FaultCode.SENSOR_STUCK: AlarmPolicy(clear_hold_s=30 * 60.0, cooldown_s=12 * HOUR_S),
    # The silence threshold is already the hysteresis; a device back for a quarter of an
    # hour and gone again is a new outage. Still offline a day later: the customer has
    # not noticed, raise it.
    FaultCode.DEVICE_OFFLINE: AlarmPolicy(
        cooldown_s=15 * 60.0, escalate_every_s=24 * HOUR_S, max_severity=Severity.MEDIUM
    ),
    # An error code is an event: it stands for a while, repeats extend it.
    FaultCode.APPLIANCE_ERROR_CODE: AlarmPolicy(cooldown_s=12 * HOUR_S),
    # Evaluated once an hour: 4 abnormal hours out of the last 6.
    FaultCode.UNCLASSIFIED_ANOMALY: AlarmPolicy(
        confirm_n=4, confirm_m=6, clear_hold_s=6 * HOUR_S, cooldown_s=24 * HOUR_S
    ),
}


def policy_for(
    code: FaultCode, overrides: Mapping[FaultCode, AlarmPolicy] | None = None
) -> AlarmPolicy:
    """The policy in force for `code`: the override, else the default."""
    if overrides and code in overrides:
        return overrides[code]
    return DEFAULT_POLICIES.get(code, DEFAULT_POLICY)


class AlarmStream:
    """The alarm state of one device and one fault code.

    `observe` is called with each evaluation's finding (or None) and returns the anomaly
    to publish, if any: the opening of an episode, or its escalation. `busy` is False
    while nothing is pending, so the engine can skip idle streams on its hot path.

    >>> from domain import FaultCode, Severity
    >>> stream = AlarmStream(FaultCode.SENSOR_OUT_OF_RANGE, AlarmPolicy(confirm_n=2, confirm_m=3))
    >>> a = Anomaly("d", FaultCode.SENSOR_OUT_OF_RANGE, Severity.MEDIUM, 0.0, 0.0, 0.9, "hot")
    >>> [stream.observe(ts, a if ts != 1 else None) is not None for ts in range(4)]
    [False, False, True, False]
    """

    __slots__ = (
        "_mask",
        "closed_at",
        "code",
        "escalated_at",
        "event_until",
        "is_open",
        "last",
        "last_present_at",
        "onset",
        "opened_at",
        "policy",
        "severity",
        "window",
    )

    def __init__(self, code: FaultCode, policy: AlarmPolicy) -> None:
        self.code = code
        self.policy = policy
        self._mask = (1 << policy.confirm_m) - 1
        self.window = 0  # bit i: a finding i evaluations ago
        self.onset: float | None = None  # earliest onset among the findings in the window
        self.is_open = False
        self.opened_at: float | None = None
        self.last_present_at: float | None = None
        self.closed_at: float | None = None
        self.severity = 0
        self.escalated_at: float | None = None
        self.event_until = float("-inf")
        self.last: Anomaly | None = None  # what was last announced

    @property
    def busy(self) -> bool:
        return self.is_open or self.window != 0

    def observe(
        self, ts: float, finding: Anomaly | None, latched: bool = False, *, event: bool = False
    ) -> Anomaly | None:
        """One evaluation at event time `ts`; `latched` says a self-confirming detector
        still holds its fault; `event` marks a finding from a one-off event."""
        p = self.policy
        if finding is not None and event:
            self.event_until = max(self.event_until, ts + p.event_hold_s)
        present = finding is not None or latched or ts < self.event_until
        if self.is_open:
            if not present:
                if self.last_present_at is None or ts - self.last_present_at >= p.clear_hold_s:
                    self._close(ts)
                return None
            self.last_present_at = ts
            return self._escalate(ts, finding)
        window = ((self.window << 1) | present) & self._mask
        self.window = window
        if not window:
            self.onset = None
            return None
        if finding is not None and (self.onset is None or finding.onset_at < self.onset):
            self.onset = finding.onset_at
        if finding is None or window.bit_count() < p.confirm_n:
            return None
        return self._open(ts, finding)

    def tick(self, ts: float) -> Anomaly | None:
        """Time passing with nothing to evaluate (the engine's periodic scan, for streams
        no per-reading detector feeds): an event's hold running out closes the episode."""
        if not self.is_open:
            return None
        return self.observe(ts, None)

    def close(self, ts: float) -> None:
        """End the open episode now (the fault's source says it is over)."""
        if self.is_open:
            self._close(ts)

    def _open(self, ts: float, finding: Anomaly) -> Anomaly | None:
        p = self.policy
        self.is_open = True
        self.last_present_at = ts
        self.window = 0
        onset = finding.onset_at if self.onset is None else min(self.onset, finding.onset_at)
        self.onset = None
        if self.closed_at is not None and ts - self.closed_at < p.cooldown_s:
            # A recurrence inside the cooldown: the same episode carries on, silently.
            return None
        self.opened_at = ts
        self.escalated_at = ts
        self.severity = int(finding.severity)
        announced = self._announce(finding, ts, onset=onset, update="opened")
        return announced

    def _escalate(self, ts: float, finding: Anomaly | None) -> Anomaly | None:
        p = self.policy
        if finding is not None and int(finding.severity) > self.severity:
            self.severity = int(finding.severity)
            self.escalated_at = ts
            return self._announce(finding, ts, onset=None, update="escalated")
        if (
            p.escalate_every_s is not None
            and self.last is not None
            and self.escalated_at is not None
            and self.severity < int(p.max_severity)
            and ts - self.escalated_at >= p.escalate_every_s
        ):
            self.severity += 1
            self.escalated_at = ts
            return self._announce(self.last, ts, onset=None, update="escalated")
        return None

    def _announce(
        self, finding: Anomaly, ts: float, *, onset: float | None, update: str
    ) -> Anomaly:
        opened_at = self.opened_at if self.opened_at is not None else ts
        evidence = dict(finding.evidence)
        evidence["alarm"] = {
            "update": update,
            "episode_opened_at": opened_at,
            "persistence": f"{self.policy.confirm_n} of {self.policy.confirm_m}",
        }
        anomaly = dataclasses.replace(
            finding,
            severity=Severity(self.severity),
            detected_at=ts,
            onset_at=finding.onset_at if onset is None else onset,
            evidence=evidence,
        )
        self.last = anomaly
        return anomaly

    def _close(self, ts: float) -> None:
        self.is_open = False
        self.closed_at = ts
        self.window = 0
        self.onset = None
        self.event_until = float("-inf")

    # -- hand-off ---------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """JSON-ready; `from_state` resumes from it."""
        return {
            "window": self.window,
            "onset": self.onset,
            "open": self.is_open,
            "opened_at": self.opened_at,
            "last_present_at": self.last_present_at,
            "closed_at": self.closed_at,
            "severity": self.severity,
            "escalated_at": self.escalated_at,
            "event_until": None if self.event_until == float("-inf") else self.event_until,
            "last": None if self.last is None else anomaly_to_dict(self.last),
        }

    @classmethod
    def from_state(
        cls, code: FaultCode, policy: AlarmPolicy, state: Mapping[str, Any]
    ) -> AlarmStream:
        stream = cls(code, policy)
        stream.window = int(state.get("window", 0)) & stream._mask
        stream.onset = state.get("onset")
        stream.is_open = bool(state.get("open", False))
        stream.opened_at = state.get("opened_at")
        stream.last_present_at = state.get("last_present_at")
        stream.closed_at = state.get("closed_at")
        stream.severity = int(state.get("severity", 0))
        stream.escalated_at = state.get("escalated_at")
        until = state.get("event_until")
        stream.event_until = float("-inf") if until is None else float(until)
        last = state.get("last")
        stream.last = None if last is None else anomaly_from_dict(last)
        return stream


def anomaly_to_dict(anomaly: Anomaly) -> dict[str, Any]:
    """An anomaly as JSON-ready data (for state hand-off)."""
    return {
        "device_id": anomaly.device_id,
        "fault_code": anomaly.fault_code.value,
        "severity": int(anomaly.severity),
        "detected_at": anomaly.detected_at,
        "onset_at": anomaly.onset_at,
        "confidence": anomaly.confidence,
        "summary": anomaly.summary,
        "evidence": dict(anomaly.evidence),
        "diagnosis": dict(anomaly.diagnosis),
    }


def anomaly_from_dict(row: Mapping[str, Any]) -> Anomaly:
    return Anomaly(
        device_id=str(row["device_id"]),
        fault_code=FaultCode(row["fault_code"]),
        severity=Severity(int(row["severity"])),
        detected_at=float(row["detected_at"]),
        onset_at=float(row["onset_at"]),
        confidence=float(row["confidence"]),
        summary=str(row["summary"]),
        evidence=dict(row.get("evidence", {})),
        diagnosis=dict(row.get("diagnosis", {})),
    )
