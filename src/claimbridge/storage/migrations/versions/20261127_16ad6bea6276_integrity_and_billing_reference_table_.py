"""integrity and billing: reference table versions, findings, what claims and practices need for scrubbing and outbound 837s

Revision ID: 16ad6bea6276
Revises: e52436280bf7
Create Date: 2026-11-27 09:09:18.079593
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "16ad6bea6276"
down_revision: str | None = "e52436280bf7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reference_tables",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("quarter", sa.String(length=6), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("loaded_by", sa.String(length=36), nullable=True),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('ncci-ptp', 'ncci-mue', 'oig-leie')", name=op.f("ck_reference_tables_kind")
        ),
        sa.CheckConstraint(
            "status IN ('loading', 'ready')", name=op.f("ck_reference_tables_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_tables")),
        sa.UniqueConstraint("kind", "sha256", name=op.f("uq_reference_tables_kind")),
    )
    with op.batch_alter_table("reference_tables", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reference_tables_kind_effective", ["kind", "effective_from"], unique=False
        )

    op.create_table(
        "leie_exclusions",
        sa.Column("table_id", sa.String(length=36), nullable=False),
        sa.Column("row", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("npi", sa.String(length=10), nullable=True),
        sa.Column("name_key", sa.String(length=200), nullable=True),
        sa.Column("entry", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["reference_tables.id"],
            name=op.f("fk_leie_exclusions_table_id_reference_tables"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("table_id", "row", name=op.f("pk_leie_exclusions")),
    )
    with op.batch_alter_table("leie_exclusions", schema=None) as batch_op:
        batch_op.create_index("ix_leie_exclusions_name", ["table_id", "name_key"], unique=False)
        batch_op.create_index("ix_leie_exclusions_npi", ["table_id", "npi"], unique=False)

    op.create_table(
        "ncci_mue_edits",
        sa.Column("table_id", sa.String(length=36), nullable=False),
        sa.Column("row", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("max_units", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.SmallInteger(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["reference_tables.id"],
            name=op.f("fk_ncci_mue_edits_table_id_reference_tables"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("table_id", "row", name=op.f("pk_ncci_mue_edits")),
    )
    with op.batch_alter_table("ncci_mue_edits", schema=None) as batch_op:
        batch_op.create_index("ix_ncci_mue_edits_code", ["table_id", "code"], unique=False)

    op.create_table(
        "ncci_ptp_edits",
        sa.Column("table_id", sa.String(length=36), nullable=False),
        sa.Column("row", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("column1", sa.String(length=5), nullable=False),
        sa.Column("column2", sa.String(length=5), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("exists_before_1996", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Date(), nullable=True),
        sa.Column("modifier_indicator", sa.SmallInteger(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["reference_tables.id"],
            name=op.f("fk_ncci_ptp_edits_table_id_reference_tables"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("table_id", "row", name=op.f("pk_ncci_ptp_edits")),
    )
    with op.batch_alter_table("ncci_ptp_edits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ncci_ptp_edits_pair", ["table_id", "column1", "column2"], unique=False
        )

    op.create_table(
        "findings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("practice_id", sa.String(length=36), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("claim_id", sa.String(length=36), nullable=True),
        sa.Column("line_number", sa.SmallInteger(), nullable=True),
        sa.Column("provider_npi", sa.String(length=10), nullable=True),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=5), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("remedy", sa.Text(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.LargeBinary(), nullable=True),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("severity IN ('block', 'warn')", name=op.f("ck_findings_severity")),
        sa.CheckConstraint(
            "status IN ('open', 'overridden', 'resolved')", name=op.f("ck_findings_status")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
            name=op.f("fk_findings_batch_id_batches"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claims.id"],
            name=op.f("fk_findings_claim_id_claims"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["organisations.id"],
            name=op.f("fk_findings_practice_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index("ix_findings_batch", ["batch_id"], unique=False)
        batch_op.create_index("ix_findings_claim", ["claim_id"], unique=False)
        batch_op.create_index(
            "ix_findings_practice_status", ["practice_id", "status"], unique=False
        )

    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referring_npi", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("rendering_family", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("rendering_given", sa.String(length=35), nullable=True))
        batch_op.add_column(sa.Column("taxonomy", sa.String(length=10), nullable=True))

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_id", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("address_line", sa.String(length=55), nullable=True))
        batch_op.add_column(sa.Column("address_city", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("address_state", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("address_postal_code", sa.String(length=15), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("address_postal_code")
        batch_op.drop_column("address_state")
        batch_op.drop_column("address_city")
        batch_op.drop_column("address_line")
        batch_op.drop_column("tax_id")

    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_column("taxonomy")
        batch_op.drop_column("rendering_given")
        batch_op.drop_column("rendering_family")
        batch_op.drop_column("referring_npi")

    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_practice_status")
        batch_op.drop_index("ix_findings_claim")
        batch_op.drop_index("ix_findings_batch")

    op.drop_table("findings")
    with op.batch_alter_table("ncci_ptp_edits", schema=None) as batch_op:
        batch_op.drop_index("ix_ncci_ptp_edits_pair")

    op.drop_table("ncci_ptp_edits")
    with op.batch_alter_table("ncci_mue_edits", schema=None) as batch_op:
        batch_op.drop_index("ix_ncci_mue_edits_code")

    op.drop_table("ncci_mue_edits")
    with op.batch_alter_table("leie_exclusions", schema=None) as batch_op:
        batch_op.drop_index("ix_leie_exclusions_npi")
        batch_op.drop_index("ix_leie_exclusions_name")

    op.drop_table("leie_exclusions")
    with op.batch_alter_table("reference_tables", schema=None) as batch_op:
        batch_op.drop_index("ix_reference_tables_kind_effective")

    op.drop_table("reference_tables")
