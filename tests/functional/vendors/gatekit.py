"""What the BAA, gate and watcher tests share: a patient of Riverside, gate conditions
written as the workflow would write them (then the gate run, as every service must),
a signed BAA through the real service, and the audit events of one engagement."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access.engagements import refresh
from claimbridge.access.principal import Principal
from claimbridge.audit.record import unit_of_work
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.phi.gateway import Gateway
from claimbridge.phi.records import PatientRecord, patient_row
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.orgs import Engagement, EngagementStatus, Role
from claimbridge.storage.vendors import (
    Assessment,
    AssessmentEvidence,
    AssessmentReview,
    AssessmentStatus,
    BusinessAssociateAgreement,
    EngagementNotice,
)
from claimbridge.vendors.agreements import BAATerms, record_baa
from claimbridge.vendors.questionnaires import latest
from tests.functional.vendors.conftest import VendorWorld

PDF = b"%PDF-1.7\n% signed business associate agreement\n1 0 obj << >> endobj\n%%EOF\n"


def write_patient(w: VendorWorld, practice: str) -> str:
    """One patient of ``practice``, sealed the way the intake seals it."""
    with w.sessions.begin() as session:
        row = patient_row(
            FieldSealer(w.keyring, session, practice),
            PatientRecord(
                mrn="MRN-GATE-1",
                given_name="Avery",
                family_name="Quill",
                birth_date=date(1980, 5, 17),
            ),
            now=w.clock.now(),
        )
        session.add(row)
        return row.id


def read_patient(w: VendorWorld, principal: Principal, patient_id: str) -> dict[str, Any]:
    """The patient through the PHI gateway, as a request would read it (refusals committed)."""

    def work(session: Session) -> dict[str, Any]:
        gateway = Gateway(session, w.keyring, principal, now=w.clock.now())
        return gateway.get_patient(patient_id)

    return unit_of_work(w.sessions, work)


def biller(w: VendorWorld, company: str) -> Principal:
    return w.principal(company, Role.BILLER)


def admin(w: VendorWorld, practice: str) -> Principal:
    return w.principal(practice, Role.PRACTICE_ADMIN)


def terms(w: VendorWorld, **changes: Any) -> BAATerms:
    today = w.clock.now().date()
    values: dict[str, Any] = {
        "version": "2026-2",
        "practice_signatory": "Dana Whitfield, Practice Administrator",
        "vendor_signatory": "Sam Ortega, Chief Executive",
        "signed_on": today,
        "effective_on": today,
        "expires_on": today + timedelta(days=365),
        "breach_notice_days": 30,
        "subcontractor_flow_down": True,
        "on_termination": "return_or_destroy",
    }
    values.update(changes)
    return BAATerms(**values)


def sign_baa(
    w: VendorWorld,
    engagement_id: str,
    *,
    by: Principal | None = None,
    document: bytes = PDF,
    media_type: str | None = "application/pdf",
    **changes: Any,
) -> dict[str, Any]:
    """Record a BAA through the service, as the practice's admin unless ``by`` says."""
    principal = by or admin(w, _practice_of(w, engagement_id))

    def work(session: Session) -> dict[str, Any]:
        row = record_baa(
            session,
            w.files,
            principal,
            engagement_id,
            terms=terms(w, **changes),
            document=io.BytesIO(document),
            media_type=media_type,
            now=w.clock.now(),
        )
        return {"id": row.id, "sha256": row.sha256, "size": row.size}

    return unit_of_work(w.sessions, work)


def _practice_of(w: VendorWorld, engagement_id: str) -> str:
    with w.sessions() as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None
        return engagement.practice_id


def engagement_without_baa(w: VendorWorld, practice: str, vendor: str) -> str:
    """An engagement whose assessment is approved but which has no BAA yet."""
    now = w.clock.now()
    with w.sessions.begin() as session:
        engagement = Engagement(
            practice_id=practice,
            billing_company_id=vendor,
            status=EngagementStatus.ASSESSING.value,
            created_at=now - timedelta(days=40),
        )
        session.add(engagement)
        session.flush()
        session.add(_approved(engagement.id, now - timedelta(days=20)))
        refresh(session, engagement, now=now)
        return engagement.id


def _approved(engagement_id: str, decided_at: datetime, status: str = "approved") -> Assessment:
    return Assessment(
        engagement_id=engagement_id,
        questionnaire_version=latest().version,
        status=AssessmentStatus(status).value,
        created_at=decided_at - timedelta(days=5),
        submitted_at=decided_at - timedelta(days=3),
        decided_at=decided_at,
        rating="low" if status == "approved" else "critical",
    )


def decide_assessment(w: VendorWorld, engagement_id: str, status: str) -> str:
    """A new assessment decided ``status`` now (what the review workflow writes), gate run."""
    with w.sessions.begin() as session:
        row = _approved(engagement_id, w.clock.now(), status)
        session.add(row)
        session.flush()
        _refresh(session, engagement_id, w)
        return row.id


def set_reassessment_months(w: VendorWorld, engagement_id: str, months: int) -> None:
    with w.sessions.begin() as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None
        engagement.reassessment_months = months
        refresh(session, engagement, now=w.clock.now())


def approved_assessment(session: Session, engagement_id: str) -> Assessment:
    found = session.scalars(
        select(Assessment)
        .where(
            Assessment.engagement_id == engagement_id,
            Assessment.status == AssessmentStatus.APPROVED.value,
        )
        .order_by(Assessment.decided_at.desc())
    ).first()
    assert found is not None
    return found


def add_remediation(
    w: VendorWorld, engagement_id: str, question: str, *, due_on: date, critical: bool
) -> None:
    with w.sessions.begin() as session:
        assessment = approved_assessment(session, engagement_id)
        session.add(
            AssessmentReview(
                assessment_id=assessment.id,
                question_id=question,
                decision="remediation",
                note="fix it",
                due_on=due_on,
                critical=critical,
                reviewed_at=w.clock.now(),
            )
        )
        session.flush()
        _refresh(session, engagement_id, w)


def resolve_remediation(w: VendorWorld, engagement_id: str, question: str) -> None:
    with w.sessions.begin() as session:
        assessment = approved_assessment(session, engagement_id)
        review = session.get(AssessmentReview, (assessment.id, question))
        assert review is not None
        review.resolved_at = w.clock.now()
        review.resolution = "done"
        session.flush()
        _refresh(session, engagement_id, w)


def add_certificate(w: VendorWorld, engagement_id: str, question: str, *, expires_on: date) -> None:
    """A required certificate (evidence the questionnaire requires, that expires)."""
    with w.sessions.begin() as session:
        assessment = approved_assessment(session, engagement_id)
        session.add(
            AssessmentEvidence(
                assessment_id=assessment.id,
                question_id=question,
                title="SOC 2 Type II report",
                issued_on=expires_on - timedelta(days=365),
                expires_on=expires_on,
                certificate=True,
                blob_key="0" * 64,
                sha256="0" * 64,
                size=0,
                media_type="application/pdf",
                uploaded_at=w.clock.now(),
            )
        )
        session.flush()
        _refresh(session, engagement_id, w)


def _refresh(session: Session, engagement_id: str, w: VendorWorld) -> None:
    engagement = session.get(Engagement, engagement_id)
    assert engagement is not None
    refresh(session, engagement, now=w.clock.now())


def engagement(w: VendorWorld, engagement_id: str) -> Engagement:
    with w.sessions() as session:
        found = session.get(Engagement, engagement_id)
        assert found is not None
        return found


def events(w: VendorWorld, action: str, *, resource_id: str | None = None) -> list[AuditEvent]:
    with w.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        if resource_id is not None:
            query = query.where(AuditEvent.resource_id == resource_id)
        return list(session.scalars(query.order_by(AuditEvent.seq)))


def notices(w: VendorWorld, engagement_id: str) -> list[EngagementNotice]:
    with w.sessions() as session:
        return list(
            session.scalars(
                select(EngagementNotice)
                .where(EngagementNotice.engagement_id == engagement_id)
                .order_by(EngagementNotice.created_at, EngagementNotice.condition)
            )
        )


def baas(w: VendorWorld, engagement_id: str) -> list[BusinessAssociateAgreement]:
    with w.sessions() as session:
        return list(
            session.scalars(
                select(BusinessAssociateAgreement)
                .where(BusinessAssociateAgreement.engagement_id == engagement_id)
                .order_by(BusinessAssociateAgreement.signed_at)
            )
        )
