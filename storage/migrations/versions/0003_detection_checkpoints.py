"""Detection checkpoints: the engine's saved state, one row per engine name.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

Written by hand like 0001 and 0002 (a frozen column list); runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "detection_checkpoints",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("saved_at", sa.Double(), nullable=False),
        sa.Column("watermark", sa.Double(), nullable=True),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_detection_checkpoints"),
    )


def downgrade() -> None:
    op.drop_table("detection_checkpoints")
