"""What ingest last heard from each device, folded in from the service's running tallies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import DevicePresenceRow, DeviceRow


@dataclass(frozen=True)
class PresenceDelta:
    """Since the last fold: the newest reading's event time, when it arrived, and counts."""

    last_seen_ts: float
    last_arrival_at: float
    received: int
    missing: int


def fold(*, session: Session, deltas: Mapping[str, PresenceDelta], now: float) -> int:
    """Add these tallies to the devices' rows (creating them); returns how many devices.

    Devices not provisioned any more are skipped (their row would have no device).
    """
    if not deltas:
        return 0
    ids = sorted(deltas)
    known = set(session.scalars(select(DeviceRow.device_id).where(DeviceRow.device_id.in_(ids))))
    rows = {
        row.device_id: row
        for row in session.scalars(
            select(DevicePresenceRow)
            .where(DevicePresenceRow.device_id.in_(ids))
            .with_for_update()
        )
    }
    for device_id in ids:
        if device_id not in known:
            continue
        delta = deltas[device_id]
        row = rows.get(device_id)
        if row is None:
            session.add(
                DevicePresenceRow(
                    device_id=device_id,
                    last_seen_ts=delta.last_seen_ts,
                    last_arrival_at=delta.last_arrival_at,
                    received=delta.received,
                    missing=delta.missing,
                    updated_at=now,
                )
            )
            continue
        row.last_seen_ts = max(row.last_seen_ts, delta.last_seen_ts)
        row.last_arrival_at = max(row.last_arrival_at, delta.last_arrival_at)
        row.received += delta.received
        row.missing += delta.missing
        row.updated_at = now
    session.flush()
    return len(known)
