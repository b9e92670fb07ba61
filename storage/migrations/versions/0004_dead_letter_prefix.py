"""Dead letters keep the first 4 KiB of a payload, its size and SHA-256, not the payload.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

Letters stored whole before are cut one row at a time (a payload may be megabytes), so the
migration never holds more than one in memory. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX_BYTES = 4096  # frozen here: storage.dead_letters.PREFIX_BYTES may change later
_BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("payload_prefix", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("payload_bytes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("payload_sha256", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM dead_letters"))]
    for start in range(0, len(ids), _BATCH):
        updates = []
        for letter_id in ids[start : start + _BATCH]:
            payload = bytes(
                connection.execute(
                    sa.text("SELECT payload FROM dead_letters WHERE id = :id"), {"id": letter_id}
                ).scalar_one()
            )
            updates.append(
                {
                    "id": letter_id,
                    "prefix": payload[:PREFIX_BYTES],
                    "size": len(payload),
                    "sha": hashlib.sha256(payload).hexdigest(),
                }
            )
        connection.execute(
            sa.text(
                "UPDATE dead_letters SET payload_prefix = :prefix, payload_bytes = :size,"
                " payload_sha256 = :sha WHERE id = :id"
            ),
            updates,
        )
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("payload")
        batch.alter_column("payload_prefix", existing_type=sa.LargeBinary(), nullable=False)
        batch.alter_column("payload_bytes", existing_type=sa.Integer(), nullable=False)
        batch.alter_column(
            "payload_sha256", existing_type=sa.String(length=64), nullable=False
        )
    op.create_index("ix_dead_letters_received_at", "dead_letters", ["received_at"])


def downgrade() -> None:
    # The cut bytes are gone: the prefix comes back as the payload.
    op.drop_index("ix_dead_letters_received_at", table_name="dead_letters")
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("payload", sa.LargeBinary(), nullable=True))
    op.execute("UPDATE dead_letters SET payload = payload_prefix")
    with op.batch_alter_table("dead_letters") as batch:
        batch.alter_column("payload", existing_type=sa.LargeBinary(), nullable=False)
        batch.drop_column("payload_sha256")
        batch.drop_column("payload_bytes")
        batch.drop_column("payload_prefix")
