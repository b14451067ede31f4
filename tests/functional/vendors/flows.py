"""Steps of the assessment workflow for tests: answer well, upload what is required, sign a BAA.

Everything goes through ``vendors/`` as the people would, except the BAA,
which is written straight into its table as ``conftest.open_engagement``
does (recording a BAA is another service's work).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access.principal import Principal
from claimbridge.audit.record import unit_of_work
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.orgs import Engagement, Role
from claimbridge.storage.vendors import Assessment, BusinessAssociateAgreement
from claimbridge.vendors import assessments
from claimbridge.vendors.evidence import EvidenceUpload, add_evidence
from claimbridge.vendors.questionnaires import Question, latest
from tests.functional.vendors.conftest import VendorWorld

T = TypeVar("T")

CERTIFICATES = ("CERT-01", "CERT-07", "CERT-08", "INS-01")
"""Questions whose required evidence expires: their documents are certificates."""


def act(w: VendorWorld, work: Callable[[Session], T]) -> T:
    """One transaction, as a request runs: a refusal's audit event is committed first."""
    return unit_of_work(w.sessions, work)


def best_value(question: Question, today: dt.date) -> Any:
    """The answer, as JSON, that carries no risk."""
    if question.kind == "choice":
        return min(question.options, key=lambda o: o.risk).value
    if question.kind == "number":
        assert question.thresholds is not None
        return int(question.thresholds.bands[0].limit)
    if question.kind == "date":
        return (today - timedelta(days=30)).isoformat()
    return {"yes_no": True, "text": "none in the last five years"}[question.kind]


def good_answers(today: dt.date, **changes: Any) -> dict[str, Any]:
    """The best answer to every question of the latest version (``TECH_03=False`` overrides)."""
    answers = {q.id: best_value(q, today) for q in latest().questions() if q.kind != "evidence"}
    answers.update({key.replace("_", "-"): value for key, value in changes.items()})
    return answers


def invite(w: VendorWorld, practice: str, vendor: str) -> dict[str, Any]:
    admin = w.principal(practice, Role.PRACTICE_ADMIN)
    return act(w, lambda s: assessments.invite(s, admin, vendor, now=w.clock.now()))


def answer(w: VendorWorld, vendor: str, assessment_id: str, answers: dict[str, Any]) -> Any:
    admin = w.principal(vendor, Role.VENDOR_ADMIN)
    return act(w, lambda s: assessments.answer(s, admin, assessment_id, answers, now=w.clock.now()))


def upload(
    w: VendorWorld,
    vendor: str,
    assessment_id: str,
    question: str,
    *,
    issued: dt.date | None = None,
    expires: dt.date | None = None,
    content: bytes = b"%PDF-1.7 evidence",
    title: str | None = None,
    principal: Principal | None = None,
) -> dict[str, Any]:
    today = w.clock.now().date()
    meta = EvidenceUpload(
        question=question,
        title=title or f"{question} document",
        issued_on=issued or today - timedelta(days=20),
        expires_on=expires,
    )
    who = principal or w.principal(vendor, Role.VENDOR_ADMIN)
    return act(
        w,
        lambda s: add_evidence(
            s,
            who,
            w.files,
            assessment_id,
            upload=meta,
            content=io.BytesIO(content),
            now=w.clock.now(),
        ),
    )


def upload_required(
    w: VendorWorld, vendor: str, assessment_id: str, *, certificates_expire: dt.date | None = None
) -> None:
    """A document for every question that requires one; certificates good until the given day."""
    expires = certificates_expire or w.clock.now().date() + timedelta(days=300)
    for question in latest().questions():
        rule = question.evidence
        if rule is not None and rule.required:
            upload(
                w,
                vendor,
                assessment_id,
                question.id,
                expires=expires if rule.expires else None,
            )


def submitted(
    w: VendorWorld,
    practice: str,
    vendor: str,
    *,
    answers: dict[str, Any] | None = None,
    certificates_expire: dt.date | None = None,
) -> str:
    """Invite, answer everything well, upload what is required, submit: the assessment's id."""
    assessment_id = str(invite(w, practice, vendor)["assessment_id"])
    answer(w, vendor, assessment_id, answers or good_answers(w.clock.now().date()))
    upload_required(w, vendor, assessment_id, certificates_expire=certificates_expire)
    submit(w, vendor, assessment_id)
    return assessment_id


def submit(w: VendorWorld, vendor: str, assessment_id: str) -> Any:
    admin = w.principal(vendor, Role.VENDOR_ADMIN)
    return act(w, lambda s: assessments.submit(s, admin, assessment_id, now=w.clock.now()))


def decide(w: VendorWorld, practice: str, assessment_id: str, *, approve: bool) -> Any:
    admin = w.principal(practice, Role.PRACTICE_ADMIN)
    return act(
        w,
        lambda s: assessments.decide(
            s,
            admin,
            assessment_id,
            approve=approve,
            note="Reviewed with our compliance lead.",
            now=w.clock.now(),
        ),
    )


def sign_baa(w: VendorWorld, engagement_id: str, *, expires: dt.date | None = None) -> None:
    """A BAA in force from yesterday, written straight into its table (as the conftest does)."""
    now = w.clock.now()
    with w.sessions.begin() as session:
        session.add(
            BusinessAssociateAgreement(
                engagement_id=engagement_id,
                version="2026-1",
                practice_signatory="Dana Whitfield, Practice Administrator",
                vendor_signatory="Sam Ortega, Chief Executive",
                signed_on=(now - timedelta(days=1)).date(),
                effective_on=(now - timedelta(days=1)).date(),
                expires_on=expires,
                breach_notice_days=30,
                subcontractor_flow_down=True,
                on_termination="return_or_destroy",
                blob_key="0" * 64,
                sha256="0" * 64,
                size=0,
                media_type="application/pdf",
                signed_at=now - timedelta(days=1),
            )
        )
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None
        engagement.baa_signed_at = now - timedelta(days=1)


def engagement_of(w: VendorWorld, assessment_id: str) -> Engagement:
    with w.sessions() as session:
        assessment = session.get(Assessment, assessment_id)
        assert assessment is not None
        engagement = session.get(Engagement, assessment.engagement_id)
        assert engagement is not None
        return engagement


def events(w: VendorWorld, *, prefix: str = "vendors:") -> list[AuditEvent]:
    """This world's audit events (by tenant or actor), oldest first."""
    orgs = [w.riverside, w.lakeside, w.summit, w.northwind]
    with w.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.action.startswith(prefix),
                    AuditEvent.tenant_id.in_(orgs) | AuditEvent.actor_org_id.in_(orgs),
                )
                .order_by(AuditEvent.seq)
            )
        )
