"""Closure checks remember when the watch began and why the fault has not cleared.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08

A repair is confirmed only when the fault's own clear condition has held for the quiet
period; a check that never sees it clear fails after `closure_verify_s`, counted from the
first reading after the repair (`watch_since`). `clear_detail` is what the detector last
said while the fault still showed. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("closure_checks") as batch:
        batch.add_column(sa.Column("watch_since", sa.Double(), nullable=True))
        batch.add_column(sa.Column("clear_detail", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("closure_checks") as batch:
        batch.drop_column("clear_detail")
        batch.drop_column("watch_since")
