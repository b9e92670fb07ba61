"""An anomaly: a detector's confirmed finding about one device, in event time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.faults import FaultCode, Severity


class AnomalySource(StrEnum):
    """What raised an anomaly: a per-device detector on the readings, the appliance's own
    error code, or the fleet model comparing a unit with its peers. Carried in
    `evidence["source"]`, so it survives every store and API that keeps the evidence."""

    TELEMETRY = "telemetry"
    ERROR_CODE = "error_code"
    FLEET_MODEL = "fleet_model"


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A confirmed fault on a device.

    `detected_at` is the event time of the reading that confirmed it, `onset_at` the
    detector's estimate of when the fault began; `evidence` summarises the readings that
    moved (what, by how much, against which baseline) and, under `"source"`, what raised
    it (an `AnomalySource` value); both it and `diagnosis` are JSON-serialisable.
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


def source_of(anomaly: Anomaly) -> AnomalySource:
    """The anomaly's source (`telemetry` for one recorded before sources were kept)."""
    return AnomalySource(anomaly.evidence.get("source", AnomalySource.TELEMETRY.value))
