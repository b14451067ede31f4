"""practice keyset indexes

Revision ID: 0cb75dece76e
Revises: f7ba376d7558
Create Date: 2026-11-27 12:20:04.239488
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0cb75dece76e"
down_revision: str | None = "f7ba376d7558"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_practice_id"))
        batch_op.create_index("ix_claims_practice_id_id", ["practice_id", "id"], unique=False)

    with op.batch_alter_table("coverages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coverages_practice_id"))
        batch_op.create_index("ix_coverages_practice_id_id", ["practice_id", "id"], unique=False)

    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_encounters_practice_id"))
        batch_op.create_index("ix_encounters_practice_id_id", ["practice_id", "id"], unique=False)

    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index("ix_findings_practice_id_id", ["practice_id", "id"], unique=False)

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patients_practice_id"))
        batch_op.create_index("ix_patients_practice_id_id", ["practice_id", "id"], unique=False)

    with op.batch_alter_table("service_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_lines_practice_id_id", ["practice_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("service_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_service_lines_practice_id_id")

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index("ix_patients_practice_id_id")
        batch_op.create_index(batch_op.f("ix_patients_practice_id"), ["practice_id"], unique=False)

    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_practice_id_id")

    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_index("ix_encounters_practice_id_id")
        batch_op.create_index(
            batch_op.f("ix_encounters_practice_id"), ["practice_id"], unique=False
        )

    with op.batch_alter_table("coverages", schema=None) as batch_op:
        batch_op.drop_index("ix_coverages_practice_id_id")
        batch_op.create_index(batch_op.f("ix_coverages_practice_id"), ["practice_id"], unique=False)

    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index("ix_claims_practice_id_id")
        batch_op.create_index(batch_op.f("ix_claims_practice_id"), ["practice_id"], unique=False)
