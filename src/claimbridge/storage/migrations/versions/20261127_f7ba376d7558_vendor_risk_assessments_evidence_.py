"""vendor risk: assessments, evidence, reviews, BAAs, notices, terminations

Revision ID: f7ba376d7558
Revises: 16ad6bea6276
Create Date: 2026-11-27 10:43:22.757331
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f7ba376d7558"
down_revision: str | None = "16ad6bea6276"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("engagement_id", sa.String(length=36), nullable=False),
        sa.Column("questionnaire_version", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("score", sa.Text(), nullable=True),
        sa.Column("rating", sa.String(length=10), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'approved', 'rejected')",
            name=op.f("ck_assessments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_assessments_engagement_id_engagements"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assessments_engagement_created", ["engagement_id", "created_at"], unique=False
        )

    op.create_table(
        "baas",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("engagement_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("practice_signatory", sa.String(length=200), nullable=False),
        sa.Column("vendor_signatory", sa.String(length=200), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("breach_notice_days", sa.Integer(), nullable=False),
        sa.Column("subcontractor_flow_down", sa.Boolean(), nullable=False),
        sa.Column("on_termination", sa.String(length=20), nullable=False),
        sa.Column("blob_key", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=36), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "on_termination IN ('return', 'destroy', 'return_or_destroy')",
            name=op.f("ck_baas_on_termination"),
        ),
        sa.CheckConstraint(
            "breach_notice_days BETWEEN 1 AND 60", name=op.f("ck_baas_breach_notice")
        ),
        sa.CheckConstraint(
            "expires_on IS NULL OR expires_on > effective_on", name=op.f("ck_baas_dates")
        ),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_baas_engagement_id_engagements"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_baas")),
    )
    with op.batch_alter_table("baas", schema=None) as batch_op:
        batch_op.create_index(
            "ix_baas_engagement_signed", ["engagement_id", "signed_at"], unique=False
        )

    op.create_table(
        "engagement_notices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("engagement_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("condition", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lead_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('lapsed', 'restored', 'reminder', 'terminated', 'shredded')",
            name=op.f("ck_engagement_notices_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_engagement_notices_engagement_id_engagements"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_notices")),
        sa.UniqueConstraint(
            "engagement_id",
            "kind",
            "condition",
            "due_at",
            "lead_days",
            name="uq_engagement_notices_once",
        ),
    )
    with op.batch_alter_table("engagement_notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_engagement_notices_engagement_created",
            ["engagement_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "terminations",
        sa.Column("engagement_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=36), nullable=True),
        sa.Column("package_blob_key", sa.String(length=64), nullable=True),
        sa.Column("package_sha256", sa.String(length=64), nullable=True),
        sa.Column("package_size", sa.BigInteger(), nullable=True),
        sa.Column("manifest", sa.Text(), nullable=True),
        sa.Column("shred_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("receipt_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("receipt_confirmed_by", sa.String(length=36), nullable=True),
        sa.Column("shredded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("certificate", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_terminations_engagement_id_engagements"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("engagement_id", name=op.f("pk_terminations")),
    )
    op.create_table(
        "assessment_answers",
        sa.Column("assessment_id", sa.String(length=36), nullable=False),
        sa.Column("question_id", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_assessment_answers_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assessment_id", "question_id", name=op.f("pk_assessment_answers")),
    )
    op.create_table(
        "assessment_evidence",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("assessment_id", sa.String(length=36), nullable=False),
        sa.Column("question_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("certificate", sa.Boolean(), nullable=False),
        sa.Column("blob_key", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(length=36), nullable=True),
        sa.CheckConstraint(
            "expires_on IS NULL OR expires_on >= issued_on",
            name=op.f("ck_assessment_evidence_dates"),
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_assessment_evidence_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_evidence")),
    )
    with op.batch_alter_table("assessment_evidence", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assessment_evidence_assessment_question",
            ["assessment_id", "question_id"],
            unique=False,
        )

    op.create_table(
        "assessment_reviews",
        sa.Column("assessment_id", sa.String(length=36), nullable=False),
        sa.Column("question_id", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=36), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=36), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(decision = 'remediation') = (due_on IS NOT NULL)",
            name=op.f("ck_assessment_reviews_due_iff_fix"),
        ),
        sa.CheckConstraint(
            "decision IN ('accepted', 'rejected', 'remediation')",
            name=op.f("ck_assessment_reviews_decision"),
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_assessment_reviews_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assessment_id", "question_id", name=op.f("pk_assessment_reviews")),
    )
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lapse_condition", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("lapse_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("lapsed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("reassessment_months", sa.Integer(), server_default="12", nullable=False)
        )
        batch_op.add_column(sa.Column("invited_by", sa.String(length=36), nullable=True))
    # Until the gate first runs, an engagement stays open exactly as long as before.
    op.execute(
        "UPDATE engagements SET active_until = assessment_expires_at WHERE baa_signed_at IS NOT NULL"
    )
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_column("assessment_expires_at")


def downgrade() -> None:
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("assessment_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE engagements SET assessment_expires_at = active_until")
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_column("invited_by")
        batch_op.drop_column("reassessment_months")
        batch_op.drop_column("lapsed_at")
        batch_op.drop_column("lapse_reason")
        batch_op.drop_column("lapse_condition")
        batch_op.drop_column("active_until")

    op.drop_table("assessment_reviews")
    with op.batch_alter_table("assessment_evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_evidence_assessment_question")

    op.drop_table("assessment_evidence")
    op.drop_table("assessment_answers")
    op.drop_table("terminations")
    with op.batch_alter_table("engagement_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_engagement_notices_engagement_created")

    op.drop_table("engagement_notices")
    with op.batch_alter_table("baas", schema=None) as batch_op:
        batch_op.drop_index("ix_baas_engagement_signed")

    op.drop_table("baas")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_engagement_created")

    op.drop_table("assessments")
