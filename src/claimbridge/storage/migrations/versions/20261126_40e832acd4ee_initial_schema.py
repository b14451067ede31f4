"""Initial schema: organisations, users and roles, engagements, patients,
coverages, encounters, claims, service lines, batches and audit events.

Revision ID: 40e832acd4ee
Revises:
Create Date: 2026-11-26 23:18:57.331608
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "40e832acd4ee"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.String(length=36), nullable=True),
        sa.Column("actor_org_id", sa.String(length=36), nullable=True),
        sa.Column("actor_roles", sa.JSON(), nullable=False),
        sa.Column("auth_method", sa.String(length=30), nullable=True),
        sa.Column("source_address", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("resource_type", sa.String(length=50), nullable=True),
        sa.Column("resource_id", sa.String(length=100), nullable=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("patient_ref", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=30), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("event_hash", sa.LargeBinary(length=32), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('success', 'denied', 'failure')", name=op.f("ck_audit_events_outcome")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("id", name=op.f("uq_audit_events_id")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index("ix_audit_events_patient_ref", ["patient_ref"], unique=False)
        batch_op.create_index(
            "ix_audit_events_tenant_time", ["tenant_id", "occurred_at"], unique=False
        )

    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("npi", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('practice', 'billing_company', 'operator', 'auditor')",
            name=op.f("ck_organisations_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    op.create_table(
        "engagements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("practice_id", sa.String(length=36), nullable=False),
        sa.Column("billing_company_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("baa_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assessment_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('invited', 'assessing', 'active', 'suspended', 'terminated')",
            name=op.f("ck_engagements_status"),
        ),
        sa.CheckConstraint(
            "practice_id <> billing_company_id", name=op.f("ck_engagements_two_parties")
        ),
        sa.ForeignKeyConstraint(
            ["billing_company_id"],
            ["organisations.id"],
            name=op.f("fk_engagements_billing_company_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["organisations.id"],
            name=op.f("fk_engagements_practice_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagements")),
        sa.UniqueConstraint(
            "practice_id",
            "billing_company_id",
            "created_at",
            name=op.f("uq_engagements_practice_id"),
        ),
    )
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_engagements_billing_company_status", ["billing_company_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_engagements_practice_id"), ["practice_id"], unique=False
        )

    op.create_table(
        "patients",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("practice_id", sa.String(length=36), nullable=False),
        sa.Column("mrn_index", sa.String(length=64), nullable=True),
        sa.Column("name_dob_index", sa.String(length=64), nullable=True),
        sa.Column("mrn", sa.LargeBinary(), nullable=True),
        sa.Column("given_name", sa.LargeBinary(), nullable=False),
        sa.Column("family_name", sa.LargeBinary(), nullable=False),
        sa.Column("birth_date", sa.LargeBinary(), nullable=False),
        sa.Column("sex", sa.LargeBinary(), nullable=True),
        sa.Column("address", sa.LargeBinary(), nullable=True),
        sa.Column("phone", sa.LargeBinary(), nullable=True),
        sa.Column("ssn", sa.LargeBinary(), nullable=True),
        sa.Column("deceased_on", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["organisations.id"],
            name=op.f("fk_patients_practice_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
    )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patients_practice_id"), ["practice_id"], unique=False)
        batch_op.create_index(
            "ix_patients_practice_mrn", ["practice_id", "mrn_index"], unique=False
        )
        batch_op.create_index(
            "ix_patients_practice_name_dob", ["practice_id", "name_dob_index"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f("ck_users_status")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lower")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_users_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_users_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("practice_id", sa.String(length=36), nullable=False),
        sa.Column("recipient_id", sa.String(length=36), nullable=True),
        sa.Column("sender_user_id", sa.String(length=36), nullable=True),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("blob_key", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("accepted_count", sa.Integer(), nullable=False),
        sa.Column("rejected_count", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "format IN ('x12-837p', 'x12-837i', 'csv', 'fhir-r4')", name=op.f("ck_batches_format")
        ),
        sa.CheckConstraint(
            "status IN ('received', 'ingested', 'rejected')", name=op.f("ck_batches_status")
        ),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_batches_size")),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["organisations.id"],
            name=op.f("fk_batches_practice_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["organisations.id"],
            name=op.f("fk_batches_recipient_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["sender_user_id"],
            ["users.id"],
            name=op.f("fk_batches_sender_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_batches_practice_received", ["practice_id", "received_at"], unique=False
        )

    op.create_table(
        "coverages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("practice_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("payer_name", sa.String(length=200), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("relationship_code", sa.String(length=20), nullable=False),
        sa.Column("member_id_index", sa.String(length=64), nullable=True),
        sa.Column("member_id", sa.LargeBinary(), nullable=False),
        sa.Column("group_number", sa.LargeBinary(), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("effective_through", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("priority BETWEEN 1 AND 3", name=op.f("ck_coverages_priority")),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_coverages_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["organisations.id"],
            name=op.f("fk_coverages_practice_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverages")),
    )
    with op.batch_alter_table("coverages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coverages_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coverages_practice_id"), ["practice_id"], unique=False)
        batch_op.create_index(
            "ix_coverages_practice_member", ["practice_id", "member_id_index"], unique=False
        )

    op.create_table(
        "encounters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("practice_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("rendering_npi", sa.String(length=10), nullable=False),
        sa.Column("date_of_service", sa.Date(), nullable=False),
        sa.Column("place_of_service", sa.String(length=2), nullable=False),
        sa.Column("documentation", sa.LargeBinary(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("attested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('ehr', 'attestation', 'demo')", name=op.f("ck_encounters_source")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_encounters_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["organisations.id"],
            name=op.f("fk_encounters_practice_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encounters")),
    )
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_encounters_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "ix_encounters_practice_date", ["practice_id", "date_of_service"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_encounters_practice_id"), ["practice_id"], unique=False
        )

    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.CheckConstraint(
            "role IN ('practice_admin', 'practice_staff', 'privacy_officer', 'vendor_admin', 'biller', 'coder', 'operator', 'auditor')",
            name=op.f("ck_user_roles_role"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "claims",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("practice_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("coverage_id", sa.String(length=36), nullable=True),
        sa.Column("encounter_id", sa.String(length=36), nullable=True),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("patient_account", sa.LargeBinary(), nullable=True),
        sa.Column("billing_npi", sa.String(length=10), nullable=False),
        sa.Column("rendering_npi", sa.String(length=10), nullable=True),
        sa.Column("place_of_service", sa.String(length=2), nullable=False),
        sa.Column("frequency_code", sa.String(length=1), nullable=False),
        sa.Column("diagnoses", sa.JSON(), nullable=False),
        sa.Column("total_charge_cents", sa.BigInteger(), nullable=False),
        sa.Column("service_from", sa.Date(), nullable=False),
        sa.Column("service_through", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('received', 'flagged', 'ready', 'submitted', 'accepted', 'denied', 'paid', 'void')",
            name=op.f("ck_claims_status"),
        ),
        sa.CheckConstraint("total_charge_cents >= 0", name=op.f("ck_claims_charge")),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
            name=op.f("fk_claims_batch_id_batches"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["coverage_id"],
            ["coverages.id"],
            name=op.f("fk_claims_coverage_id_coverages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounters.id"],
            name=op.f("fk_claims_encounter_id_encounters"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_claims_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["organisations.id"],
            name=op.f("fk_claims_practice_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claims_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_encounter_id"), ["encounter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_practice_id"), ["practice_id"], unique=False)
        batch_op.create_index(
            "ix_claims_practice_service_from", ["practice_id", "service_from"], unique=False
        )
        batch_op.create_index("ix_claims_practice_status", ["practice_id", "status"], unique=False)

    op.create_table(
        "service_lines",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("claim_id", sa.String(length=36), nullable=False),
        sa.Column("practice_id", sa.String(length=36), nullable=False),
        sa.Column("line_number", sa.SmallInteger(), nullable=False),
        sa.Column("procedure_code", sa.String(length=5), nullable=False),
        sa.Column("modifiers", sa.JSON(), nullable=False),
        sa.Column("units", sa.Numeric(precision=10, scale=3), nullable=False),
        sa.Column("charge_cents", sa.BigInteger(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("diagnosis_pointers", sa.JSON(), nullable=False),
        sa.Column("ndc", sa.String(length=11), nullable=True),
        sa.Column("place_of_service", sa.String(length=2), nullable=True),
        sa.CheckConstraint("charge_cents >= 0", name=op.f("ck_service_lines_charge")),
        sa.CheckConstraint(
            "line_number BETWEEN 1 AND 50", name=op.f("ck_service_lines_line_number")
        ),
        sa.CheckConstraint("units > 0", name=op.f("ck_service_lines_units")),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claims.id"],
            name=op.f("fk_service_lines_claim_id_claims"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["organisations.id"],
            name=op.f("fk_service_lines_practice_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_lines")),
        sa.UniqueConstraint("claim_id", "line_number", name=op.f("uq_service_lines_claim_id")),
    )
    with op.batch_alter_table("service_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_lines_practice_code_date",
            ["practice_id", "procedure_code", "service_date"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("service_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_service_lines_practice_code_date")

    op.drop_table("service_lines")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index("ix_claims_practice_status")
        batch_op.drop_index("ix_claims_practice_service_from")
        batch_op.drop_index(batch_op.f("ix_claims_practice_id"))
        batch_op.drop_index(batch_op.f("ix_claims_patient_id"))
        batch_op.drop_index(batch_op.f("ix_claims_encounter_id"))
        batch_op.drop_index(batch_op.f("ix_claims_batch_id"))

    op.drop_table("claims")
    op.drop_table("user_roles")
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_encounters_practice_id"))
        batch_op.drop_index("ix_encounters_practice_date")
        batch_op.drop_index(batch_op.f("ix_encounters_patient_id"))

    op.drop_table("encounters")
    with op.batch_alter_table("coverages", schema=None) as batch_op:
        batch_op.drop_index("ix_coverages_practice_member")
        batch_op.drop_index(batch_op.f("ix_coverages_practice_id"))
        batch_op.drop_index(batch_op.f("ix_coverages_patient_id"))

    op.drop_table("coverages")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index("ix_batches_practice_received")

    op.drop_table("batches")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_organisation_id"))

    op.drop_table("users")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index("ix_patients_practice_name_dob")
        batch_op.drop_index("ix_patients_practice_mrn")
        batch_op.drop_index(batch_op.f("ix_patients_practice_id"))

    op.drop_table("patients")
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagements_practice_id"))
        batch_op.drop_index("ix_engagements_billing_company_status")

    op.drop_table("engagements")
    op.drop_table("organisations")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_tenant_time")
        batch_op.drop_index("ix_audit_events_patient_ref")
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
