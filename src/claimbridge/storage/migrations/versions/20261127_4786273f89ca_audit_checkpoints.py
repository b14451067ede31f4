"""Audit checkpoints: signed Merkle roots of the log at given sizes, with the
compact range at each so the next one reads only newer events.

Revision ID: 4786273f89ca
Revises: a7d1e2f3c4b5
Create Date: 2026-11-27 00:58:24.133959
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4786273f89ca"
down_revision: str | None = "a7d1e2f3c4b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column(
            "tree_size",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed", sa.String(length=2000), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
