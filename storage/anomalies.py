"""Detected anomalies as stored rows, newest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import Anomaly
from storage.models import AnomalyRow


def add(*, session: Session, anomaly: Anomaly, ticket_id: int | None) -> AnomalyRow:
    """Record `anomaly` (linked to `ticket_id` if one was opened or updated for it)."""
    row = AnomalyRow(
        device_id=anomaly.device_id,
        fault_code=str(anomaly.fault_code),
        severity=int(anomaly.severity),
        detected_at=anomaly.detected_at,
        onset_at=anomaly.onset_at,
        confidence=anomaly.confidence,
        summary=anomaly.summary,
        evidence=dict(anomaly.evidence),
        diagnosis=dict(anomaly.diagnosis),
        ticket_id=ticket_id,
    )
    session.add(row)
    session.flush()
    return row


def list_page(
    *,
    session: Session,
    before_id: int | None = None,
    limit: int = 100,
    device_id: str | None = None,
) -> list[AnomalyRow]:
    """Up to `limit` anomalies, newest first, older than `before_id` (keyset cursor)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    query = select(AnomalyRow).order_by(AnomalyRow.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AnomalyRow.id < before_id)
    if device_id is not None:
        query = query.where(AnomalyRow.device_id == device_id)
    return list(session.scalars(query))


def device_ids_between(*, session: Session, start: float, end: float) -> set[str]:
    """Devices with an anomaly detected in `[start, end)` (event time)."""
    query = select(AnomalyRow.device_id).where(
        AnomalyRow.detected_at >= start, AnomalyRow.detected_at < end
    )
    return set(session.scalars(query.distinct()))
