"""An anomaly: a detector's confirmed finding about one device, in event time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.faults import FaultCode, Severity


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A confirmed fault on a device.

    `detected_at` is the event time of the reading that confirmed it, `onset_at` the
    detector's estimate of when the fault began; `evidence` summarises the readings that
    moved (what, by how much, against which baseline); both it and `diagnosis` are
    JSON-serialisable.
    """

    device_id: str
    fault_code: FaultCode
    severity: Severity
    detected_at: float
    onset_at: float
    confidence: float
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    # The fault catalog entry (probable cause, recommended action, parts, skill,
    # repair minutes, customer advice), carried so field service needs no detector.
    diagnosis: Mapping[str, Any] = field(default_factory=dict)
