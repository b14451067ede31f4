"""The batch queue: a worker's lease on a received batch, and its attempts.

Revision ID: dc5f97620b9c
Revises: e52436280bf7
Create Date: 2026-11-27 05:14:42.228678
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dc5f97620b9c"
down_revision: str | None = "e52436280bf7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index("ix_batches_status_received", ["status", "received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index("ix_batches_status_received")
        batch_op.drop_column("attempts")
        batch_op.drop_column("lease_until")
