"""Batch manifests, receipts and direction, with the unique keys that make a
batch arrive once, and the queue's lease and attempts; organisations'
Ed25519 signing keys (a server-held one's seed sealed).

Revision ID: e52436280bf7
Revises: 225ffa7fc6e7
Create Date: 2026-11-27 04:48:07.906250
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e52436280bf7"
down_revision: str | None = "225ffa7fc6e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FORMATS = "'x12-837p', 'x12-837i', 'csv', 'fhir-r4'"
_FORMAT_CHECK = "format IN ({})"
_STATUSES = "'received', 'ingested', 'rejected'"
_STATUS_CHECK = "status IN ({})"


def upgrade() -> None:
    op.create_table(
        "org_signing_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("private_key", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(
            "length(public_key) = 64", name=op.f("ck_org_signing_keys_public_key_hex")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_org_signing_keys_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_signing_keys")),
        sa.UniqueConstraint("organisation_id", "key_id", name="uq_org_signing_keys_key"),
    )
    with op.batch_alter_table("org_signing_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_org_signing_keys_organisation_id"), ["organisation_id"], unique=False
        )

    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("manifest_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("manifest", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("interchange_control", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("receipt", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index("ix_batches_status_received", ["status", "received_at"], unique=False)
        batch_op.add_column(sa.Column("in_reply_to", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_batches_in_reply_to"), ["in_reply_to"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_batches_in_reply_to_batches"),
            "batches",
            ["in_reply_to"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.drop_constraint(batch_op.f("ck_batches_format"), type_="check")
        batch_op.create_check_constraint("format", _FORMAT_CHECK.format(_FORMATS + ", 'x12-999'"))
        batch_op.drop_constraint(batch_op.f("ck_batches_status"), type_="check")
        batch_op.create_check_constraint("status", _STATUS_CHECK.format(_STATUSES + ", 'issued'"))
        batch_op.add_column(
            sa.Column("direction", sa.String(length=10), nullable=False, server_default="inbound")
        )
        batch_op.create_check_constraint("direction", "direction IN ('inbound', 'outbound')")
        batch_op.create_unique_constraint("uq_batches_content", ["practice_id", "content_sha256"])
        batch_op.create_unique_constraint(
            "uq_batches_interchange", ["practice_id", "interchange_control"]
        )
        batch_op.create_unique_constraint("uq_batches_manifest", ["practice_id", "manifest_id"])


def downgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_constraint("uq_batches_manifest", type_="unique")
        batch_op.drop_constraint("uq_batches_interchange", type_="unique")
        batch_op.drop_constraint("uq_batches_content", type_="unique")
        batch_op.drop_constraint(op.f("ck_batches_direction"), type_="check")
        batch_op.drop_column("direction")
        batch_op.drop_constraint(batch_op.f("ck_batches_format"), type_="check")
        batch_op.create_check_constraint("format", _FORMAT_CHECK.format(_FORMATS))
        batch_op.drop_constraint(batch_op.f("ck_batches_status"), type_="check")
        batch_op.create_check_constraint("status", _STATUS_CHECK.format(_STATUSES))
        batch_op.drop_constraint(batch_op.f("fk_batches_in_reply_to_batches"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_batches_in_reply_to"))
        batch_op.drop_column("in_reply_to")
        batch_op.drop_index("ix_batches_status_received")
        batch_op.drop_column("attempts")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("receipt")
        batch_op.drop_column("interchange_control")
        batch_op.drop_column("manifest")
        batch_op.drop_column("manifest_id")

    with op.batch_alter_table("org_signing_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_signing_keys_organisation_id"))

    op.drop_table("org_signing_keys")
