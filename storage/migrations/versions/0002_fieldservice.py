"""Field service: customers, technicians, work orders, SLA state, closure checks, outbox, audit.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-15

Written by hand, like 0001: the column lists are frozen copies, not imports from
storage.models. Only new tables, so it runs unchanged on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("preferred_windows", JSON, nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("access_notes", sa.Text(), nullable=True),
        sa.Column("utc_offset_min", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customers"),
    )

    op.create_table(
        "technicians",
        sa.Column("technician_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("base_lat", sa.Double(), nullable=False),
        sa.Column("base_lon", sa.Double(), nullable=False),
        sa.Column("radius_km", sa.Double(), nullable=False),
        sa.Column("shift_start_min", sa.Integer(), nullable=False),
        sa.Column("shift_end_min", sa.Integer(), nullable=False),
        sa.Column("workdays", JSON, nullable=False),
        sa.Column("utc_offset_min", sa.Integer(), nullable=False),
        sa.Column("daily_capacity", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("technician_id", name="pk_technicians"),
    )
    op.create_index("ix_technicians_active", "technicians", ["active"])

    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("technician_id", sa.String(), nullable=True),
        sa.Column("hold_until", sa.Double(), nullable=True),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("household_key", sa.String(), nullable=True),
        sa.Column("service_day", sa.String(), nullable=True),
        sa.Column("route_seq", sa.Integer(), nullable=True),
        sa.Column("eta", sa.Double(), nullable=True),
        sa.Column("window_start", sa.Double(), nullable=True),
        sa.Column("window_end", sa.Double(), nullable=True),
        sa.Column("travel_km", sa.Double(), nullable=True),
        sa.Column("estimated_minutes", sa.Integer(), nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_work_orders"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_work_orders_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.technician_id"],
            name="fk_work_orders_technician_id_technicians",
        ),
        sa.UniqueConstraint("ticket_id", name="uq_work_orders_ticket_id"),
    )
    op.create_index("ix_work_orders_status_id", "work_orders", ["status", "id"])
    op.create_index(
        "ix_work_orders_technician_id_service_day",
        "work_orders",
        ["technician_id", "service_day"],
    )

    op.create_table(
        "ticket_sla",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("responded_at", sa.Double(), nullable=True),
        sa.Column("resolved_at", sa.Double(), nullable=True),
        sa.Column("closed_at", sa.Double(), nullable=True),
        sa.Column("respond_state", sa.String(), nullable=False),
        sa.Column("resolve_state", sa.String(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_ticket_sla"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_ticket_sla_ticket_id_tickets",
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "closure_checks",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("resolved_at", sa.Double(), nullable=False),
        sa.Column("normal_since", sa.Double(), nullable=True),
        sa.Column("observed_until", sa.Double(), nullable=True),
        sa.Column("quiet_s", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_closure_checks"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_closure_checks_ticket_id_tickets",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_closure_checks_status_device_id", "closure_checks", ["status", "device_id"])

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column("audience", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=True),
        sa.Column("technician_id", sa.String(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Double(), nullable=False),
        sa.Column("lease_until", sa.Double(), nullable=True),
        sa.Column("leased_by", sa.String(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("sent_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_notifications_ticket_id_tickets",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("idempotency_key", name="uq_notifications_idempotency_key"),
    )
    op.create_index(
        "ix_notifications_status_next_attempt_at",
        "notifications",
        ["status", "next_attempt_at"],
    )
    op.create_index("ix_notifications_customer_id_id", "notifications", ["customer_id", "id"])
    op.create_index("ix_notifications_ticket_id_id", "notifications", ["ticket_id", "id"])

    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entries"),
        sa.UniqueConstraint("event_id", name="uq_audit_entries_event_id"),
        sa.UniqueConstraint("hash", name="uq_audit_entries_hash"),
    )
    op.create_index("ix_audit_entries_ticket_id", "audit_entries", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("audit_entries")
    op.drop_table("notifications")
    op.drop_table("closure_checks")
    op.drop_table("ticket_sla")
    op.drop_table("work_orders")
    op.drop_table("technicians")
    op.drop_table("customers")
