"""Request and response bodies for field service: technicians, customers, work orders,
ticket status changes, alerts, and the ticket's assignment/work order/SLA view."""

from __future__ import annotations

import re
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from api.schemas import LocationIn, SlaOut, TicketOut
from domain.devices import DeviceType
from fieldservice import sla, technicians, work_orders
from fieldservice.customers import CustomerIn as CustomerInput
from fieldservice.technicians import TechnicianIn as TechnicianInput
from storage.models import (
    CustomerRow,
    NotificationRow,
    TechnicianRow,
    TicketRow,
    TicketStatus,
    WorkOrderRow,
)

Identifier = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
# zh is Simplified Chinese (zh-CN, also accepted and stored as zh).
Language = Literal["en", "zh", "ja"]
SKILLS = {t.value for t in DeviceType} | {"any"}
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def _minutes(value: str) -> int:
    match = _CLOCK.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a time of day like '08:30'")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > 24 * 60:
        raise ValueError(f"{value!r} is past midnight")
    return minutes


def _language(value: object) -> object:
    """`zh-CN` (and `zh-Hans`) name the Simplified Chinese Faultline stores as `zh`."""
    return "zh" if value in ("zh-CN", "zh-Hans", "zh-cn") else value


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class WorkingHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = "08:00"
    end: str = "18:00"
    weekdays: list[int] = Field(default=[0, 1, 2, 3, 4, 5], description="Monday is 0")
    utc_offset_minutes: int = Field(default=480, ge=-720, le=840)

    @field_validator("start", "end")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        _minutes(value)
        return value

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(day not in range(7) for day in value):
            raise ValueError("weekdays must be a non-empty list of 0 (Monday) … 6 (Sunday)")
        return sorted(set(value))

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if _minutes(self.end) <= _minutes(self.start):
            raise ValueError(f"working hours end ({self.end}) must be after start ({self.start})")
        return self


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = None
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")


class TechnicianIn(BaseModel):
    """`POST /technicians`."""

    model_config = ConfigDict(extra="forbid")

    technician_id: str = Identifier
    name: str = Field(min_length=1, max_length=128)
    skills: list[str] = Field(min_length=1)
    base: LocationIn
    radius_km: float = Field(gt=0, le=500)
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    daily_capacity: int = Field(default=6, ge=1, le=50)
    contact: Contact = Field(default_factory=Contact)
    language: Language = "en"
    active: bool = True

    _zh_cn = field_validator("language", mode="before")(_language)

    @field_validator("skills")
    @classmethod
    def _known_skills(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - SKILLS)
        if unknown:
            raise ValueError(f"unknown skills {unknown}; use device types {sorted(SKILLS)}")
        return value

    def to_input(self) -> TechnicianInput:
        start, end = _minutes(self.working_hours.start), _minutes(self.working_hours.end)
        return TechnicianInput(
            technician_id=self.technician_id,
            name=self.name,
            skills=tuple(self.skills),
            base_lat=self.base.lat,
            base_lon=self.base.lon,
            radius_km=self.radius_km,
            shift_start_min=start,
            shift_end_min=end,
            workdays=tuple(self.working_hours.weekdays),
            utc_offset_min=self.working_hours.utc_offset_minutes,
            daily_capacity=self.daily_capacity,
            email=self.contact.email,
            phone=self.contact.phone,
            webhook_url=self.contact.webhook_url,
            language=self.language,
            active=self.active,
        )


class TechnicianOut(BaseModel):
    technician_id: str
    name: str
    skills: list[str]
    base: LocationIn
    radius_km: float
    working_hours: WorkingHours
    daily_capacity: int
    contact: Contact
    language: str
    active: bool
    next_shift: dict[str, Any] | None

    @classmethod
    def of(cls, row: TechnicianRow) -> TechnicianOut:
        shift = technicians.next_shift(row, time.time())
        return cls(
            technician_id=row.technician_id,
            name=row.name,
            skills=list(row.skills),
            base=LocationIn(lat=row.base_lat, lon=row.base_lon),
            radius_km=row.radius_km,
            working_hours=WorkingHours(
                start=_clock(row.shift_start_min),
                end=_clock(row.shift_end_min),
                weekdays=list(row.workdays) or [0, 1, 2, 3, 4, 5],
                utc_offset_minutes=row.utc_offset_min,
            ),
            daily_capacity=row.daily_capacity,
            contact=Contact(email=row.email, phone=row.phone, webhook_url=row.webhook_url),
            language=row.language,
            active=row.active,
            next_shift=None
            if shift is None
            else {"day": shift.day, "start": shift.start, "end": shift.end},
        )


class TimeWindow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekdays: list[int] = Field(default=[0, 1, 2, 3, 4, 5, 6])
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        _minutes(value)
        return value


class CustomerIn(BaseModel):
    """`PUT /customers/{customer_id}`: contact, language, channels, when a visit suits."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = None
    language: Language = "en"
    channels: list[Literal["email", "webhook", "mqtt"]] = Field(default=["email"])
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")
    preferred_windows: list[TimeWindow] = Field(default_factory=list)
    address: str | None = None
    access_notes: str | None = None
    utc_offset_minutes: int = Field(default=480, ge=-720, le=840)

    _zh_cn = field_validator("language", mode="before")(_language)

    def to_input(self, customer_id: str) -> CustomerInput:
        return CustomerInput(
            customer_id=customer_id,
            name=self.name,
            email=self.email,
            phone=self.phone,
            language=self.language,
            channels=tuple(self.channels),
            webhook_url=self.webhook_url,
            preferred_windows=tuple(w.model_dump() for w in self.preferred_windows),
            address=self.address,
            access_notes=self.access_notes,
            utc_offset_min=self.utc_offset_minutes,
        )


class CustomerOut(CustomerIn):
    model_config = ConfigDict(extra="ignore")

    customer_id: str

    @classmethod
    def of(cls, row: CustomerRow) -> CustomerOut:
        return cls.model_validate(
            {
                "customer_id": row.customer_id,
                "name": row.name,
                "email": row.email,
                "phone": row.phone,
                "language": row.language,
                "channels": list(row.channels or []),
                "webhook_url": row.webhook_url,
                "preferred_windows": list(row.preferred_windows or []),
                "address": row.address,
                "access_notes": row.access_notes,
                "utc_offset_minutes": row.utc_offset_min,
            }
        )


class TicketEventIn(BaseModel):
    """`POST /tickets/{id}/events`: a status change, recorded as the signed-in person."""

    model_config = ConfigDict(extra="forbid")

    status: TicketStatus
    actor: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="optional; if given it must be the signed-in person's own name",
    )
    note: str | None = Field(default=None, max_length=4000)
    technician_id: str | None = Field(
        default=None, description="with status 'assigned': assign this technician by hand"
    )


class WorkOrderOut(BaseModel):
    id: int
    ticket_id: int
    status: str
    technician_id: str | None
    service_day: str | None
    route_position: int | None
    eta: float | None
    window: dict[str, float] | None
    travel_km: float | None
    estimated_minutes: int
    hold_reason: str | None
    revision: int
    content: dict[str, Any]

    @classmethod
    def of(cls, row: WorkOrderRow) -> WorkOrderOut:
        window = (
            {"start": row.window_start, "end": row.window_end}
            if row.window_start is not None and row.window_end is not None
            else None
        )
        return cls(
            id=row.id,
            ticket_id=row.ticket_id,
            status=row.status,
            technician_id=row.technician_id,
            service_day=row.service_day,
            route_position=row.route_seq,
            eta=row.eta,
            window=window,
            travel_km=row.travel_km,
            estimated_minutes=row.estimated_minutes,
            hold_reason=row.hold_reason,
            revision=row.revision,
            content=dict(row.content or {}),
        )


class AssignmentOut(BaseModel):
    technician_id: str
    name: str | None
    phone: str | None
    service_day: str | None
    route_position: int | None
    window: dict[str, float] | None
    travel_km: float | None


class SlaDetailOut(SlaOut):
    tier: str | None = None
    priority: int | None = None
    started_at: float | None = None
    responded_at: float | None = None
    resolved_at: float | None = None
    closed_at: float | None = None
    respond_state: str | None = None
    resolve_state: str | None = None


class FieldTicketOut(TicketOut):
    """A ticket with what field service knows: SLA state, assignment, work order."""

    sla: SlaDetailOut
    assignment: AssignmentOut | None = None
    work_order: WorkOrderOut | None = None


def field_service_fields(session: Session, row: TicketRow) -> dict[str, Any]:
    """The `sla`, `assignment` and `work_order` of a ticket's JSON."""
    order = work_orders.get_for_ticket(session=session, ticket_id=row.id)
    sla_row = sla.get(session=session, ticket_id=row.id)
    summary = sla.summary(ticket=row, row=sla_row, now=time.time())
    assignment = None
    if row.technician_id:
        tech = technicians.get(session=session, technician_id=row.technician_id)
        order_out = WorkOrderOut.of(order) if order is not None else None
        assignment = AssignmentOut(
            technician_id=row.technician_id,
            name=tech.name if tech else None,
            phone=tech.phone if tech else None,
            service_day=order.service_day if order else None,
            route_position=order.route_seq if order else None,
            window=order_out.window if order_out else None,
            travel_km=order.travel_km if order else None,
        )
    return {
        "sla": SlaDetailOut(**summary),
        "assignment": assignment,
        "work_order": WorkOrderOut.of(order) if order is not None else None,
    }


class AlertOut(BaseModel):
    """One message to a customer over one channel, with its delivery state."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    audience: str
    channel: str
    recipient: str
    customer_id: str | None
    ticket_id: int | None
    language: str
    subject: str
    body: str
    status: str
    attempts: int
    created_at: float
    next_attempt_at: float
    sent_at: float | None
    last_error: str | None
    idempotency_key: str

    @classmethod
    def of(cls, row: NotificationRow) -> AlertOut:
        return cls.model_validate(row)
