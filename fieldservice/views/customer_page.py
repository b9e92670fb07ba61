"""The customer page's reads, in the customer's language: their appliances with monitoring
consent and any open problem, their tickets, and one ticket's story — what was found, what
to do now, progress, the booked window and arrival estimate, what they can do about it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldservice import arrival, ratings, rescheduling, work_orders
from fieldservice.config import FieldServiceConfig
from fieldservice.notifications import outbox
from fieldservice.notifications.fault_texts import fault_text
from fieldservice.notifications.templates import appliance_name
from storage.models import (
    OPEN_STATUSES,
    CustomerRow,
    DeviceConsentRow,
    DeviceRow,
    NotificationRow,
    TechnicianRow,
    TicketEventRow,
    TicketRow,
    TicketStatus,
    VisitRatingRow,
    WorkOrderRow,
)

S = TicketStatus
# The steps a customer sees, in order; cancelled and auto-resolved end the story early.
PROGRESS = (S.OPENED, S.ASSIGNED, S.EN_ROUTE, S.ON_SITE, S.RESOLVED, S.CLOSED)
RECENT_TICKETS = 20


@dataclass(frozen=True)
class Appliance:
    device_id: str
    type: str
    name: str  # in the customer's language
    model: str
    monitoring: bool
    open_ticket_id: int | None
    open_title: str | None


@dataclass(frozen=True)
class TicketSummary:
    ticket_id: int
    device_id: str
    appliance: str
    title: str
    status: str
    opened_at: float
    window_start: float | None
    window_end: float | None
    technician_name: str | None


@dataclass(frozen=True)
class CustomerHome:
    customer_id: str
    name: str | None
    language: str
    utc_offset_min: int
    channels: list[str]
    appliances: list[Appliance]
    tickets: list[TicketSummary]


@dataclass(frozen=True)
class Step:
    status: str
    at: float | None
    done: bool
    current: bool


@dataclass(frozen=True)
class CustomerTicket:
    ticket_id: int
    device_id: str
    appliance: str
    model: str
    title: str
    advice: str
    status: str
    steps: list[Step]
    window_start: float | None
    window_end: float | None
    technician_name: str | None
    eta: float | None
    windows: list[rescheduling.Window]
    can_cancel: bool
    can_rate: bool
    rating: VisitRatingRow | None
    language: str = "en"
    utc_offset_min: int = 480
    messages: list[NotificationRow] = field(default_factory=list)


def language_of(*, session: Session, customer_id: str, default: str = "en") -> str:
    row = session.get(CustomerRow, customer_id)
    return row.language if row and row.language else default


def customer_home(
    *, session: Session, customer_id: str, now: float, config: FieldServiceConfig
) -> CustomerHome:
    """Three queries: the contact record, the appliances, the recent tickets."""
    customer = session.get(CustomerRow, customer_id)
    language = customer.language if customer else config.default_language
    open_values = [s.value for s in OPEN_STATUSES]
    devices = session.execute(
        select(DeviceRow, DeviceConsentRow.monitoring, TicketRow)
        .outerjoin(DeviceConsentRow, DeviceConsentRow.device_id == DeviceRow.device_id)
        .outerjoin(
            TicketRow,
            (TicketRow.device_id == DeviceRow.device_id) & TicketRow.status.in_(open_values),
        )
        .where(DeviceRow.customer_id == customer_id)
        .order_by(DeviceRow.device_id, TicketRow.id.desc())
    ).tuples()
    appliances: dict[str, Appliance] = {}
    for device, monitoring, ticket in devices:
        if device.device_id in appliances:
            continue  # the newest open ticket is enough
        title = None
        if ticket is not None:
            title = fault_text(ticket.fault_code, language, ticket.diagnosis or {})[0]
        appliances[device.device_id] = Appliance(
            device_id=device.device_id,
            type=device.type,
            name=appliance_name(device.type, language),
            model=device.model,
            monitoring=True if monitoring is None else bool(monitoring),
            open_ticket_id=ticket.id if ticket is not None else None,
            open_title=title,
        )
    tickets = [
        TicketSummary(
            ticket_id=ticket.id,
            device_id=device.device_id,
            appliance=appliance_name(device.type, language),
            title=fault_text(ticket.fault_code, language, ticket.diagnosis or {})[0],
            status=ticket.status,
            opened_at=ticket.opened_at,
            window_start=window_start,
            window_end=window_end,
            technician_name=tech_name,
        )
        for ticket, device, window_start, window_end, tech_name in session.execute(
            select(
                TicketRow,
                DeviceRow,
                WorkOrderRow.window_start,
                WorkOrderRow.window_end,
                TechnicianRow.name,
            )
            .join(DeviceRow, DeviceRow.device_id == TicketRow.device_id)
            .outerjoin(WorkOrderRow, WorkOrderRow.ticket_id == TicketRow.id)
            .outerjoin(TechnicianRow, TechnicianRow.technician_id == TicketRow.technician_id)
            .where(DeviceRow.customer_id == customer_id)
            .order_by(TicketRow.id.desc())
            .limit(RECENT_TICKETS)
        ).tuples()
    ]
    return CustomerHome(
        customer_id=customer_id,
        name=customer.name if customer else None,
        language=language,
        utc_offset_min=customer.utc_offset_min if customer else 480,
        channels=list(customer.channels or []) if customer else [],
        appliances=list(appliances.values()),
        tickets=tickets,
    )


def customer_ticket(
    *, session: Session, ticket: TicketRow, now: float, config: FieldServiceConfig
) -> CustomerTicket:
    """About ten queries: device, customer, order, technician, timeline, arrival, offered
    windows, rating and the messages sent about this ticket."""
    device = session.get(DeviceRow, ticket.device_id)
    assert device is not None
    customer = session.get(CustomerRow, device.customer_id)
    language = customer.language if customer else config.default_language
    title, advice = fault_text(ticket.fault_code, language, ticket.diagnosis or {})
    order = work_orders.get_for_ticket(session=session, ticket_id=ticket.id)
    tech = session.get(TechnicianRow, ticket.technician_id) if ticket.technician_id else None
    reached = _reached(session, ticket.id)
    status = S(ticket.status)
    steps = []
    current_index = PROGRESS.index(status) if status in PROGRESS else -1
    for index, step in enumerate(PROGRESS):
        steps.append(
            Step(
                status=step.value,
                at=reached.get(step.value),
                done=0 <= index <= current_index,
                current=index == current_index,
            )
        )
    messages = outbox.list_page(
        session=session, customer_id=device.customer_id, ticket_id=ticket.id, limit=20
    )
    return CustomerTicket(
        ticket_id=ticket.id,
        device_id=device.device_id,
        appliance=appliance_name(device.type, language),
        model=device.model,
        title=title,
        advice=advice,
        status=ticket.status,
        steps=steps,
        window_start=order.window_start if order else None,
        window_end=order.window_end if order else None,
        technician_name=tech.name if tech else None,
        eta=arrival.estimate(
            session=session, ticket=ticket, order=order, speed_kmh=config.dispatch.speed_kmh
        ),
        windows=rescheduling.offered(session=session, ticket=ticket, now=now),
        can_cancel=status in (S.OPENED, S.ASSIGNED),
        can_rate=status in ratings.RATEABLE,
        rating=ratings.get(session=session, ticket_id=ticket.id),
        language=language,
        utc_offset_min=customer.utc_offset_min if customer else 480,
        messages=_one_per_kind(messages),
    )


def _reached(session: Session, ticket_id: int) -> dict[str, float]:
    """When the ticket last entered each status (its opening counts as `opened`)."""
    reached: dict[str, float] = {}
    rows = session.execute(
        select(TicketEventRow.kind, TicketEventRow.to_status, TicketEventRow.at)
        .where(TicketEventRow.ticket_id == ticket_id)
        .order_by(TicketEventRow.id)
    ).tuples()
    for kind, to_status, at in rows:
        if kind == "opened":
            reached[S.OPENED.value] = at
        if to_status:
            reached[to_status] = at
    return reached


def _one_per_kind(rows: list[NotificationRow]) -> list[NotificationRow]:
    """The same message goes out on several channels: show it once."""
    seen: set[str] = set()
    unique = []
    for row in rows:
        key = row.idempotency_key.rsplit("/", 1)[0]
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique
