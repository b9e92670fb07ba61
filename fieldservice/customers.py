"""Customers: how to reach them, in which language, and when a technician may come."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from storage.models import CustomerRow

LANGUAGES = ("en", "zh", "ja")  # zh: Simplified Chinese (zh-CN)
CHANNELS = ("email", "webhook", "mqtt")


@dataclass(frozen=True)
class CustomerIn:
    customer_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str = "en"
    channels: tuple[str, ...] = ("email",)
    webhook_url: str | None = None
    preferred_windows: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    address: str | None = None
    access_notes: str | None = None
    utc_offset_min: int = 8 * 60


def upsert(*, session: Session, customer_in: CustomerIn, now: float) -> CustomerRow:
    """Create the customer's contact record, or replace it."""
    row = session.get(CustomerRow, customer_in.customer_id)
    if row is None:
        row = CustomerRow(customer_id=customer_in.customer_id, created_at=now)
        session.add(row)
    row.name = customer_in.name
    row.email = customer_in.email
    row.phone = customer_in.phone
    row.language = customer_in.language
    row.channels = list(dict.fromkeys(customer_in.channels))
    row.webhook_url = customer_in.webhook_url
    row.preferred_windows = [dict(window) for window in customer_in.preferred_windows]
    row.address = customer_in.address
    row.access_notes = customer_in.access_notes
    row.utc_offset_min = customer_in.utc_offset_min
    row.updated_at = now
    session.flush()
    return row


def get(*, session: Session, customer_id: str) -> CustomerRow | None:
    return session.get(CustomerRow, customer_id)
