"""People and their doors: credentials, device consent, job reports, visit ratings, device
presence, and a work order's window pinned by hand.

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-07

Written by hand like the others (a frozen column list); runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=True),
        sa.Column("revoked_at", sa.Double(), nullable=True),
        sa.Column("last_used_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_access_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_access_tokens_token_hash"),
    )
    op.create_index("ix_access_tokens_role_subject", "access_tokens", ["role", "subject"])
    op.create_index("ix_access_tokens_parent_id", "access_tokens", ["parent_id"])
    op.create_table(
        "device_consents",
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("monitoring", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("updated_by", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.device_id"],
            name="fk_device_consents_device_id_devices",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", name="pk_device_consents"),
    )
    op.create_table(
        "job_reports",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.String(), nullable=True),
        sa.Column("checklist_done", JSONType, nullable=False),
        sa.Column("parts_used", JSONType, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_job_reports_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_job_reports"),
    )
    op.create_table(
        "visit_ratings",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("rated_at", sa.Double(), nullable=False),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name="ck_visit_ratings_stars_range"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_visit_ratings_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_visit_ratings"),
    )
    op.create_table(
        "device_presence",
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("last_seen_ts", sa.Double(), nullable=False),
        sa.Column("last_arrival_at", sa.Double(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.device_id"],
            name="fk_device_presence_device_id_devices",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", name="pk_device_presence"),
    )
    with op.batch_alter_table("work_orders") as batch:
        batch.add_column(sa.Column("pinned_by", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_orders") as batch:
        batch.drop_column("pinned_by")
    op.drop_table("device_presence")
    op.drop_table("visit_ratings")
    op.drop_table("job_reports")
    op.drop_table("device_consents")
    op.drop_index("ix_access_tokens_parent_id", table_name="access_tokens")
    op.drop_index("ix_access_tokens_role_subject", table_name="access_tokens")
    op.drop_table("access_tokens")
