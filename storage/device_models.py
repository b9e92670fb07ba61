"""The device-model catalog in the database: put, get, list, delete, and its version."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.device_models import DeviceModelSpec
from domain.devices import DeviceType
from storage.models import DeviceModelRow


def put(*, session: Session, spec: DeviceModelSpec) -> tuple[DeviceModelRow, bool]:
    """Create or replace `spec`'s entry; True when it was new."""
    row = session.get(DeviceModelRow, spec.model)
    created = row is None
    if row is None:
        row = DeviceModelRow(model=spec.model)
        session.add(row)
    row.type = spec.type.value
    row.reporting_interval_s = spec.reporting_interval_s
    row.ranges = {name: [low, high] for name, (low, high) in spec.ranges.items()}
    row.ratings = dict(spec.ratings)
    row.updated_at = time.time()
    session.flush()
    return row, created


def get(*, session: Session, model: str) -> DeviceModelRow | None:
    return session.get(DeviceModelRow, model)


def delete(*, session: Session, model: str) -> bool:
    row = session.get(DeviceModelRow, model)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def list_all(*, session: Session) -> list[DeviceModelRow]:
    return list(session.scalars(select(DeviceModelRow).order_by(DeviceModelRow.model)))


def version(*, session: Session) -> tuple[int, float]:
    """(entries, newest change): changes when any entry is added, replaced or removed."""
    count, newest = session.execute(
        select(func.count(), func.max(DeviceModelRow.updated_at))
    ).one()
    return int(count), float(newest or 0.0)


def to_spec(row: DeviceModelRow) -> DeviceModelSpec:
    return DeviceModelSpec(
        model=row.model,
        type=DeviceType(row.type),
        reporting_interval_s=row.reporting_interval_s,
        ranges={name: (float(pair[0]), float(pair[1])) for name, pair in row.ranges.items()},
        ratings={name: float(value) for name, value in row.ratings.items()},
    )
