"""Stored Merkle subtree roots for fast proofs; retention purges as the one way out.

``audit_tree_nodes`` keeps the roots of large perfect subtrees, so an
inclusion or consistency proof reads O(log n) rows. ``audit_purges``
records each retention purge with the anchor the rest of the log verifies
from, and the delete guard on ``audit_events`` now lets an event go only
when a purge row covers it; UPDATE and TRUNCATE stay refused outright.

Revision ID: 225ffa7fc6e7
Revises: 4786273f89ca
Create Date: 2026-11-27 01:33:00.494463
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "225ffa7fc6e7"
down_revision: str | None = "4786273f89ca"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


MESSAGE = "audit_events is append-only"
COVERED_BY_PURGE = "EXISTS (SELECT 1 FROM audit_purges WHERE audit_purges.through_seq >= OLD.seq)"


def upgrade() -> None:
    op.create_table(
        "audit_purges",
        sa.Column(
            "through_seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("head_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.PrimaryKeyConstraint("through_seq", name=op.f("pk_audit_purges")),
    )
    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "idx",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_audit_tree_nodes")),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute(
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
            f"WHEN NOT {COVERED_BY_PURGE} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'DELETE' AND {COVERED_BY_PURGE} THEN RETURN OLD; END IF; "
        f"RAISE EXCEPTION '{MESSAGE}'; END $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute(
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
    op.drop_table("audit_tree_nodes")
    op.drop_table("audit_purges")
