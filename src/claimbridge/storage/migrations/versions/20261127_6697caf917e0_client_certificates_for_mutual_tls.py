"""Client certificates for mutual TLS: machine clients registered to an
organisation, identified by their certificate's SHA-256 fingerprint.

Revision ID: 6697caf917e0
Revises: ceaaa0422abd
Create Date: 2026-11-27 00:48:14.247875
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6697caf917e0"
down_revision: str | None = "ceaaa0422abd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_certificates",
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("registered_by", sa.String(length=36), nullable=True),
        sa.Column("certificate_pem", sa.String(length=20000), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_client_certificates_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registered_by"],
            ["users.id"],
            name=op.f("fk_client_certificates_registered_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("fingerprint_sha256", name=op.f("pk_client_certificates")),
    )
    with op.batch_alter_table("client_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_client_certificates_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("client_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_certificates_organisation_id"))

    op.drop_table("client_certificates")
