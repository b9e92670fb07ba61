"""Request and response bodies for field service: technicians, customers, work orders,
ticket status changes, alerts, and the ticket's assignment/work order/SLA view."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from api.params import ID_PATTERN
from api.schemas import INTEGRAL, LocationIn, SlaOut, TicketOut
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

Identifier = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
# zh is Simplified Chinese (zh-CN, also accepted and stored as zh).
Language = Literal["en", "zh", "ja"]
# No spaces or control characters, one @ (spelled out: regex engines disagree on "\s").
EMAIL = r"^[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+$"
# A technician's skill: a device type, or "any".
Skill = DeviceType | Literal["any"]
# A time of day, "00:00" to "24:00".
TimeOfDay = Annotated[str, Field(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
Weekday = Annotated[int, Field(ge=0, le=6, strict=True, description="Monday is 0"), INTEGRAL]
UtcOffsetMinutes = Annotated[int, Field(ge=-720, le=840, strict=True), INTEGRAL]


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _language(value: object) -> object:
    """`zh-CN` (and `zh-Hans`) name the Simplified Chinese Faultline stores as `zh`."""
    return "zh" if value in ("zh-CN", "zh-Hans", "zh-cn") else value


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class WorkingHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: TimeOfDay = "08:00"
    end: Annotated[TimeOfDay, Field(description="later than start")] = "18:00"
    weekdays: list[Weekday] = Field(default=[0, 1, 2, 3, 4, 5], min_length=1)
    utc_offset_minutes: UtcOffsetMinutes = 480

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if _minutes(self.end) <= _minutes(self.start):
            raise ValueError(f"working hours end ({self.end}) must be after start ({self.start})")
        return self


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, pattern=EMAIL)
    phone: str | None = None
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")


class TechnicianIn(BaseModel):
    """`POST /technicians`."""

    model_config = ConfigDict(extra="forbid")

    technician_id: str = Identifier
    name: str = Field(min_length=1, max_length=128)
    skills: list[Skill] = Field(min_length=1)
    base: LocationIn
    radius_km: float = Field(gt=0, le=500, allow_inf_nan=False, strict=True)
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    daily_capacity: Annotated[int, Field(ge=1, le=50, strict=True), INTEGRAL] = 6
    contact: Contact = Field(default_factory=Contact)
    language: Language = "en"
    active: bool = Field(default=True, strict=True)

    def to_input(self) -> TechnicianInput:
        start, end = _minutes(self.working_hours.start), _minutes(self.working_hours.end)
        return TechnicianInput(
            technician_id=self.technician_id,
            name=self.name,
            skills=tuple(str(skill) for skill in self.skills),
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

    weekdays: list[Weekday] = Field(default=[0, 1, 2, 3, 4, 5, 6])
    start: TimeOfDay
    end: TimeOfDay


class CustomerIn(BaseModel):
    """`PUT /customers/{customer_id}`: contact, language, channels, when a visit suits."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    email: str | None = Field(default=None, pattern=EMAIL)
    phone: str | None = None
    language: Language = "en"
    channels: list[Literal["email", "webhook", "mqtt"]] = Field(default=["email"])
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")
    preferred_windows: list[TimeWindow] = Field(default_factory=list)
    address: str | None = None
    access_notes: str | None = None
    utc_offset_minutes: UtcOffsetMinutes = 480

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
