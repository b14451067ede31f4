"""The demo's engagements, made the way a practice makes them: assessed, reviewed, signed.

Riverside invites two billing companies. Summit Billing Partners answers
well, offers its documents, is approved and signs the BAA: its engagement
opens. Keystone Claims Services answers badly (TLS 1.0, no MFA, nothing
encrypted at rest) and is rejected, so its biller reaches nothing of
Riverside's, and is told why. Every step goes through ``vendors/`` and
leaves its audit event, as it would for real people.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access.principal import Principal
from claimbridge.crypto.files import SealedFiles
from claimbridge.demo.accounts import KEYSTONE, RIVERSIDE, SUMMIT
from claimbridge.demo.vendor_answers import (
    AnswerValue,
    keystone_answers,
    summit_answers,
    summit_evidence,
    synthetic_pdf,
)
from claimbridge.storage.orgs import Organisation, OrgKind, Role, User
from claimbridge.vendors.agreements import BAATerms, record_baa
from claimbridge.vendors.assessments import answer, decide, invite, submit
from claimbridge.vendors.evidence import EvidenceUpload, add_evidence
from claimbridge.vendors.reviews import Verdict, review

__all__ = ["DemoEngagements", "engage_demo_vendors"]


@dataclass(frozen=True, slots=True)
class DemoEngagements:
    approved: str  # Riverside and Summit: open
    rejected: str  # Riverside and Keystone: shut


def engage_demo_vendors(session: Session, files: SealedFiles, *, now: datetime) -> DemoEngagements:
    today = now.date()
    practice_admin = _person(session, "admin@riverside.example", RIVERSIDE)
    summit = _assess(session, files, practice_admin, SUMMIT, summit_answers(today), now=now)
    _offer_evidence(session, files, summit, now=now)
    submit(session, _vendor_admin(session, SUMMIT), summit.assessment, now=now)
    for question in ("ADM-01", "ENC-01", "ACC-01", "TECH-01", "ORG-01", "ORG-02"):
        review(
            session, practice_admin, summit.assessment, question, verdict=Verdict.ACCEPT, now=now
        )
    # One finding to fix, not critical: ISO 27001 is on Summit's road map.
    review(
        session,
        practice_admin,
        summit.assessment,
        "CERT-08",
        verdict=Verdict.REMEDIATE,
        due_on=today + timedelta(days=90),
        critical=False,
        note="Plan the ISO/IEC 27001 certification; send the auditor's engagement letter.",
        now=now,
    )
    decide(
        session,
        practice_admin,
        summit.assessment,
        approve=True,
        note="Low residual risk; SOC 2 Type II clean; HSM-held keys.",
        now=now,
    )
    _sign(session, files, practice_admin, summit.engagement, today, now=now)

    keystone = _assess(session, files, practice_admin, KEYSTONE, keystone_answers(today), now=now)
    submit(session, _vendor_admin(session, KEYSTONE), keystone.assessment, now=now)
    review(
        session,
        practice_admin,
        keystone.assessment,
        "ACC-01",
        verdict=Verdict.REJECT,
        note="No MFA for staff who reach PHI.",
        now=now,
    )
    decide(
        session,
        practice_admin,
        keystone.assessment,
        approve=False,
        note="Critical findings: TLS 1.0, no MFA, PHI unencrypted at rest.",
        now=now,
    )
    return DemoEngagements(approved=summit.engagement, rejected=keystone.engagement)


@dataclass(frozen=True, slots=True)
class _Opened:
    engagement: str
    assessment: str
    vendor: str


def _assess(
    session: Session,
    files: SealedFiles,
    practice_admin: Principal,
    company: str,
    answers: dict[str, AnswerValue],
    *,
    now: datetime,
) -> _Opened:
    opened = invite(session, practice_admin, company, now=now)
    vendor_admin = _vendor_admin(session, company)
    answer(
        session,
        vendor_admin,
        opened["assessment_id"],
        {question: _json(value) for question, value in answers.items()},
        now=now,
    )
    return _Opened(opened["engagement_id"], opened["assessment_id"], company)


def _offer_evidence(
    session: Session, files: SealedFiles, opened: _Opened, *, now: datetime
) -> None:
    vendor_admin = _vendor_admin(session, opened.vendor)
    for document in summit_evidence(now.date()):
        add_evidence(
            session,
            vendor_admin,
            files,
            opened.assessment,
            upload=EvidenceUpload(
                question=document.question,
                title=document.title,
                issued_on=document.issued,
                expires_on=document.expires,
            ),
            content=io.BytesIO(synthetic_pdf(document.title)),
            now=now,
        )


def _sign(
    session: Session,
    files: SealedFiles,
    practice_admin: Principal,
    engagement: str,
    today: date,
    *,
    now: datetime,
) -> None:
    record_baa(
        session,
        files,
        practice_admin,
        engagement,
        terms=BAATerms(
            version="RFM-BAA-2026.1",
            practice_signatory="Rita Alvarez, Practice Administrator, Riverside Family Medicine",
            vendor_signatory="Victor Hale, Chief Executive, Summit Billing Partners",
            signed_on=today,
            effective_on=today,
            expires_on=today + timedelta(days=3 * 365),
            breach_notice_days=30,
            subcontractor_flow_down=True,
            on_termination="return_or_destroy",
        ),
        document=io.BytesIO(synthetic_pdf("Business associate agreement RFM-BAA-2026.1")),
        now=now,
    )


def _json(value: AnswerValue) -> object:
    return value.isoformat() if isinstance(value, date) else value


def _vendor_admin(session: Session, company: str) -> Principal:
    domain = {SUMMIT: "summit-billing.example", KEYSTONE: "keystone-claims.example"}[company]
    return _person(session, f"admin@{domain}", company)


def _person(session: Session, email: str, organisation: str) -> Principal:
    """The demo user ``email`` as a signed-in principal (with a second factor)."""
    user, org = session.execute(
        select(User, Organisation)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(User.email == email, Organisation.name == organisation)
    ).one()
    return Principal(
        user_id=user.id,
        organisation_id=org.id,
        organisation_kind=OrgKind(org.kind),
        roles=frozenset(Role(role.role) for role in user.roles),
        auth_method="password+totp",
        mfa=True,
    )
