"""Fleet health for the desk: every device's last reading, open faults and reading loss, the
worst first, with a fleet-wide summary; two queries whatever the fleet's size."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from storage.models import (
    OPEN_STATUSES,
    DeviceConsentRow,
    DevicePresenceRow,
    DeviceRow,
    TicketRow,
)

# A device that has sent nothing for this long (wall clock) is shown as silent.
SILENT_AFTER_S = 15 * 60.0
# More than this share of a device's readings missing (gaps in seq) is shown as lossy.
LOSSY_SHARE = 0.01


@dataclass(frozen=True)
class DeviceHealth:
    device_id: str
    type: str
    model: str
    customer_id: str
    last_seen_ts: float | None  # event time of its newest reading
    last_arrival_at: float | None  # wall clock when that arrived
    received: int
    missing: int
    open_faults: int
    fault_codes: str | None
    monitoring: bool

    @property
    def loss(self) -> float:
        total = self.received + self.missing
        return self.missing / total if total else 0.0

    def silent(self, now: float) -> bool:
        return self.last_arrival_at is None or now - self.last_arrival_at > SILENT_AFTER_S


@dataclass(frozen=True)
class FleetSummary:
    devices: int
    reporting: int
    silent: int
    with_open_faults: int
    lossy: int
    unmonitored: int


@dataclass(frozen=True)
class FleetHealth:
    summary: FleetSummary
    devices: list[DeviceHealth]


def fleet_health(
    *,
    session: Session,
    now: float,
    search: str | None = None,
    device_type: str | None = None,
    limit: int = 200,
) -> FleetHealth:
    """Devices with open faults first, then the longest silent, then by id."""
    open_values = sorted(s.value for s in OPEN_STATUSES)
    faults = _open_faults(session, open_values)
    monitoring = func.coalesce(DeviceConsentRow.monitoring, True)
    open_faults = func.coalesce(faults.c.open_faults, 0)
    joined = (
        select(DeviceRow)
        .outerjoin(DevicePresenceRow, DevicePresenceRow.device_id == DeviceRow.device_id)
        .outerjoin(faults, faults.c.device_id == DeviceRow.device_id)
        .outerjoin(DeviceConsentRow, DeviceConsentRow.device_id == DeviceRow.device_id)
    )
    filters: list[ColumnElement[bool]] = []
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        filters.append(
            or_(
                DeviceRow.device_id.like(f"%{escaped}%", escape="\\"),
                DeviceRow.customer_id.like(f"%{escaped}%", escape="\\"),
                DeviceRow.model.like(f"%{escaped}%", escape="\\"),
            )
        )
    if device_type:
        filters.append(DeviceRow.type == device_type)
    rows = session.execute(
        joined.with_only_columns(
            DeviceRow.device_id,
            DeviceRow.type,
            DeviceRow.model,
            DeviceRow.customer_id,
            DevicePresenceRow.last_seen_ts,
            DevicePresenceRow.last_arrival_at,
            func.coalesce(DevicePresenceRow.received, 0),
            func.coalesce(DevicePresenceRow.missing, 0),
            open_faults,
            faults.c.codes,
            monitoring,
        )
        .where(and_(True, *filters))
        .order_by(
            open_faults.desc(),
            case((DevicePresenceRow.last_arrival_at.is_(None), 0), else_=1),
            DevicePresenceRow.last_arrival_at,
            DeviceRow.device_id,
        )
        .limit(limit)
    ).all()
    devices = [
        DeviceHealth(
            device_id=r[0],
            type=r[1],
            model=r[2],
            customer_id=r[3],
            last_seen_ts=r[4],
            last_arrival_at=r[5],
            received=int(r[6]),
            missing=int(r[7]),
            open_faults=int(r[8]),
            fault_codes=r[9],
            monitoring=bool(r[10]),
        )
        for r in rows
    ]
    summary = fleet_summary(session=session, now=now)
    return FleetHealth(summary=summary, devices=devices)


def fleet_summary(*, session: Session, now: float) -> FleetSummary:
    """The fleet at a glance (one query): devices, reporting, silent, faulty, lossy, opted out."""
    faults = _open_faults(session, sorted(s.value for s in OPEN_STATUSES))
    monitoring = func.coalesce(DeviceConsentRow.monitoring, True)
    open_faults = func.coalesce(faults.c.open_faults, 0)
    joined = (
        select(DeviceRow)
        .outerjoin(DevicePresenceRow, DevicePresenceRow.device_id == DeviceRow.device_id)
        .outerjoin(faults, faults.c.device_id == DeviceRow.device_id)
        .outerjoin(DeviceConsentRow, DeviceConsentRow.device_id == DeviceRow.device_id)
    )
    received = func.coalesce(DevicePresenceRow.received, 0)
    missing = func.coalesce(DevicePresenceRow.missing, 0)
    silent = or_(
        DevicePresenceRow.last_arrival_at.is_(None),
        DevicePresenceRow.last_arrival_at < now - SILENT_AFTER_S,
    )
    lossy = missing > LOSSY_SHARE * (received + missing)
    totals = session.execute(
        joined.with_only_columns(
            func.count(),
            func.count(DevicePresenceRow.device_id),
            func.sum(case((silent, 1), else_=0)),
            func.sum(case((open_faults > 0, 1), else_=0)),
            func.sum(case((lossy, 1), else_=0)),
            func.sum(case((monitoring.is_(False), 1), else_=0)),
        )
    ).one()
    return FleetSummary(*(int(value or 0) for value in totals))


def _open_faults(session: Session, open_values: list[str]) -> Subquery:
    dialect = session.get_bind().dialect.name
    codes = (
        func.string_agg(TicketRow.fault_code, ", ")
        if dialect == "postgresql"
        else func.group_concat(TicketRow.fault_code, ", ")
    )
    return (
        select(
            TicketRow.device_id.label("device_id"),
            func.count().label("open_faults"),
            codes.label("codes"),
        )
        .where(TicketRow.status.in_(open_values))
        .group_by(TicketRow.device_id)
        .subquery()
    )
