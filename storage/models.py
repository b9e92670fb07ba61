"""Relational tables: devices, anomalies, tickets with their timeline, and dead letters.

Every timestamp is a float of Unix seconds. Event time (`detected_at`, `onset_at`) comes
from the readings; wall-clock time (`created_at`, `opened_at`, `updated_at`, `at`,
`respond_by`, `resolve_by`, `received_at`) from the caller's clock.
"""

from __future__ import annotations

import time
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON text on SQLite, JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class TicketStatus(StrEnum):
    """Where a service ticket is in its life; the last four are final."""

    OPENED = "opened"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    AUTO_RESOLVED = "auto_resolved"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES: frozenset[TicketStatus] = frozenset(
    {
        TicketStatus.RESOLVED,
        TicketStatus.CLOSED,
        TicketStatus.CANCELLED,
        TicketStatus.AUTO_RESOLVED,
    }
)
OPEN_STATUSES: frozenset[TicketStatus] = frozenset(TicketStatus) - FINAL_STATUSES


def _sql_list(values: frozenset[TicketStatus]) -> str:
    return ", ".join(f"'{value.value}'" for value in sorted(values))


# Written out as SQL, identical in the model, the migration and both dialects: a status
# added later counts as open (and so stays unique) until it is listed here.
OPEN_TICKET_PREDICATE = f"status NOT IN ({_sql_list(FINAL_STATUSES)})"
KNOWN_STATUS_CHECK = f"status IN ({_sql_list(frozenset(TicketStatus))})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DeviceRow(Base):
    """A provisioned appliance (`domain.DeviceInfo` as a row)."""

    __tablename__ = "devices"
    __table_args__ = (
        Index("ix_devices_type_device_id", "type", "device_id"),
        Index("ix_devices_customer_id", "customer_id"),
    )

    device_id: Mapped[str] = mapped_column(String, primary_key=True)
    type: Mapped[str] = mapped_column(String)
    model: Mapped[str] = mapped_column(String)
    customer_id: Mapped[str] = mapped_column(String)
    lat: Mapped[float] = mapped_column(Double)
    lon: Mapped[float] = mapped_column(Double)
    serial: Mapped[str | None] = mapped_column(String)
    production_batch: Mapped[str | None] = mapped_column(String)
    firmware: Mapped[str | None] = mapped_column(String)
    install_date: Mapped[date | None] = mapped_column(Date)
    customer_tier: Mapped[str] = mapped_column(String)
    created_at: Mapped[float] = mapped_column(Double, default=time.time)


class TicketRow(Base):
    """A service ticket: one fault on one device, from detection to closure."""

    __tablename__ = "tickets"
    __table_args__ = (
        # At most one open ticket per device and fault, whoever inserts it.
        Index(
            "uq_tickets_open_device_fault",
            "device_id",
            "fault_code",
            unique=True,
            sqlite_where=text(OPEN_TICKET_PREDICATE),
            postgresql_where=text(OPEN_TICKET_PREDICATE),
        ),
        Index("ix_tickets_device_id_id", "device_id", "id"),
        Index("ix_tickets_status_id", "status", "id"),
        CheckConstraint(KNOWN_STATUS_CHECK, name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(String, ForeignKey("devices.device_id"))
    fault_code: Mapped[str] = mapped_column(String)
    severity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String)
    opened_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)
    detected_at: Mapped[float] = mapped_column(Double)
    onset_at: Mapped[float] = mapped_column(Double)
    last_detected_at: Mapped[float] = mapped_column(Double)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    # The catalog entry plus the detector's evidence, confidence and summary.
    diagnosis: Mapped[dict[str, Any]] = mapped_column(JSONType)
    technician_id: Mapped[str | None] = mapped_column(String)
    respond_by: Mapped[float | None] = mapped_column(Double)
    resolve_by: Mapped[float | None] = mapped_column(Double)


class TicketEventRow(Base):
    """One entry of a ticket's timeline: opened, repeat detection, status change, note."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[float] = mapped_column(Double)
    actor: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    from_status: Mapped[str | None] = mapped_column(String)
    to_status: Mapped[str | None] = mapped_column(String)
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class AnomalyRow(Base):
    """A detector's confirmed finding (`domain.Anomaly` as a row), linked to its ticket."""

    __tablename__ = "anomalies"
    __table_args__ = (
        Index("ix_anomalies_device_id_id", "device_id", "id"),
        Index("ix_anomalies_ticket_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(String, ForeignKey("devices.device_id"))
    fault_code: Mapped[str] = mapped_column(String)
    severity: Mapped[int] = mapped_column(Integer)
    detected_at: Mapped[float] = mapped_column(Double)
    onset_at: Mapped[float] = mapped_column(Double)
    confidence: Mapped[float] = mapped_column(Double)
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType)
    diagnosis: Mapped[dict[str, Any]] = mapped_column(JSONType)
    ticket_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="SET NULL")
    )
    created_at: Mapped[float] = mapped_column(Double, default=time.time)


class DeadLetterRow(Base):
    """A message ingest rejected, kept with its reason for inspection."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_reason_id", "reason", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[float] = mapped_column(Double)
    topic: Mapped[str] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(String)
    reason: Mapped[str] = mapped_column(String)
    detail: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
