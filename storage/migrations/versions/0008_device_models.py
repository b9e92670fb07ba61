"""The device-model catalog: what a maker states about each model.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08

Runs on SQLite and PostgreSQL (JSON text on SQLite, JSONB on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "device_models",
        sa.Column("model", sa.String(), primary_key=True),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("reporting_interval_s", sa.Double(), nullable=True),
        sa.Column("ranges", _JSON, nullable=False),
        sa.Column("ratings", _JSON, nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("device_models")
