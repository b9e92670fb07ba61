"""Provisioned devices: create, look up, page through, and convert to `domain.DeviceInfo`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import DeviceInfo, DeviceType, Location
from domain.devices import CustomerTier
from storage.errors import DuplicateError
from storage.models import DeviceRow


def create(*, session: Session, device_in: DeviceInfo) -> DeviceRow:
    """Provision a device; raises `DuplicateError` if its id is taken (the session stays usable)."""
    row = DeviceRow(
        device_id=device_in.device_id,
        type=DeviceType(device_in.type).value,
        model=device_in.model,
        customer_id=device_in.customer_id,
        lat=device_in.location.lat,
        lon=device_in.location.lon,
        serial=device_in.serial,
        production_batch=device_in.production_batch,
        firmware=device_in.firmware,
        install_date=device_in.install_date,
        customer_tier=CustomerTier(device_in.customer_tier).value,
    )
    duplicate = DuplicateError(f"device {device_in.device_id!r} already exists")
    if session.get(DeviceRow, device_in.device_id) is not None:
        raise duplicate
    try:
        # A savepoint, so losing a race to another writer does not doom the caller's transaction.
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        if session.get(DeviceRow, device_in.device_id) is None:
            raise
        raise duplicate from exc
    return row


def get(*, session: Session, device_id: str) -> DeviceRow | None:
    return session.get(DeviceRow, device_id)


def list_page(
    *,
    session: Session,
    after: str | None = None,
    limit: int = 100,
    type: DeviceType | None = None,
    customer_id: str | None = None,
) -> list[DeviceRow]:
    """Up to `limit` devices ordered by id, starting after the id `after` (keyset cursor)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    query = select(DeviceRow).order_by(DeviceRow.device_id).limit(limit)
    if after is not None:
        query = query.where(DeviceRow.device_id > after)
    if type is not None:
        query = query.where(DeviceRow.type == DeviceType(type).value)
    if customer_id is not None:
        query = query.where(DeviceRow.customer_id == customer_id)
    return list(session.scalars(query))


def to_info(row: DeviceRow) -> DeviceInfo:
    return DeviceInfo(
        device_id=row.device_id,
        type=DeviceType(row.type),
        model=row.model,
        customer_id=row.customer_id,
        location=Location(lat=row.lat, lon=row.lon),
        serial=row.serial,
        production_batch=row.production_batch,
        firmware=row.firmware,
        install_date=row.install_date,
        customer_tier=CustomerTier(row.customer_tier),
    )


def types_by_id(*, session: Session) -> dict[str, DeviceType]:
    """Every provisioned device's type, keyed by id (what ingest and detection need to start)."""
    rows = session.execute(select(DeviceRow.device_id, DeviceRow.type))
    return {device_id: DeviceType(type_) for device_id, type_ in rows}


def models_by_id(*, session: Session) -> dict[str, str]:
    """Every provisioned device's model, keyed by id (the fleet model compares like with like)."""
    rows = session.execute(select(DeviceRow.device_id, DeviceRow.model))
    return {device_id: model for device_id, model in rows}
