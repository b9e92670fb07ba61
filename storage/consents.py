"""Owners' consent per device: proactive monitoring on or off (on unless they turned it off)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import DeviceConsentRow


def set_monitoring(
    *, session: Session, device_id: str, monitoring: bool, by: str, now: float
) -> DeviceConsentRow:
    row = session.get(DeviceConsentRow, device_id)
    if row is None:
        row = DeviceConsentRow(device_id=device_id)
        session.add(row)
    row.monitoring = monitoring
    row.updated_at = now
    row.updated_by = by
    session.flush()
    return row


def monitoring_of(*, session: Session, device_ids: Iterable[str]) -> dict[str, bool]:
    """Whether each device is monitored (True for a device nobody has a say recorded on)."""
    ids = sorted(set(device_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(DeviceConsentRow.device_id, DeviceConsentRow.monitoring).where(
            DeviceConsentRow.device_id.in_(ids)
        )
    )
    found = {device_id: bool(monitoring) for device_id, monitoring in rows}
    return {device_id: found.get(device_id, True) for device_id in ids}


def is_monitored(*, session: Session, device_id: str) -> bool:
    row = session.get(DeviceConsentRow, device_id)
    return row is None or bool(row.monitoring)


def unmonitored_device_ids(*, session: Session) -> set[str]:
    """Devices whose owner turned proactive monitoring off: no detection, no alerts."""
    query = select(DeviceConsentRow.device_id).where(DeviceConsentRow.monitoring.is_(False))
    return set(session.scalars(query))
