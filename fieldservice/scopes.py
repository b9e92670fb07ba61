"""What each person may see: the desk everything, a technician the tickets assigned to them
(and those tickets' devices), a customer their own devices and tickets.

Each check raises `ForbiddenError` (403) for something that exists but is not theirs, and
the usual not-found error for something that does not exist.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from domain.people import Role
from fieldservice.errors import DeviceNotFoundError, ForbiddenError, TicketNotFoundError
from storage.models import DeviceRow, TicketRow


def device(*, session: Session, role: Role, subject: str, device_id: str) -> DeviceRow:
    """The device, if `subject` may see it."""
    row = session.get(DeviceRow, device_id)
    if row is None:
        raise DeviceNotFoundError(f"device {device_id!r}")
    if role is Role.OPERATOR:
        return row
    if role is Role.CUSTOMER and row.customer_id == subject:
        return row
    if role is Role.TECHNICIAN and session.scalar(
        select(exists().where(TicketRow.device_id == device_id, TicketRow.technician_id == subject))
    ):
        return row
    raise ForbiddenError(f"device {device_id!r} is not one of yours")


def ticket(*, session: Session, role: Role, subject: str, ticket_id: int) -> TicketRow:
    """The ticket, if `subject` may see it."""
    row = session.get(TicketRow, ticket_id)
    if row is None:
        raise TicketNotFoundError(f"ticket {ticket_id}")
    if role is Role.OPERATOR:
        return row
    if role is Role.TECHNICIAN and row.technician_id == subject:
        return row
    if role is Role.CUSTOMER:
        owner = session.scalar(
            select(DeviceRow.customer_id).where(DeviceRow.device_id == row.device_id)
        )
        if owner == subject:
            return row
    raise ForbiddenError(f"ticket {ticket_id} is not one of yours")


def only(role: Role, *allowed: Role, what: str) -> None:
    """Refuse `role` unless it is one of `allowed` (the operator always is)."""
    if role is not Role.OPERATOR and role not in allowed:
        raise ForbiddenError(f"{what} is for the service desk")
