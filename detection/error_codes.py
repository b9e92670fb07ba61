"""APPLIANCE_ERROR_CODE: error codes appliances report on their events topic, looked up in
the device type's code table (`detection/profiles/error_codes.py`).

A code that proves a specific fault is raised under that fault's code (so it joins that
fault's one alarm stream); any other actionable code, and any code the table does not
know, is raised as APPLIANCE_ERROR_CODE. Informational codes raise nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from detection.catalog import diagnosis_for
from detection.profiles.error_codes import ErrorCode
from domain import Anomaly, AnomalySource, FaultCode, Severity
from domain.wire import ApplianceEvent


class ErrorCodeDetector:
    """Turns one device's error-code events into findings.

    >>> from detection.profiles.error_codes import ERROR_CODES
    >>> from domain import DeviceType
    >>> detector = ErrorCodeDetector(ERROR_CODES[DeviceType.WASHER])
    >>> a = detector.update_event(ApplianceEvent("w-1", 100.0, "E-OE", "drain error"))
    >>> a.fault_code.value, a.evidence["code"], a.severity.label
    ('WASHER_DRAIN_BLOCKED', 'E-OE', 'medium')
    >>> detector.update_event(ApplianceEvent("w-1", 200.0, "X99", "")).fault_code.value
    'APPLIANCE_ERROR_CODE'
    """

    def __init__(self, table: Mapping[str, ErrorCode]) -> None:
        self.table = table
        self.counts_: dict[str, int] = {}  # occurrences of each code on this device
        self.first_at_: dict[str, float] = {}

    def update_event(self, event: ApplianceEvent) -> Anomaly | None:
        """The finding one event carries, or None for an informational code."""
        known = self.table.get(event.code)
        if known is not None and not known.actionable:
            return None
        count = self.counts_.get(event.code, 0) + 1
        self.counts_[event.code] = count
        first = self.first_at_.setdefault(event.code, event.ts)
        code = known.fault if known is not None and known.fault is not None else None
        fault = code or FaultCode.APPLIANCE_ERROR_CODE
        meaning = known.meaning if known is not None else "code not in this type's table"
        severity = known.severity if known is not None else Severity.MEDIUM
        detail = f": {event.message}" if event.message else ""
        return Anomaly(
            device_id=event.device_id,
            fault_code=fault,
            severity=severity,
            detected_at=event.ts,
            onset_at=event.ts,
            confidence=0.9 if known is not None else 0.6,
            summary=f"The appliance reported error {event.code} ({meaning}){detail}.",
            evidence={
                "source": AnomalySource.ERROR_CODE.value,
                "metric": "error_code",
                "observed": event.code,
                "baseline": "no error codes",
                "delta": count,
                "code": event.code,
                "message": event.message,
                "meaning": meaning,
                "known_code": known is not None,
                "occurrences": count,
                "first_reported_at": first,
            },
            diagnosis=diagnosis_for(fault),
        )

    def state(self) -> dict[str, Any]:
        return {"counts": dict(self.counts_), "first_at": dict(self.first_at_)}

    @classmethod
    def from_state(
        cls, table: Mapping[str, ErrorCode], state: Mapping[str, Any]
    ) -> ErrorCodeDetector:
        detector = cls(table)
        detector.counts_ = {str(k): int(v) for k, v in state.get("counts", {}).items()}
        detector.first_at_ = {str(k): float(v) for k, v in state.get("first_at", {}).items()}
        return detector
