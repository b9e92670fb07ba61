"""Service tickets: open one per confirmed fault, fold repeat detections into it, read them back.

At most one ticket per (device, fault code) is open at a time; the database enforces it
(a partial unique index), so two processes detecting the same fault at once still end
up with one ticket.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import Anomaly
from fieldservice.errors import UnknownDeviceError
from storage import anomalies
from storage.models import (
    FINAL_STATUSES,
    DeviceRow,
    TicketEventRow,
    TicketRow,
    TicketStatus,
)

DETECTOR = "detector"


def open_or_update(*, session: Session, anomaly: Anomaly, now: float) -> tuple[TicketRow, bool]:
    """The open ticket for the anomaly's device and fault, and whether it was just opened.

    A repeat detection updates the open ticket (occurrences, last detection, worst
    severity) instead of opening another. The anomaly itself is recorded, linked to the
    ticket. `now` is the wall clock; the anomaly's times are event time.
    """
    if session.get(DeviceRow, anomaly.device_id) is None:
        raise UnknownDeviceError(
            f"anomaly {anomaly.fault_code} for device {anomaly.device_id!r}, which is not "
            "provisioned: provision it (POST /api/v1/devices) before its faults can be ticketed"
        )
    ticket = _open_ticket(session, anomaly)
    created = False
    if ticket is None:
        ticket, created = _insert_or_find(session, anomaly, now)
    if created:
        _record(
            session,
            ticket,
            now,
            kind="opened",
            to_status=TicketStatus.OPENED,
            data=_anomaly_data(anomaly),
        )
    else:
        _fold_repeat(session, ticket, anomaly, now)
    anomalies.add(session=session, anomaly=anomaly, ticket_id=ticket.id)
    return ticket, created


def get(*, session: Session, ticket_id: int) -> TicketRow | None:
    return session.get(TicketRow, ticket_id)


def list_page(
    *,
    session: Session,
    status: str | None = None,
    device_id: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
    customer_id: str | None = None,
    technician_id: str | None = None,
) -> list[TicketRow]:
    """Up to `limit` tickets, newest first, older than `before_id` (keyset cursor);
    `customer_id` keeps that customer's devices' tickets, `technician_id` that technician's."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    query = select(TicketRow).order_by(TicketRow.id.desc()).limit(limit)
    if customer_id is not None:
        query = query.join(DeviceRow, DeviceRow.device_id == TicketRow.device_id).where(
            DeviceRow.customer_id == customer_id
        )
    if technician_id is not None:
        query = query.where(TicketRow.technician_id == technician_id)
    if status is not None:
        query = query.where(TicketRow.status == TicketStatus(status).value)
    if device_id is not None:
        query = query.where(TicketRow.device_id == device_id)
    if before_id is not None:
        query = query.where(TicketRow.id < before_id)
    return list(session.scalars(query))


def timeline(*, session: Session, ticket_id: int) -> list[TicketEventRow]:
    """The ticket's events, oldest first."""
    query = (
        select(TicketEventRow)
        .where(TicketEventRow.ticket_id == ticket_id)
        .order_by(TicketEventRow.id)
    )
    return list(session.scalars(query))


def _open_ticket(session: Session, anomaly: Anomaly) -> TicketRow | None:
    # FOR UPDATE (PostgreSQL; SQLite already serialises writers): a concurrent repeat
    # detection or status change waits for us instead of overwriting our update.
    query = (
        select(TicketRow)
        .where(
            TicketRow.device_id == anomaly.device_id,
            TicketRow.fault_code == str(anomaly.fault_code),
            TicketRow.status.not_in([status.value for status in FINAL_STATUSES]),
        )
        .with_for_update()
    )
    return session.scalars(query).one_or_none()


def _insert_or_find(session: Session, anomaly: Anomaly, now: float) -> tuple[TicketRow, bool]:
    ticket = TicketRow(
        device_id=anomaly.device_id,
        fault_code=str(anomaly.fault_code),
        severity=int(anomaly.severity),
        status=TicketStatus.OPENED.value,
        opened_at=now,
        updated_at=now,
        detected_at=anomaly.detected_at,
        onset_at=anomaly.onset_at,
        last_detected_at=anomaly.detected_at,
        occurrences=1,
        diagnosis={
            **anomaly.diagnosis,
            "evidence": dict(anomaly.evidence),
            "confidence": anomaly.confidence,
            "summary": anomaly.summary,
        },
    )
    try:
        # A savepoint: if another process opened the same ticket since we looked, the
        # unique index refuses ours and only this insert is rolled back.
        with session.begin_nested():
            session.add(ticket)
    except IntegrityError:
        existing = _open_ticket(session, anomaly)
        if existing is None:
            raise
        return existing, False
    return ticket, True


def _fold_repeat(session: Session, ticket: TicketRow, anomaly: Anomaly, now: float) -> None:
    previous_severity = ticket.severity
    ticket.occurrences += 1
    ticket.last_detected_at = max(ticket.last_detected_at, anomaly.detected_at)
    ticket.severity = max(ticket.severity, int(anomaly.severity))
    ticket.updated_at = now
    _record(
        session,
        ticket,
        now,
        kind="repeat_detection",
        data={**_anomaly_data(anomaly), "previous_severity": previous_severity},
    )


def _record(
    session: Session,
    ticket: TicketRow,
    now: float,
    *,
    kind: str,
    to_status: TicketStatus | None = None,
    data: dict[str, Any],
) -> None:
    session.add(
        TicketEventRow(
            ticket_id=ticket.id,
            at=now,
            actor=DETECTOR,
            kind=kind,
            from_status=None,
            to_status=None if to_status is None else to_status.value,
            note=None,
            data=data,
        )
    )


def _anomaly_data(anomaly: Anomaly) -> dict[str, Any]:
    return {
        "detected_at": anomaly.detected_at,
        "onset_at": anomaly.onset_at,
        "severity": int(anomaly.severity),
        "confidence": anomaly.confidence,
        "summary": anomaly.summary,
    }
