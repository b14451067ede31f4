"""Choosing a billing company: candidates side by side, each with its latest assessment.

``load_candidates`` reads, for one practice, what it knows of each
candidate: the newest engagement with that practice, its latest
assessment (answers, evidence, reviews) and the BAA on record. A
practice never sees what a billing company answered to another
practice: a candidate it has not invited is shown "not assessed".

``compare`` is pure: the same candidates on the same day give the same
comparison. Each assessment is scored again as of ``today`` (so an
expired certificate counts now, not as it stood when submitted), and the
comparison lists, per candidate, what a practice weighs when choosing:
risk per section and overall, missing and expired evidence, certificates
expiring soon, open and past-due remediation, and the BAA.

The JSON of ``Comparison.to_json()``::

    {
      "as_of": "2026-03-02",
      "expiring_within_days": 60,
      "candidates": [                       # best first: lowest residual risk,
        {                                   # then name; not assessed last
          "rank": 1,
          "company": {"id": "...", "name": "Summit Billing Partners"},
          "engagement": {"id": "...", "status": "active",
                         "lapse_condition": null} | null,
          "assessment": {"id": "...", "status": "approved",
                         "questionnaire_version": "hipaa-security-2026-1",
                         "submitted_on": "2026-01-30", "decided_on": "2026-02-01",
                         "decided_rating": "low"} | null,
          "score": {"inherent": 74.5, "residual": 8.1, "rating": "low",
                    "sections": [{"section": "ADM", "title": "...",
                                  "inherent": 80.0, "residual": 0.0,
                                  "rating": "low"}, ...],
                    "reasons": [{"question": "...", "kind": "...",
                                 "message": "...", "points": 1.2,
                                 "critical": false}, ...]} | null,
          "missing_evidence": ["CERT-08"],
          "expired_evidence": [],
          "expiring_certificates": [{"question": "CERT-01", "title": "...",
                                     "expires_on": "2026-04-01",
                                     "days_left": 30}],
          "remediation": {"open": 1, "past_due": 0, "critical_open": 1,
                          "items": [{"question": "...", "due_on": "...",
                                     "critical": true, "past_due": false,
                                     "reported": false}]},
          "baa": {"status": "none" | "in_force" | "not_yet_in_force"
                            | "expired",
                  "version": "2026-1" | null, "effective_on": "..." | null,
                  "expires_on": "..." | null}
        }
      ]
    }

Scores are risks from 0 to 100 (lower is better), to the cent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal
from claimbridge.errors import ValidationFailed
from claimbridge.storage.orgs import Engagement, EngagementStatus, Organisation
from claimbridge.storage.vendors import Assessment, BusinessAssociateAgreement, ReviewDecision
from claimbridge.vendors.questionnaires import Questionnaire, load
from claimbridge.vendors.records import answers_of, evidence_of, reviews_of, typed_answers
from claimbridge.vendors.scoring import Answer, Evidence, Score, score_assessment
from claimbridge.vendors.steps import Step, billing_company

__all__ = [
    "DEFAULT_EXPIRING_DAYS",
    "AssessmentFacts",
    "BAAFacts",
    "Candidate",
    "Comparison",
    "DocumentFacts",
    "EngagementFacts",
    "RemediationFacts",
    "compare",
    "load_candidates",
]

DEFAULT_EXPIRING_DAYS = 60
MAX_CANDIDATES = 20
COMPARED = "vendors:vendor:compared"


@dataclass(frozen=True, slots=True)
class EngagementFacts:
    id: str
    status: str
    lapse_condition: str | None


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    question: str
    title: str
    issued_on: dt.date
    expires_on: dt.date | None
    certificate: bool


@dataclass(frozen=True, slots=True)
class RemediationFacts:
    """An open remediation item."""

    question: str
    due_on: dt.date | None
    critical: bool
    reported: bool


@dataclass(frozen=True, slots=True)
class AssessmentFacts:
    """A candidate's latest assessment, as stored: scored afresh by ``compare``."""

    id: str
    status: str
    questionnaire: Questionnaire
    answers: tuple[Answer, ...]
    documents: tuple[DocumentFacts, ...]
    remediation: tuple[RemediationFacts, ...]
    submitted_on: dt.date | None = None
    decided_on: dt.date | None = None
    decided_rating: str | None = None


@dataclass(frozen=True, slots=True)
class BAAFacts:
    version: str
    effective_on: dt.date
    expires_on: dt.date | None


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    name: str
    engagement: EngagementFacts | None = None
    assessment: AssessmentFacts | None = None
    baa: BAAFacts | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    as_of: dt.date
    expiring_within_days: int
    candidates: tuple[dict[str, Any], ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "expiring_within_days": self.expiring_within_days,
            "candidates": list(self.candidates),
        }


def load_candidates(
    session: Session,
    principal: Principal,
    companies: Sequence[str] = (),
    *,
    now: datetime,
    request_id: str | None = None,
) -> list[Candidate]:
    """What the principal's practice knows of each of ``companies`` (ids or exact names).

    With no companies named: every billing company the practice has a
    live engagement with. Audited as one comparison.
    """
    step = Step(session, principal, now, request_id)
    step.require(Permission.ENGAGEMENT_MANAGE, COMPARED, resource_type="organisation")
    practice = step.practice(COMPARED, "organisation")
    if len(companies) > MAX_CANDIDATES:
        raise ValidationFailed(f"Compare at most {MAX_CANDIDATES} at a time.", where="ids")
    orgs = (
        [billing_company(session, ref, where="ids") for ref in dict.fromkeys(companies)]
        if companies
        else _engaged(session, practice)
    )
    step.audit(COMPARED, "organisation", None, tenant=practice)
    return [_candidate(session, practice, org) for org in orgs]


def _engaged(session: Session, practice: str) -> list[Organisation]:
    return list(
        session.scalars(
            select(Organisation)
            .join(Engagement, Engagement.billing_company_id == Organisation.id)
            .where(
                Engagement.practice_id == practice,
                Engagement.status != EngagementStatus.TERMINATED.value,
            )
            .distinct()
            .order_by(Organisation.name)
        )
    )


def _candidate(session: Session, practice: str, org: Organisation) -> Candidate:
    engagement = session.scalars(
        select(Engagement)
        .where(Engagement.practice_id == practice, Engagement.billing_company_id == org.id)
        .order_by(Engagement.created_at.desc())
        .limit(1)
    ).first()
    if engagement is None:
        return Candidate(org.id, org.name)
    return Candidate(
        org.id,
        org.name,
        engagement=EngagementFacts(engagement.id, engagement.status, engagement.lapse_condition),
        assessment=_assessment(session, engagement.id),
        baa=_baa(session, engagement.id),
    )


def _assessment(session: Session, engagement_id: str) -> AssessmentFacts | None:
    row = session.scalars(
        select(Assessment)
        .where(Assessment.engagement_id == engagement_id)
        .order_by(Assessment.created_at.desc(), Assessment.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    questionnaire = load(row.questionnaire_version)
    return AssessmentFacts(
        id=row.id,
        status=row.status,
        questionnaire=questionnaire,
        answers=typed_answers(questionnaire, answers_of(session, row.id)),
        documents=tuple(
            DocumentFacts(e.question_id, e.title, e.issued_on, e.expires_on, e.certificate)
            for e in evidence_of(session, row.id)
        ),
        remediation=tuple(
            RemediationFacts(r.question_id, r.due_on, r.critical, r.resolution is not None)
            for r in reviews_of(session, row.id)
            if r.decision == ReviewDecision.REMEDIATION.value and r.resolved_at is None
        ),
        submitted_on=row.submitted_at.date() if row.submitted_at else None,
        decided_on=row.decided_at.date() if row.decided_at else None,
        decided_rating=row.rating if row.decided_at else None,
    )


def _baa(session: Session, engagement_id: str) -> BAAFacts | None:
    row = session.scalars(
        select(BusinessAssociateAgreement)
        .where(
            BusinessAssociateAgreement.engagement_id == engagement_id,
            BusinessAssociateAgreement.superseded_at.is_(None),
        )
        .order_by(BusinessAssociateAgreement.signed_at.desc())
        .limit(1)
    ).first()
    return BAAFacts(row.version, row.effective_on, row.expires_on) if row else None


def compare(
    candidates: Iterable[Candidate],
    *,
    today: dt.date,
    expiring_within_days: int = DEFAULT_EXPIRING_DAYS,
) -> Comparison:
    """The candidates side by side, best first (see the module for the JSON)."""
    if not 0 <= expiring_within_days <= 3650:
        raise ValidationFailed("Between 0 and 3650 days.", where="within_days")
    rows = [_row(c, today=today, within=expiring_within_days) for c in candidates]
    rows.sort(key=_rank_key)
    ranked = tuple({"rank": n, **row} for n, row in enumerate(rows, start=1))
    return Comparison(as_of=today, expiring_within_days=expiring_within_days, candidates=ranked)


def _rank_key(row: dict[str, Any]) -> tuple[int, float, str, str]:
    score = row["score"]
    residual = score["residual"] if score else 0.0
    return (score is None, residual, row["company"]["name"], row["company"]["id"])


def _row(candidate: Candidate, *, today: dt.date, within: int) -> dict[str, Any]:
    facts = candidate.assessment
    score = (
        score_assessment(
            facts.questionnaire,
            facts.answers,
            [Evidence(d.question, d.issued_on, d.expires_on) for d in facts.documents],
            today=today,
        )
        if facts
        else None
    )
    return {
        "company": {"id": candidate.id, "name": candidate.name},
        "engagement": _engagement_json(candidate.engagement),
        "assessment": _assessment_json(facts),
        "score": _score_json(score, facts.questionnaire) if score and facts else None,
        "missing_evidence": list(score.missing_evidence) if score else [],
        "expired_evidence": list(score.expired_evidence) if score else [],
        "expiring_certificates": _expiring(facts, today=today, within=within),
        "remediation": _remediation(facts, today=today),
        "baa": _baa_json(candidate.baa, today=today),
    }


def _engagement_json(facts: EngagementFacts | None) -> dict[str, Any] | None:
    if facts is None:
        return None
    return {"id": facts.id, "status": facts.status, "lapse_condition": facts.lapse_condition}


def _assessment_json(facts: AssessmentFacts | None) -> dict[str, Any] | None:
    if facts is None:
        return None
    return {
        "id": facts.id,
        "status": facts.status,
        "questionnaire_version": facts.questionnaire.version,
        "submitted_on": facts.submitted_on.isoformat() if facts.submitted_on else None,
        "decided_on": facts.decided_on.isoformat() if facts.decided_on else None,
        "decided_rating": facts.decided_rating,
    }


def _score_json(score: Score, questionnaire: Questionnaire) -> dict[str, Any]:
    titles = {section.id: section.title for section in questionnaire.sections}
    return {
        "inherent": float(score.inherent),
        "residual": float(score.residual),
        "rating": score.rating.value,
        "sections": [
            {
                "section": s.section,
                "title": titles[s.section],
                "inherent": float(s.inherent),
                "residual": float(s.residual),
                "rating": s.rating.value,
            }
            for s in score.sections
        ],
        "reasons": [
            {
                "question": r.question,
                "kind": r.kind,
                "message": r.message,
                "points": float(r.points),
                "critical": r.critical,
            }
            for r in score.reasons
        ],
    }


def _expiring(
    facts: AssessmentFacts | None, *, today: dt.date, within: int
) -> list[dict[str, Any]]:
    """Certificates in force today whose question's newest expiry falls within ``within`` days."""
    if facts is None:
        return []
    newest: dict[str, tuple[dt.date, str]] = {}
    for doc in facts.documents:
        if not doc.certificate or doc.expires_on is None or doc.issued_on > today:
            continue
        if doc.question not in newest or doc.expires_on > newest[doc.question][0]:
            newest[doc.question] = (doc.expires_on, doc.title)
    soon = sorted(
        (expires, question, title)
        for question, (expires, title) in newest.items()
        if 0 <= (expires - today).days <= within
    )
    return [
        {
            "question": question,
            "title": title,
            "expires_on": expires.isoformat(),
            "days_left": (expires - today).days,
        }
        for expires, question, title in soon
    ]


def _remediation(facts: AssessmentFacts | None, *, today: dt.date) -> dict[str, Any]:
    items = [
        {
            "question": item.question,
            "due_on": item.due_on.isoformat() if item.due_on else None,
            "critical": item.critical,
            "past_due": item.due_on is not None and item.due_on < today,
            "reported": item.reported,
        }
        for item in (facts.remediation if facts else ())
    ]
    return {
        "open": len(items),
        "past_due": sum(1 for item in items if item["past_due"]),
        "critical_open": sum(1 for item in items if item["critical"]),
        "items": items,
    }


def _baa_json(facts: BAAFacts | None, *, today: dt.date) -> dict[str, Any]:
    if facts is None:
        return {"status": "none", "version": None, "effective_on": None, "expires_on": None}
    if today < facts.effective_on:
        status = "not_yet_in_force"
    elif facts.expires_on is not None and today > facts.expires_on:
        status = "expired"
    else:
        status = "in_force"
    return {
        "status": status,
        "version": facts.version,
        "effective_on": facts.effective_on.isoformat(),
        "expires_on": facts.expires_on.isoformat() if facts.expires_on else None,
    }
