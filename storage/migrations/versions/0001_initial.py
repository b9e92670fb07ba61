"""Initial schema: devices, tickets and their timeline, anomalies, dead letters.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written by hand; the values below are frozen copies, not imports from storage.models,
so that later edits to the models cannot change what this revision does.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
OPEN_TICKET = "status NOT IN ('auto_resolved', 'cancelled', 'closed', 'resolved')"
KNOWN_STATUS = (
    "status IN ('assigned', 'auto_resolved', 'cancelled', 'closed', 'en_route', "
    "'on_site', 'opened', 'resolved')"
)


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("serial", sa.String(), nullable=True),
        sa.Column("production_batch", sa.String(), nullable=True),
        sa.Column("firmware", sa.String(), nullable=True),
        sa.Column("install_date", sa.Date(), nullable=True),
        sa.Column("customer_tier", sa.String(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", name="pk_devices"),
    )
    op.create_index("ix_devices_type_device_id", "devices", ["type", "device_id"])
    op.create_index("ix_devices_customer_id", "devices", ["customer_id"])

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("fault_code", sa.String(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("opened_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("detected_at", sa.Double(), nullable=False),
        sa.Column("onset_at", sa.Double(), nullable=False),
        sa.Column("last_detected_at", sa.Double(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("diagnosis", JSON, nullable=False),
        sa.Column("technician_id", sa.String(), nullable=True),
        sa.Column("respond_by", sa.Double(), nullable=True),
        sa.Column("resolve_by", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.device_id"], name="fk_tickets_device_id_devices"
        ),
        sa.CheckConstraint(KNOWN_STATUS, name=op.f("ck_tickets_status_known")),
    )
    op.create_index(
        "uq_tickets_open_device_fault",
        "tickets",
        ["device_id", "fault_code"],
        unique=True,
        sqlite_where=sa.text(OPEN_TICKET),
        postgresql_where=sa.text(OPEN_TICKET),
    )
    op.create_index("ix_tickets_device_id_id", "tickets", ["device_id", "id"])
    op.create_index("ix_tickets_status_id", "tickets", ["status", "id"])

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("from_status", sa.String(), nullable=True),
        sa.Column("to_status", sa.String(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_events"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_ticket_events_ticket_id_tickets",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_ticket_events_ticket_id_id", "ticket_events", ["ticket_id", "id"])

    op.create_table(
        "anomalies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("fault_code", sa.String(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("detected_at", sa.Double(), nullable=False),
        sa.Column("onset_at", sa.Double(), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("diagnosis", JSON, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_anomalies"),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.device_id"], name="fk_anomalies_device_id_devices"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_anomalies_ticket_id_tickets",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_anomalies_device_id_id", "anomalies", ["device_id", "id"])
    op.create_index("ix_anomalies_ticket_id", "anomalies", ["ticket_id"])

    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("device_id", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_index("ix_dead_letters_reason_id", "dead_letters", ["reason", "id"])


def downgrade() -> None:
    op.drop_table("dead_letters")
    op.drop_table("anomalies")
    op.drop_table("ticket_events")
    op.drop_table("tickets")
    op.drop_table("devices")
