"""Technicians: register and look them up, and work out when their next shift is."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Text, cast, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.errors import DuplicateError
from storage.models import TechnicianRow

DAY_S = 86400.0
WEEKDAYS = (0, 1, 2, 3, 4, 5)  # Monday to Saturday


@dataclass(frozen=True)
class TechnicianIn:
    technician_id: str
    name: str
    skills: tuple[str, ...]
    base_lat: float
    base_lon: float
    radius_km: float
    shift_start_min: int = 8 * 60
    shift_end_min: int = 18 * 60
    workdays: tuple[int, ...] = WEEKDAYS
    utc_offset_min: int = 8 * 60
    daily_capacity: int = 6
    email: str | None = None
    phone: str | None = None
    webhook_url: str | None = None
    language: str = "en"
    active: bool = True


def create(*, session: Session, technician_in: TechnicianIn, now: float) -> TechnicianRow:
    """Register a technician; `DuplicateError` if the id is taken (the session stays usable)."""
    duplicate = DuplicateError(f"technician {technician_in.technician_id!r} already exists")
    if session.get(TechnicianRow, technician_in.technician_id) is not None:
        raise duplicate
    row = TechnicianRow(
        technician_id=technician_in.technician_id,
        name=technician_in.name,
        skills=sorted(set(technician_in.skills)),
        base_lat=technician_in.base_lat,
        base_lon=technician_in.base_lon,
        radius_km=technician_in.radius_km,
        shift_start_min=technician_in.shift_start_min,
        shift_end_min=technician_in.shift_end_min,
        workdays=sorted(set(technician_in.workdays)),
        utc_offset_min=technician_in.utc_offset_min,
        daily_capacity=technician_in.daily_capacity,
        email=technician_in.email,
        phone=technician_in.phone,
        webhook_url=technician_in.webhook_url,
        language=technician_in.language,
        active=technician_in.active,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise duplicate from exc
    return row


def get(*, session: Session, technician_id: str) -> TechnicianRow | None:
    return session.get(TechnicianRow, technician_id)


def list_page(
    *, session: Session, after: str | None = None, limit: int = 100, skill: str | None = None
) -> list[TechnicianRow]:
    """Up to `limit` technicians ordered by id, after the id `after` (keyset cursor)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    query = select(TechnicianRow).order_by(TechnicianRow.technician_id).limit(limit)
    if after is not None:
        query = query.where(TechnicianRow.technician_id > after)
    if skill is not None:
        # JSON text on SQLite, JSONB rendered as text on PostgreSQL: both keep the quotes.
        literal = skill.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(cast(TechnicianRow.skills, Text).like(f'%"{literal}"%', escape="\\"))
    return list(session.scalars(query))


def active(*, session: Session) -> list[TechnicianRow]:
    query = select(TechnicianRow).where(TechnicianRow.active.is_(True))
    return list(session.scalars(query.order_by(TechnicianRow.technician_id)))


@dataclass(frozen=True)
class Shift:
    """A stretch of working time: `day` is the technician's local date (YYYY-MM-DD)."""

    day: str
    start: float
    end: float


def next_shift(tech: TechnicianRow, now: float, *, min_left_s: float = 1800.0) -> Shift | None:
    """The technician's current shift if at least `min_left_s` of it is left, else the next one.

    None if they have no working days at all.
    """
    offset = tech.utc_offset_min * 60.0
    today = math.floor((now + offset) / DAY_S)
    workdays = set(tech.workdays or WEEKDAYS)
    for ahead in range(8):
        day = today + ahead
        local = datetime.fromtimestamp(day * DAY_S, UTC).date()
        if local.weekday() not in workdays:
            continue
        start = day * DAY_S + tech.shift_start_min * 60.0 - offset
        end = day * DAY_S + tech.shift_end_min * 60.0 - offset
        start = max(start, now)
        if end - start >= min_left_s:
            return Shift(local.isoformat(), start, end)
    return None
