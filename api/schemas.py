"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api.params import ID_PATTERN, Day
from domain.devices import CustomerTier, DeviceInfo, DeviceType, Location
from storage.models import DeadLetterRow


def _integral(value: Any) -> Any:
    """JSON has one number type: 6.0 is the integer 6 (a string or 6.5 is still refused)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# After an `int` field that is `strict` (no strings, no booleans): a JSON number with no
# fraction is an integer. Placed after the bounds, so they stay in the JSON Schema.
INTEGRAL = BeforeValidator(_integral)


class LocationIn(BaseModel):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, strict=True)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, strict=True)


class DeviceIn(BaseModel):
    """`POST /devices`."""

    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
    type: DeviceType
    model: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(min_length=1, max_length=128)
    location: LocationIn
    serial: str | None = None
    production_batch: str | None = None
    firmware: str | None = None
    install_date: Day | None = None
    customer_tier: CustomerTier = CustomerTier.STANDARD

    def to_domain(self) -> DeviceInfo:
        return DeviceInfo(
            device_id=self.device_id,
            type=self.type,
            model=self.model,
            customer_id=self.customer_id,
            location=Location(self.location.lat, self.location.lon),
            serial=self.serial,
            production_batch=self.production_batch,
            firmware=self.firmware,
            install_date=self.install_date,
            customer_tier=self.customer_tier,
        )


class MqttCredentials(BaseModel):
    """A device's broker identity: shown when issued, never again."""

    username: str
    password: str


class DeviceOut(BaseModel):
    device_id: str
    type: DeviceType
    model: str
    customer_id: str
    location: LocationIn
    serial: str | None
    production_batch: str | None
    firmware: str | None
    install_date: date | None
    customer_tier: CustomerTier
    # Only in the answer to `POST /devices`, when device identity is on.
    mqtt: MqttCredentials | None = None

    @classmethod
    def of(cls, info: DeviceInfo) -> DeviceOut:
        return cls(
            device_id=info.device_id,
            type=info.type,
            model=info.model,
            customer_id=info.customer_id,
            location=LocationIn(lat=info.location.lat, lon=info.location.lon),
            serial=info.serial,
            production_batch=info.production_batch,
            firmware=info.firmware,
            install_date=info.install_date,
            customer_tier=info.customer_tier,
        )


class ReadingOut(BaseModel):
    ts: float
    seq: int
    metrics: dict[str, float]


class AnomalyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    device_id: str
    fault_code: str
    severity: int
    detected_at: float
    onset_at: float
    confidence: float
    summary: str
    evidence: dict[str, Any]
    ticket_id: int | None


class TicketEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: float | datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None
    data: dict[str, Any] | None


class SlaOut(BaseModel):
    respond_by: float | datetime | None
    resolve_by: float | datetime | None


class TicketOut(BaseModel):
    id: int
    device_id: str
    fault_code: str
    severity: int
    status: str
    opened_at: float | datetime
    updated_at: float | datetime | None
    detected_at: float
    onset_at: float
    last_detected_at: float | None
    occurrences: int
    diagnosis: dict[str, Any]
    technician_id: str | None
    sla: SlaOut
    timeline: list[TicketEventOut]


class DeadLetterOut(BaseModel):
    """A message ingest rejected, as lists show it: no payload bytes, only their size and hash."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    received_at: float
    topic: str
    device_id: str | None
    reason: str
    detail: str
    payload_bytes: int
    payload_sha256: str


class DeadLetterDetailOut(DeadLetterOut):
    """One dead letter with the first bytes of its payload, as stored (base64)."""

    payload_prefix_b64: str
    payload_truncated: bool

    @classmethod
    def of(cls, row: DeadLetterRow) -> DeadLetterDetailOut:
        prefix = bytes(row.payload_prefix)
        return cls(
            **DeadLetterOut.model_validate(row).model_dump(),
            payload_prefix_b64=base64.b64encode(prefix).decode(),
            payload_truncated=len(prefix) < row.payload_bytes,
        )
