"""The transactional outbox: messages written in the same transaction as the change they announce.

Delivery semantics are at-least-once with a dedupe key:

1. `enqueue` inserts a `pending` row inside the caller's transaction; if the change rolls
   back, so does the message. Its `idempotency_key` is unique: enqueueing the same logical
   message twice (a retried transaction, two workers) stores it once.
2. A worker `claim`s due rows in a short transaction of its own: `sending`, a lease
   (`lease_until`), `attempts + 1`. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several
   workers share the table.
3. It delivers outside any transaction, then `mark_sent` (or `mark_failed`: back to
   `pending` with exponential backoff, or `dead` after `max_attempts` / a permanent error).

A worker that dies between 2 and 3 leaves the row `sending`; when the lease expires
another claim picks it up. If it died after the receiver accepted the message, the
receiver gets it a second time with the same key (Idempotency-Key header, SMTP
Message-ID derived from the key, `idempotency_key` in MQTT payloads) and must drop it.
Nothing is lost; a duplicate is possible only for that one in-flight message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import NotificationRow


class Audience(StrEnum):
    """Who a message is for."""

    CUSTOMER = "customer"
    TECHNICIAN = "technician"
    DESK = "desk"


class Status(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


@dataclass(frozen=True)
class Message:
    """One message for one recipient over one channel."""

    key: str
    audience: str  # customer / technician / desk
    kind: str
    channel: str  # email / webhook / mqtt
    recipient: str
    subject: str
    body: str
    language: str = "en"
    payload: Mapping[str, Any] = field(default_factory=dict)
    customer_id: str | None = None
    technician_id: str | None = None
    ticket_id: int | None = None


def message_id(key: str, domain: str = "faultline") -> str:
    """The SMTP Message-ID for an idempotency key: the same on every retry."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def enqueue(
    *, session: Session, message: Message, now: float, deliver_at: float | None = None
) -> NotificationRow | None:
    """Store `message` for delivery at `deliver_at` (default now); None if its key is taken."""
    existing = session.scalars(
        select(NotificationRow).where(NotificationRow.idempotency_key == message.key)
    ).first()
    if existing is not None:
        return None
    row = NotificationRow(
        idempotency_key=message.key,
        audience=message.audience,
        kind=message.kind,
        channel=message.channel,
        recipient=message.recipient,
        customer_id=message.customer_id,
        technician_id=message.technician_id,
        ticket_id=message.ticket_id,
        language=message.language,
        subject=message.subject,
        body=message.body,
        payload=dict(message.payload),
        status=Status.PENDING.value,
        attempts=0,
        next_attempt_at=now if deliver_at is None else deliver_at,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None  # a concurrent transaction stored the same key first
    return row


def claim(*, session: Session, now: float, worker: str, lease_s: float, limit: int) -> list[int]:
    """Lease up to `limit` due messages to `worker`; returns their ids (commit, then deliver)."""
    query = (
        select(NotificationRow)
        .where(
            or_(
                NotificationRow.status == Status.PENDING.value,
                (NotificationRow.status == Status.SENDING.value)
                & (NotificationRow.lease_until < now),
            )
        )
        .where(NotificationRow.next_attempt_at <= now)
        .order_by(NotificationRow.next_attempt_at, NotificationRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.scalars(query).all()
    for row in rows:
        row.status = Status.SENDING.value
        row.lease_until = now + lease_s
        row.leased_by = worker
        row.attempts += 1
    return [row.id for row in rows]


def mark_sent(*, session: Session, notification_id: int, now: float) -> None:
    row = session.get(NotificationRow, notification_id)
    if row is None:
        return
    row.status = Status.SENT.value
    row.sent_at = now
    row.lease_until = None
    row.last_error = None


def mark_failed(
    *,
    session: Session,
    notification_id: int,
    worker: str,
    now: float,
    error: str,
    retryable: bool,
    max_attempts: int,
    backoff_base_s: float,
    backoff_cap_s: float,
) -> Status:
    """Schedule a retry with exponential backoff, or give up (`dead`); returns the new status."""
    row = session.get(NotificationRow, notification_id)
    if row is None:
        return Status.DEAD
    row.last_error = error[:2000]
    row.lease_until = None
    if row.status == Status.SENT.value:
        return Status.SENT  # another worker's earlier attempt got through meanwhile
    if row.leased_by != worker:
        return Status(row.status)  # our lease ran out and another worker owns it now
    if not retryable or row.attempts >= max_attempts:
        row.status = Status.DEAD.value
        return Status.DEAD
    row.status = Status.PENDING.value
    row.next_attempt_at = now + min(backoff_cap_s, backoff_base_s * 2 ** (row.attempts - 1))
    return Status.PENDING


def get(*, session: Session, notification_id: int) -> NotificationRow | None:
    return session.get(NotificationRow, notification_id)


def list_page(
    *,
    session: Session,
    customer_id: str | None = None,
    ticket_id: int | None = None,
    audience: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[NotificationRow]:
    """Messages newest first, older than `before_id` (keyset cursor)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    query = select(NotificationRow).order_by(NotificationRow.id.desc()).limit(limit)
    if customer_id is not None:
        query = query.where(NotificationRow.customer_id == customer_id)
    if ticket_id is not None:
        query = query.where(NotificationRow.ticket_id == ticket_id)
    if audience is not None:
        query = query.where(NotificationRow.audience == audience)
    if before_id is not None:
        query = query.where(NotificationRow.id < before_id)
    return list(session.scalars(query))


def overdue(*, session: Session, now: float) -> tuple[int, float]:
    """How many messages are due and undelivered, and how long the oldest has been due."""
    due = (
        select(func.count(), func.min(NotificationRow.next_attempt_at))
        .where(NotificationRow.status.in_([Status.PENDING.value, Status.SENDING.value]))
        .where(NotificationRow.next_attempt_at <= now)
    )
    count, oldest = session.execute(due).one()
    return int(count), (now - float(oldest)) if oldest is not None else 0.0
