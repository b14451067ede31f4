"""Vendor risk: assessments and their answers, evidence and reviews; BAAs; notices; exits.

An engagement (``storage/orgs.py``) is the door between a practice and a
billing company; these tables are what keeps it open. The gate that reads
them is ``access/engagements.py``; the workflow that writes them is
``vendors/``.

Documents (evidence, a signed BAA, a return package) are stored encrypted
in the blob store; a row keeps only the blob key, the SHA-256 of the
plaintext and its size. Evidence belongs to the billing company and is
sealed under its key; a BAA and a return package under the practice's.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

# Tables this one points at, so their metadata exists whenever this one is used.
from claimbridge.storage import orgs  # noqa: F401
from claimbridge.storage.base import Base, id_column
from claimbridge.storage.orgs import _in


class AssessmentStatus(enum.StrEnum):
    DRAFT = "draft"  # the billing company is answering
    SUBMITTED = "submitted"  # answers frozen; the practice reviews item by item
    APPROVED = "approved"  # the practice accepted the risk
    REJECTED = "rejected"  # the practice did not


class ReviewDecision(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REMEDIATION = "remediation"  # fix it by the due date


class NoticeKind(enum.StrEnum):
    LAPSED = "lapsed"  # a gate condition failed: access stopped
    RESTORED = "restored"  # every condition holds again: access resumed
    REMINDER = "reminder"  # a condition will fail soon
    TERMINATED = "terminated"
    SHREDDED = "shredded"


class Assessment(Base):
    """One answering of one questionnaire version, for one engagement."""

    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint(_in("status", AssessmentStatus), name="status"),
        Index("ix_assessments_engagement_created", "engagement_id", "created_at"),
    )

    id: Mapped[str] = id_column()
    engagement_id: Mapped[str] = mapped_column(ForeignKey("engagements.id", ondelete="RESTRICT"))
    questionnaire_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(36))
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(36))
    decision_note: Mapped[str | None] = mapped_column(Text)
    # The score as it stood at submission and at decision (JSON of
    # ``vendors.scoring.Score``), so a later reading shows what was judged.
    score: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[str | None] = mapped_column(String(10))


class AssessmentAnswer(Base):
    __tablename__ = "assessment_answers"

    assessment_id: Mapped[str] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The typed answer as JSON: ``{"value": ...}``; dates as ISO text, numbers as text.
    value: Mapped[str] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime]
    answered_by: Mapped[str | None] = mapped_column(String(36))


class AssessmentEvidence(Base):
    """A document offered for one question, in force from ``issued_on`` to ``expires_on``."""

    __tablename__ = "assessment_evidence"
    __table_args__ = (
        CheckConstraint("expires_on IS NULL OR expires_on >= issued_on", name="dates"),
        Index("ix_assessment_evidence_assessment_question", "assessment_id", "question_id"),
    )

    id: Mapped[str] = id_column()
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    # The questionnaire requires this proof and it expires: a certificate,
    # whose expiry shuts the gate (``access/engagements.py``).
    certificate: Mapped[bool] = mapped_column(Boolean, default=False)
    blob_key: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str | None] = mapped_column(String(36))


class AssessmentReview(Base):
    """The practice's verdict on one question of a submitted assessment."""

    __tablename__ = "assessment_reviews"
    __table_args__ = (
        CheckConstraint(_in("decision", ReviewDecision), name="decision"),
        CheckConstraint("(decision = 'remediation') = (due_on IS NOT NULL)", name="due_iff_fix"),
    )

    assessment_id: Mapped[str] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    decision: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed_at: Mapped[datetime]
    reviewed_by: Mapped[str | None] = mapped_column(String(36))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(36))
    resolution: Mapped[str | None] = mapped_column(Text)


class BusinessAssociateAgreement(Base):
    """A signed BAA and its key terms; the newest not superseded is the one in force."""

    __tablename__ = "baas"
    __table_args__ = (
        CheckConstraint("expires_on IS NULL OR expires_on > effective_on", name="dates"),
        CheckConstraint("breach_notice_days BETWEEN 1 AND 60", name="breach_notice"),
        CheckConstraint(
            "on_termination IN ('return', 'destroy', 'return_or_destroy')", name="on_termination"
        ),
        Index("ix_baas_engagement_signed", "engagement_id", "signed_at"),
    )

    id: Mapped[str] = id_column()
    engagement_id: Mapped[str] = mapped_column(ForeignKey("engagements.id", ondelete="RESTRICT"))
    version: Mapped[str] = mapped_column(String(40))
    practice_signatory: Mapped[str] = mapped_column(String(200))
    vendor_signatory: Mapped[str] = mapped_column(String(200))
    signed_on: Mapped[date] = mapped_column(Date)
    effective_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    # Key terms: days to report a breach to the practice (HIPAA's outer
    # limit is 60, 45 CFR 164.410), whether subcontractors are bound to the
    # same terms (164.502(e)(1)(ii)), and what happens to PHI at the end
    # (164.504(e)(2)(ii)(J)).
    breach_notice_days: Mapped[int] = mapped_column(Integer)
    subcontractor_flow_down: Mapped[bool] = mapped_column(Boolean)
    on_termination: Mapped[str] = mapped_column(String(20))
    blob_key: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    signed_at: Mapped[datetime]
    recorded_by: Mapped[str | None] = mapped_column(String(36))
    superseded_at: Mapped[datetime | None]


class EngagementNotice(Base):
    """A message to both sides of an engagement: a lapse, a restoration, a reminder."""

    __tablename__ = "engagement_notices"
    __table_args__ = (
        CheckConstraint(_in("kind", NoticeKind), name="kind"),
        # One reminder per condition, deadline and lead time, however often the watcher runs.
        UniqueConstraint(
            "engagement_id",
            "kind",
            "condition",
            "due_at",
            "lead_days",
            name="uq_engagement_notices_once",
        ),
        Index("ix_engagement_notices_engagement_created", "engagement_id", "created_at"),
    )

    id: Mapped[str] = id_column()
    engagement_id: Mapped[str] = mapped_column(ForeignKey("engagements.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(20))
    condition: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    lead_days: Mapped[int | None] = mapped_column(Integer)
    """For a reminder: how many days ahead of ``due_at`` it was given."""
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    delivery_error: Mapped[str | None] = mapped_column(Text)


class Termination(Base):
    """The end of an engagement: revoke, return, wait for receipt, shred, certify."""

    __tablename__ = "terminations"

    engagement_id: Mapped[str] = mapped_column(
        ForeignKey("engagements.id", ondelete="RESTRICT"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime]
    requested_by: Mapped[str | None] = mapped_column(String(36))
    package_blob_key: Mapped[str | None] = mapped_column(String(64))
    package_sha256: Mapped[str | None] = mapped_column(String(64))
    package_size: Mapped[int | None] = mapped_column(BigInteger)
    manifest: Mapped[str | None] = mapped_column(Text)
    shred_after: Mapped[datetime]
    receipt_confirmed_at: Mapped[datetime | None]
    receipt_confirmed_by: Mapped[str | None] = mapped_column(String(36))
    shredded_at: Mapped[datetime | None]
    # The signed certificate of destruction, exactly as issued (JSON bytes).
    certificate: Mapped[bytes | None] = mapped_column(LargeBinary)
