"""Who is told what: turn a ticket change into outbox messages for the customer, the
technician or the desk, each over the channels they use, in their language.

Every logical message has a key naming the change it announces (ticket, revision or
event, kind); each channel's copy adds the channel, so enqueueing it again is a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from domain.people import Role
from fieldservice import credentials
from fieldservice.config import FieldServiceConfig
from fieldservice.notifications import outbox, templates
from fieldservice.notifications.fault_texts import fault_text
from storage.models import CustomerRow, DeviceRow, TechnicianRow, TicketRow


def local_time(ts: float, offset_min: int, fmt: str = "%H:%M") -> str:
    return datetime.fromtimestamp(ts + offset_min * 60, UTC).strftime(fmt)


def window_text(start: float, end: float, offset_min: int) -> str:
    return f"{local_time(start, offset_min)}–{local_time(end, offset_min)}"


def customer_language(
    customer: CustomerRow | None, kind: str, config: FieldServiceConfig
) -> str:
    """The customer's language if this message has a text in it, else the default one
    (a whole message in one language, never English words around Japanese names)."""
    language = customer.language if customer else config.default_language
    return language if templates.speaks(kind, language) else config.default_language


def customer_fields(
    ticket: TicketRow,
    device: DeviceRow,
    customer: CustomerRow | None,
    config: FieldServiceConfig,
    language: str | None = None,
) -> dict[str, Any]:
    if language is None:
        language = customer.language if customer else config.default_language
    title, advice = fault_text(ticket.fault_code, language, ticket.diagnosis or {})
    return {
        "ticket_id": ticket.id,
        "appliance": templates.appliance_name(device.type, language),
        "model": device.model,
        "title": title,
        "advice": advice,
        "device_id": device.device_id,
        "fault_code": ticket.fault_code,
    }


def to_customer(
    *,
    session: Session,
    ticket: TicketRow,
    device: DeviceRow,
    kind: str,
    key: str,
    config: FieldServiceConfig,
    now: float,
    fields: Mapping[str, Any] | None = None,
    deliver_at: float | None = None,
) -> int:
    """Tell the appliance's owner; returns how many channel copies were newly queued.

    Each message carries a sign-in link to the customer's page for this ticket (the
    `rating_url` of a follow-up is one already), in the body and as `sign_in_url`.
    """
    customer = session.get(CustomerRow, device.customer_id)
    language = customer_language(customer, kind, config)
    routes = _customer_routes(customer, device, config)
    if not routes:
        return 0
    values = {**customer_fields(ticket, device, customer, config, language), **(fields or {})}
    subject, body = templates.render(kind, language, values)
    link = values.get("rating_url")
    if not link:
        link = credentials.sign_in_url(
            session=session,
            role=Role.CUSTOMER,
            subject=device.customer_id,
            next_path=f"/my/tickets/{ticket.id}",
            now=now,
            config=config,
            label=f"{kind} for ticket {ticket.id}",
        )
        body += "\n" + templates.render("sign_in_footer", language, {"link": link})[1]
    queued = 0
    for channel, recipient, extra in routes:
        message = outbox.Message(
            key=f"{key}/{channel}",
            audience="customer",
            kind=kind,
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=body,
            language=language,
            payload={
                "device_id": device.device_id,
                "fault_code": ticket.fault_code,
                "sign_in_url": link,
                **extra,
            },
            customer_id=device.customer_id,
            ticket_id=ticket.id,
        )
        queued += (
            outbox.enqueue(session=session, message=message, now=now, deliver_at=deliver_at)
            is not None
        )
    return queued


def to_household(
    *,
    session: Session,
    devices: list[DeviceRow],
    fault_code: str,
    ticket_id: int,
    key: str,
    config: FieldServiceConfig,
    now: float,
) -> int:
    """One notice to a customer about several of their appliances at once."""
    first = devices[0]
    customer = session.get(CustomerRow, first.customer_id)
    language = customer.language if customer else config.default_language
    names = ", ".join(f"{templates.appliance_name(d.type, language)} {d.model}" for d in devices)
    subject, body = templates.render(
        "household_notice", language, {"count": len(devices), "appliances": names}
    )
    queued = 0
    for channel, recipient, extra in _customer_routes(customer, first, config):
        message = outbox.Message(
            key=f"{key}/{channel}",
            audience="customer",
            kind="household_notice",
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=body,
            language=language,
            payload={
                "devices": [d.device_id for d in devices],
                "fault_code": fault_code,
                **extra,
            },
            customer_id=first.customer_id,
            ticket_id=ticket_id,
        )
        queued += outbox.enqueue(session=session, message=message, now=now) is not None
    return queued


def to_technician(
    *,
    session: Session,
    technician: TechnicianRow,
    ticket: TicketRow,
    kind: str,
    key: str,
    fields: Mapping[str, Any],
    config: FieldServiceConfig,
    now: float,
    payload: Mapping[str, Any] | None = None,
) -> int:
    subject, body = templates.render(kind, technician.language, fields)
    routes: list[tuple[str, str]] = []
    if technician.email:
        routes.append(("email", technician.email))
    hook = technician.webhook_url or config.webhook_url
    if hook:
        routes.append(("webhook", hook))
    queued = 0
    for channel, recipient in routes:
        message = outbox.Message(
            key=f"{key}/{channel}",
            audience="technician",
            kind=kind,
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=body,
            language=technician.language,
            payload=dict(payload or {}),
            technician_id=technician.technician_id,
            ticket_id=ticket.id,
        )
        queued += outbox.enqueue(session=session, message=message, now=now) is not None
    return queued


def to_desk(
    *,
    session: Session,
    kind: str,
    key: str,
    fields: Mapping[str, Any],
    config: FieldServiceConfig,
    now: float,
    ticket_id: int | None,
) -> int:
    subject, body = templates.render(kind, config.default_language, fields)
    routes = [("email", config.desk_email), ("webhook", config.webhook_url)]
    queued = 0
    for channel, recipient in routes:
        if not recipient:
            continue
        message = outbox.Message(
            key=f"{key}/{channel}",
            audience="desk",
            kind=kind,
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=body,
            language=config.default_language,
            payload=dict(fields),
            ticket_id=ticket_id,
        )
        queued += outbox.enqueue(session=session, message=message, now=now) is not None
    return queued


def _customer_routes(
    customer: CustomerRow | None, device: DeviceRow, config: FieldServiceConfig
) -> list[tuple[str, str, dict[str, Any]]]:
    """(channel, recipient, extra payload) for each way this customer wants to hear from us.

    A customer with no contact record is reached through the integration webhook, if any.
    """
    if customer is None:
        return [("webhook", config.webhook_url, {})] if config.webhook_url else []
    routes: list[tuple[str, str, dict[str, Any]]] = []
    for channel in customer.channels or []:
        if channel == "email" and customer.email:
            routes.append(("email", customer.email, {}))
        elif channel == "webhook" and (customer.webhook_url or config.webhook_url):
            routes.append(("webhook", customer.webhook_url or config.webhook_url or "", {}))
        elif channel == "mqtt":
            if config.customer_topic_prefix:
                topic = f"{config.customer_topic_prefix}/{customer.customer_id}/alerts"
                routes.append(("mqtt", topic, {}))
            else:
                topic = f"{config.mqtt_prefix}/{device.device_id}/commands"
                routes.append(("mqtt", topic, {"mqtt": {"command": "show_alert"}}))
    return routes
