"""Key hierarchy: tenant KEK versions (wrapped by the root key) and data keys
(wrapped by a KEK). Neither table ever holds a key in the clear.

Revision ID: fb815a0bce84
Revises: 40e832acd4ee
Create Date: 2026-11-26 23:26:30.727068
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fb815a0bce84"
down_revision: str | None = "40e832acd4ee"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('field', 'blob', 'index')", name=op.f("ck_data_keys_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_data_keys_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_data_keys")),
    )
    with op.batch_alter_table("data_keys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_data_keys_org_kek_version", ["organisation_id", "kek_version"], unique=False
        )
        batch_op.create_index(
            "ix_data_keys_org_purpose", ["organisation_id", "purpose"], unique=False
        )

    op.create_table(
        "tenant_keks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=True),
        sa.Column("provider_id", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(state IN ('retired', 'destroyed')) = (wrapped IS NULL)",
            name=op.f("ck_tenant_keks_wrapped_iff_live"),
        ),
        sa.CheckConstraint(
            "state IN ('active', 'draining', 'retired', 'destroyed')",
            name=op.f("ck_tenant_keks_state"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_tenant_keks_version")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_tenant_keks_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_keks")),
    )
    with op.batch_alter_table("tenant_keks", schema=None) as batch_op:
        batch_op.create_index(
            "uq_tenant_keks_org_version", ["organisation_id", "version"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("tenant_keks", schema=None) as batch_op:
        batch_op.drop_index("uq_tenant_keks_org_version")

    op.drop_table("tenant_keks")
    with op.batch_alter_table("data_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_data_keys_org_purpose")
        batch_op.drop_index("ix_data_keys_org_kek_version")

    op.drop_table("data_keys")
