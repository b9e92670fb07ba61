"""A customer's consent: proactive monitoring per appliance, and the channels they hear from
us on. Monitoring off means no detection, no tickets and no alerts for that appliance."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from fieldservice.customers import CHANNELS
from fieldservice.errors import ForbiddenError, InvalidRequestError
from storage import consents
from storage.models import CustomerRow, DeviceRow


def set_monitoring(
    *, session: Session, customer_id: str, device_id: str, monitoring: bool, actor: str, now: float
) -> None:
    device = session.get(DeviceRow, device_id)
    if device is None or device.customer_id != customer_id:
        raise ForbiddenError(f"device {device_id!r} is not one of customer {customer_id}'s")
    consents.set_monitoring(
        session=session, device_id=device_id, monitoring=monitoring, by=actor, now=now
    )


def set_channels(
    *, session: Session, customer_id: str, channels: Sequence[str], now: float
) -> CustomerRow:
    """Which channels alerts go out on (none at all is allowed: the page still shows them)."""
    unknown = sorted(set(channels) - set(CHANNELS))
    if unknown:
        raise InvalidRequestError(f"unknown channels {unknown}; use {list(CHANNELS)}")
    row = session.get(CustomerRow, customer_id)
    if row is None:
        row = CustomerRow(customer_id=customer_id, created_at=now, language="en")
        session.add(row)
    row.channels = [c for c in CHANNELS if c in set(channels)]
    row.updated_at = now
    session.flush()
    return row
