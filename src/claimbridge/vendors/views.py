"""What each side sees of its assessments, and the questionnaire itself.

``assessment_view`` shows one assessment whole: its engagement, every
question with the answer given, the evidence offered (metadata only), the
practice's verdict, and the score with its per-section scores and the
reasons behind them. A submitted or decided assessment shows the score
stored when it was submitted or decided; a draft shows the score its
answers would have today (``provisional``).

Views are reads of the principal's own side only (``scope.py``): another
practice's or billing company's assessment is "not found". Reading the
workflow's state writes no audit event; reading a document does
(``evidence.py``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal
from claimbridge.errors import AccessDenied, NotFound, ValidationFailed
from claimbridge.storage.orgs import Engagement, Organisation, OrgKind
from claimbridge.storage.vendors import Assessment, AssessmentAnswer, AssessmentStatus
from claimbridge.vendors.answers import answer_json, decode_answer
from claimbridge.vendors.evidence import evidence_json
from claimbridge.vendors.questionnaires import Question, Questionnaire, latest, load
from claimbridge.vendors.records import answers_of, evidence_of, reviews_of, score_json, score_now
from claimbridge.vendors.reviews import review_json
from claimbridge.vendors.steps import Step, organisation_name

__all__ = [
    "assessment_view",
    "list_assessments",
    "list_vendors",
    "question_json",
    "questionnaire_for",
    "questionnaire_json",
]


# Reads of workflow state write no event when they succeed; refusals do.
VENDORS_LISTED = "vendors:vendor:list"
ASSESSMENTS_LISTED = "vendors:assessment:list"
ASSESSMENT_READ = "vendors:assessment:read"
QUESTIONNAIRE_READ = "vendors:questionnaire:read"


def _reader(
    session: Session, principal: Principal, now: datetime, action: str, resource_type: str
) -> Step:
    step = Step(session, principal, now)
    step.require(Permission.ENGAGEMENT_READ, action, resource_type=resource_type)
    return step


def questionnaire_for(
    session: Session, principal: Principal, version: str | None, *, now: datetime
) -> dict[str, Any]:
    """``questionnaire_json`` for a signed-in principal who may read engagements."""
    _reader(session, principal, now, QUESTIONNAIRE_READ, "questionnaire")
    return questionnaire_json(version)


def assessment_view(
    session: Session, principal: Principal, assessment_id: str, *, now: datetime
) -> dict[str, Any]:
    """One assessment as either side of its engagement sees it."""
    step = _reader(session, principal, now, ASSESSMENT_READ, "assessment")
    found = session.execute(
        select(Assessment, Engagement)
        .join(Engagement, Engagement.id == Assessment.engagement_id)
        .where(Assessment.id == assessment_id, step.visible())
    ).first()
    if found is None or step.side_of(found[1]) is None:
        step.refuse(
            NotFound("No such assessment.", where="assessment"),
            ASSESSMENT_READ,
            "assessment",
            assessment_id,
        )
    assessment, engagement = found
    questionnaire = load(assessment.questionnaire_version)
    today = now.date()
    answers = {row.question_id: row for row in answers_of(session, assessment.id)}
    documents = evidence_of(session, assessment.id)
    reviews = {row.question_id: row for row in reviews_of(session, assessment.id)}
    if assessment.score is not None:
        score, provisional = json.loads(assessment.score), False
    else:
        score, provisional = score_json(score_now(session, assessment, today=today)), True
    sections = [
        {
            "id": section.id,
            "title": section.title,
            "reference": section.reference,
            "questions": [
                {
                    **question_json(question),
                    "answer": _answer(question, answers.get(question.id)),
                    "evidence": [
                        evidence_json(d, today=today)
                        for d in documents
                        if d.question_id == question.id
                    ],
                    "review": (
                        review_json(reviews[question.id], today=today)
                        if question.id in reviews
                        else None
                    ),
                }
                for question in section.questions
            ],
        }
        for section in questionnaire.sections
    ]
    return {
        **_summary(session, assessment, engagement),
        "questionnaire": {"version": questionnaire.version, "title": questionnaire.title},
        "decision_note": assessment.decision_note,
        "score": score,
        "score_provisional": provisional,
        "sections": sections,
    }


def list_assessments(
    session: Session,
    principal: Principal,
    *,
    now: datetime,
    status: str | None = None,
) -> dict[str, Any]:
    """The assessments of the principal's side, newest first."""
    step = _reader(session, principal, now, ASSESSMENTS_LISTED, "assessment")
    query = (
        select(Assessment, Engagement)
        .join(Engagement, Engagement.id == Assessment.engagement_id)
        .where(step.visible())
        .order_by(Assessment.created_at.desc(), Assessment.id)
    )
    if status is not None:
        if status not in {s.value for s in AssessmentStatus}:
            raise ValidationFailed(
                "The status is draft, submitted, approved or rejected.", where="status"
            )
        query = query.where(Assessment.status == status)
    rows = session.execute(query).all()
    return {"items": [_summary(session, a, e) for a, e in rows]}


def list_vendors(session: Session, principal: Principal, *, now: datetime) -> dict[str, Any]:
    """For a practice: every billing company, with its engagement with this practice if any."""
    step = _reader(session, principal, now, VENDORS_LISTED, "organisation")
    if principal.organisation_kind is not OrgKind.PRACTICE:
        step.refuse(
            AccessDenied("Only a practice chooses among billing companies.", where="organisation"),
            VENDORS_LISTED,
            "organisation",
            None,
        )
    practice = principal.organisation_id
    companies = session.scalars(
        select(Organisation)
        .where(Organisation.kind == OrgKind.BILLING_COMPANY.value)
        .order_by(Organisation.name, Organisation.id)
    ).all()
    engagements = session.scalars(
        select(Engagement).where(Engagement.practice_id == practice).order_by(Engagement.created_at)
    )
    # Ordered oldest first, so each company keeps its newest engagement.
    newest = {engagement.billing_company_id: engagement for engagement in engagements}
    return {
        "items": [
            {
                "id": company.id,
                "name": company.name,
                "engagement": (
                    _engagement_json(session, newest[company.id]) if company.id in newest else None
                ),
            }
            for company in companies
        ]
    }


def questionnaire_json(version: str | None = None) -> dict[str, Any]:
    """A questionnaire version (default: the latest), its sections and questions."""
    questionnaire: Questionnaire = latest() if version in {None, "latest"} else load(str(version))
    return {
        "version": questionnaire.version,
        "date": questionnaire.date.isoformat(),
        "title": questionnaire.title,
        "sections": [
            {
                "id": section.id,
                "title": section.title,
                "reference": section.reference,
                "questions": [question_json(q) for q in section.questions],
            }
            for section in questionnaire.sections
        ],
    }


def question_json(question: Question) -> dict[str, Any]:
    rule = question.evidence
    return {
        "id": question.id,
        "kind": question.kind,
        "text": question.text,
        "weight": question.weight,
        "critical": question.critical,
        "unit": question.unit,
        "options": [{"value": o.value, "label": o.label} for o in question.options],
        "evidence": (
            {
                "required": rule.required,
                "expires": rule.expires,
                "label": rule.label,
                "certificate": rule.required and rule.expires,
            }
            if rule
            else None
        ),
        "nist_csf": list(question.nist_csf),
        "soc2": list(question.soc2),
    }


def _answer(question: Question, row: AssessmentAnswer | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "value": answer_json(decode_answer(question, row.value)),
        "comment": row.comment,
        "answered_at": row.answered_at.isoformat(),
    }


def _summary(session: Session, assessment: Assessment, engagement: Engagement) -> dict[str, Any]:
    return {
        "id": assessment.id,
        "status": assessment.status,
        "questionnaire_version": assessment.questionnaire_version,
        "rating": assessment.rating,
        "created_at": assessment.created_at.isoformat(),
        "submitted_at": _iso(assessment.submitted_at),
        "decided_at": _iso(assessment.decided_at),
        "engagement": _engagement_json(session, engagement),
    }


def _engagement_json(session: Session, engagement: Engagement) -> dict[str, Any]:
    return {
        "id": engagement.id,
        "status": engagement.status,
        "practice": {
            "id": engagement.practice_id,
            "name": organisation_name(session, engagement.practice_id),
        },
        "billing_company": {
            "id": engagement.billing_company_id,
            "name": organisation_name(session, engagement.billing_company_id),
        },
        "active_until": _iso(engagement.active_until),
        "lapse_condition": engagement.lapse_condition,
        "lapse_reason": engagement.lapse_reason,
        "created_at": engagement.created_at.isoformat(),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
