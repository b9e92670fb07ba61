"""Relational tables: devices, anomalies, tickets with their timeline, dead letters, field service.

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
    Boolean,
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
    """A message ingest rejected, kept with its reason for inspection: the first bytes of its
    payload, with the whole payload's size and SHA-256 (a payload may be megabytes)."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_reason_id", "reason", "id"),
        Index("ix_dead_letters_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[float] = mapped_column(Double)
    topic: Mapped[str] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(String)
    reason: Mapped[str] = mapped_column(String)
    detail: Mapped[str] = mapped_column(Text)
    payload_prefix: Mapped[bytes] = mapped_column(LargeBinary)
    payload_bytes: Mapped[int] = mapped_column(Integer)
    payload_sha256: Mapped[str] = mapped_column(String(64))


# --- Field service (issue 6): customers, technicians, work orders, SLA state, closure
# verification, the notification outbox and the audit chain.


class CustomerRow(Base):
    """How to reach a customer and when a technician may come (contact, language, windows)."""

    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str | None] = mapped_column(String)
    email: Mapped[str | None] = mapped_column(String)
    phone: Mapped[str | None] = mapped_column(String)
    language: Mapped[str] = mapped_column(String, default="en")
    # Channels to use for this customer's alerts: any of "email", "webhook", "mqtt".
    channels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    # [{"weekdays": [0..6] (Monday is 0), "start": "14:00", "end": "16:00"}, ...], local time.
    preferred_windows: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    address: Mapped[str | None] = mapped_column(Text)
    access_notes: Mapped[str | None] = mapped_column(Text)
    utc_offset_min: Mapped[int] = mapped_column(Integer, default=480)
    created_at: Mapped[float] = mapped_column(Double, default=time.time)
    updated_at: Mapped[float] = mapped_column(Double, default=time.time)


class TechnicianRow(Base):
    """A field technician: skills per device type, base, service radius, hours, capacity."""

    __tablename__ = "technicians"
    __table_args__ = (Index("ix_technicians_active", "active"),)

    technician_id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    skills: Mapped[list[str]] = mapped_column(JSONType)
    base_lat: Mapped[float] = mapped_column(Double)
    base_lon: Mapped[float] = mapped_column(Double)
    radius_km: Mapped[float] = mapped_column(Double)
    # Working hours as minutes after local midnight, on the listed weekdays (Monday is 0).
    shift_start_min: Mapped[int] = mapped_column(Integer, default=8 * 60)
    shift_end_min: Mapped[int] = mapped_column(Integer, default=18 * 60)
    workdays: Mapped[list[int]] = mapped_column(JSONType, default=list)
    utc_offset_min: Mapped[int] = mapped_column(Integer, default=480)
    daily_capacity: Mapped[int] = mapped_column(Integer, default=6)
    email: Mapped[str | None] = mapped_column(String)
    phone: Mapped[str | None] = mapped_column(String)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String, default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Double, default=time.time)


class WorkOrderRow(Base):
    """A ticket's work order: dispatch state, the technician and slot, the pre-filled job sheet."""

    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_status_id", "status", "id"),
        Index("ix_work_orders_technician_id_service_day", "technician_id", "service_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), unique=True
    )
    # pending (to dispatch) / held (household incident) / queued (nobody eligible) /
    # scheduled / done / cancelled
    status: Mapped[str] = mapped_column(String)
    technician_id: Mapped[str | None] = mapped_column(
        String, ForeignKey("technicians.technician_id")
    )
    hold_until: Mapped[float | None] = mapped_column(Double)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    household_key: Mapped[str | None] = mapped_column(String)
    service_day: Mapped[str | None] = mapped_column(String)
    route_seq: Mapped[int | None] = mapped_column(Integer)
    eta: Mapped[float | None] = mapped_column(Double)
    window_start: Mapped[float | None] = mapped_column(Double)
    window_end: Mapped[float | None] = mapped_column(Double)
    travel_km: Mapped[float | None] = mapped_column(Double)
    estimated_minutes: Mapped[int] = mapped_column(Integer, default=60)
    content: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # Who fixed the window by hand (e.g. "customer:c-17" rescheduling): routing keeps it.
    pinned_by: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


class TicketSlaRow(Base):
    """A ticket's service-level clock: tier, priority, milestones met and escalations made."""

    __tablename__ = "ticket_sla"

    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tier: Mapped[str] = mapped_column(String)
    priority: Mapped[int] = mapped_column(Integer)
    # When the SLA clock (re)started: opening, or reopening.
    started_at: Mapped[float] = mapped_column(Double)
    responded_at: Mapped[float | None] = mapped_column(Double)
    resolved_at: Mapped[float | None] = mapped_column(Double)
    closed_at: Mapped[float | None] = mapped_column(Double)
    # ok / at_risk / breached, per milestone; escalations fire once per level.
    respond_state: Mapped[str] = mapped_column(String, default="ok")
    resolve_state: Mapped[str] = mapped_column(String, default="ok")
    updated_at: Mapped[float] = mapped_column(Double)


class DeviceModelRow(Base):
    """A device-model catalog entry (`domain.DeviceModelSpec`): what the maker states."""

    __tablename__ = "device_models"

    model: Mapped[str] = mapped_column(String, primary_key=True)
    type: Mapped[str] = mapped_column(String)
    reporting_interval_s: Mapped[float | None] = mapped_column(Double)
    # {"metric": [low, high]} and {"rating": value}
    ranges: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    ratings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[float] = mapped_column(Double, default=time.time)


class ClosureCheckRow(Base):
    """Telemetry-verified closure of a resolved ticket: watching the device stay normal."""

    __tablename__ = "closure_checks"
    __table_args__ = (Index("ix_closure_checks_status_device_id", "status", "device_id"),)

    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[str] = mapped_column(String)
    # watching / passed / failed
    status: Mapped[str] = mapped_column(String)
    resolved_at: Mapped[float] = mapped_column(Double)
    # Event time: the first reading seen after the repair; since when the fault's own
    # clear condition has held (None while the fault still shows); the newest reading.
    watch_since: Mapped[float | None] = mapped_column(Double)
    normal_since: Mapped[float | None] = mapped_column(Double)
    observed_until: Mapped[float | None] = mapped_column(Double)
    # What the detector last said while the fault still showed after the repair.
    clear_detail: Mapped[str | None] = mapped_column(String)
    quiet_s: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


class NotificationRow(Base):
    """One message in the transactional outbox: written with the change, delivered later.

    `idempotency_key` is unique and travels with every delivery attempt (Idempotency-Key
    header, SMTP Message-ID, MQTT payload), so a retry after a crash can be deduplicated.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notifications_customer_id_id", "customer_id", "id"),
        Index("ix_notifications_ticket_id_id", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String, unique=True)
    audience: Mapped[str] = mapped_column(String)  # customer / technician / desk
    kind: Mapped[str] = mapped_column(String)
    channel: Mapped[str] = mapped_column(String)  # email / webhook / mqtt
    recipient: Mapped[str] = mapped_column(Text)
    customer_id: Mapped[str | None] = mapped_column(String)
    technician_id: Mapped[str | None] = mapped_column(String)
    ticket_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="SET NULL")
    )
    language: Mapped[str] = mapped_column(String, default="en")
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # pending / sending / sent / dead
    status: Mapped[str] = mapped_column(String)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(Double)
    lease_until: Mapped[float | None] = mapped_column(Double)
    leased_by: Mapped[str | None] = mapped_column(String)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Double)
    sent_at: Mapped[float | None] = mapped_column(Double)


class AuditEntryRow(Base):
    """One link of the audit hash chain: a ticket event as canonical JSON, hashed with the last."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_ticket_id", "ticket_id"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(Integer, unique=True)
    ticket_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[float] = mapped_column(Double)
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class DetectionCheckpointRow(Base):
    """The detection engine's saved state (gzip JSON), so a restart or another worker
    carries on with every learned baseline instead of warming up again."""

    __tablename__ = "detection_checkpoints"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    saved_at: Mapped[float] = mapped_column(Double)
    watermark: Mapped[float | None] = mapped_column(Double)
    devices: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


# --- People and their doors (issue 12): credentials, consent, job reports, ratings, and
# what ingest last heard from each device.


class AccessTokenRow(Base):
    """A credential: a sign-in link, a browser session made from one, or an API token.

    Only the SHA-256 of the secret is stored. `role` is operator / technician / customer and
    `subject` who that is (an operator's name, a technician or customer id); a session
    remembers the link it came from (`parent_id`), so revoking the link ends its sessions.
    """

    __tablename__ = "access_tokens"
    __table_args__ = (
        Index("ix_access_tokens_role_subject", "role", "subject"),
        Index("ix_access_tokens_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String)  # link / session / api
    role: Mapped[str] = mapped_column(String)
    subject: Mapped[str] = mapped_column(String)
    label: Mapped[str | None] = mapped_column(String)
    parent_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float | None] = mapped_column(Double)
    revoked_at: Mapped[float | None] = mapped_column(Double)
    last_used_at: Mapped[float | None] = mapped_column(Double)


class DeviceConsentRow(Base):
    """The owner's say over one appliance: proactive monitoring on or off (on when absent)."""

    __tablename__ = "device_consents"

    device_id: Mapped[str] = mapped_column(
        String, ForeignKey("devices.device_id", ondelete="CASCADE"), primary_key=True
    )
    monitoring: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[float] = mapped_column(Double)
    updated_by: Mapped[str] = mapped_column(String)


class JobReportRow(Base):
    """The technician's report on a ticket: checklist steps done, parts used, a note."""

    __tablename__ = "job_reports"

    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    technician_id: Mapped[str | None] = mapped_column(String)
    # Indexes into the work order's checklist.
    checklist_done: Mapped[list[int]] = mapped_column(JSONType, default=list)
    parts_used: Mapped[list[str]] = mapped_column(JSONType, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Double)


class VisitRatingRow(Base):
    """How the customer rated a visit (1 to 5 stars) once it was done."""

    __tablename__ = "visit_ratings"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),)

    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String)
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[float] = mapped_column(Double)


class DevicePresenceRow(Base):
    """What ingest last heard from a device: the newest reading (event and arrival time) and
    how many readings arrived or went missing (gaps in `seq`) since it was first heard."""

    __tablename__ = "device_presence"

    device_id: Mapped[str] = mapped_column(
        String, ForeignKey("devices.device_id", ondelete="CASCADE"), primary_key=True
    )
    last_seen_ts: Mapped[float] = mapped_column(Double)
    last_arrival_at: Mapped[float] = mapped_column(Double)
    received: Mapped[int] = mapped_column(Integer, default=0)
    missing: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[float] = mapped_column(Double)
