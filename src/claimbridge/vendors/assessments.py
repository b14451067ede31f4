"""The assessment workflow: invite, answer, submit, decide.

1. **Invite.** A practice's admin invites a billing company (by id or exact
   name): a new engagement, ``invited``, and a draft assessment on the
   latest questionnaire version (or the one asked for). A company with a
   live engagement (anything but terminated) cannot be invited again;
   ``reassess`` opens a new draft on that engagement instead, while the
   gate keeps reading the latest *decided* assessment until the new one
   is decided.
2. **Answer.** The billing company's admin saves answers to the draft, as
   many at a time as it likes (``vendors.answers`` checks each against its
   question). The first answer moves the engagement to ``assessing``.
3. **Submit.** The answers freeze; the score as of that day is stored
   with the assessment (``records.snapshot``).
4. **Review** item by item (``reviews.py``), then **decide**: approve or
   reject, with a note. The score is taken again at the decision (evidence
   may have come in meanwhile) and stored; the gate is refreshed in the
   same transaction, so approval with a BAA in force opens the engagement
   and rejection closes it (``assessment_not_approved``).

Every step writes its audit event (``vendors:<thing>:<verb>``) and every
refusal is audited (``scope.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from claimbridge.access.engagements import refresh
from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal, actor_of
from claimbridge.errors import Conflict, NotFound, ValidationFailed
from claimbridge.storage.orgs import Engagement, EngagementStatus, Organisation
from claimbridge.storage.vendors import Assessment, AssessmentAnswer, AssessmentStatus
from claimbridge.vendors.answers import MAX_TEXT, encode_answer, parse_answer
from claimbridge.vendors.questionnaires import Question, Questionnaire, latest, load
from claimbridge.vendors.records import score_now, snapshot
from claimbridge.vendors.steps import Side, Step, billing_company, live

__all__ = [
    "MAX_NOTE",
    "answer",
    "decide",
    "invite",
    "reassess",
    "submit",
]

MAX_NOTE = 2000
MAX_ANSWERS = 500
"""Answers one save may carry: more than any questionnaire asks."""

INVITED = "vendors:engagement:invited"
OPENED = "vendors:assessment:opened"
ANSWERED = "vendors:assessment:answered"
SUBMITTED = "vendors:assessment:submitted"
APPROVED = "vendors:assessment:approved"
REJECTED = "vendors:assessment:rejected"


def invite(
    session: Session,
    principal: Principal,
    company: str,
    *,
    now: datetime,
    version: str | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Invite billing company ``company`` (id or exact name) to be assessed by the practice."""
    step = Step(session, principal, now, request_id)
    step.require(Permission.ENGAGEMENT_MANAGE, INVITED, resource_type="engagement")
    practice = step.practice(INVITED, "engagement")
    questionnaire = _questionnaire(version)
    vendor = billing_company(session, company, where="billing_company")
    if _live_engagement(session, practice, vendor.id) is not None:
        raise Conflict(
            f"{vendor.name} is already engaged or being assessed; open a reassessment instead.",
            where="billing_company",
        )
    engagement = Engagement(
        practice_id=practice,
        billing_company_id=vendor.id,
        status=EngagementStatus.INVITED.value,
        invited_by=principal.user_id,
        created_at=now,
    )
    session.add(engagement)
    session.flush()
    assessment = _open(session, engagement, questionnaire, principal, now)
    step.audit(INVITED, "engagement", engagement.id, tenant=practice)
    return _opened_json(engagement, assessment, vendor)


def reassess(
    session: Session,
    principal: Principal,
    company: str,
    *,
    now: datetime,
    version: str | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Open a new draft assessment on the practice's live engagement with ``company``."""
    step = Step(session, principal, now, request_id)
    step.require(Permission.ENGAGEMENT_MANAGE, OPENED, resource_type="assessment")
    practice = step.practice(OPENED, "assessment")
    questionnaire = _questionnaire(version)
    vendor = billing_company(session, company, where="billing_company")
    engagement = _live_engagement(session, practice, vendor.id)
    if engagement is None:
        raise NotFound(f"{vendor.name} has not been invited; invite it first.", where="engagement")
    pending = session.scalars(
        select(Assessment.id).where(
            Assessment.engagement_id == engagement.id,
            Assessment.status.in_([AssessmentStatus.DRAFT.value, AssessmentStatus.SUBMITTED.value]),
        )
    ).first()
    if pending is not None:
        raise Conflict(
            f"Assessment {pending} of {vendor.name} is still open; decide it first.",
            where="assessment",
        )
    assessment = _open(session, engagement, questionnaire, principal, now)
    step.audit(OPENED, "assessment", assessment.id, tenant=practice)
    return _opened_json(engagement, assessment, vendor)


def answer(
    session: Session,
    principal: Principal,
    assessment_id: str,
    answers: Mapping[str, object],
    *,
    now: datetime,
    comments: Mapping[str, str | None] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Save some answers (``None`` clears one) to the billing company's draft assessment.

    All of them are checked before any is saved: a save is whole or nothing.
    """
    step = Step(session, principal, now, request_id)
    step.require(Permission.QUESTIONNAIRE_ANSWER, ANSWERED, resource_type="assessment")
    assessment, engagement = step.assessment(assessment_id, side=Side.VENDOR, action=ANSWERED)
    live(engagement)
    _draft(assessment)
    comments = comments or {}
    if not answers and not comments:
        raise ValidationFailed("No answers were given.", where="answers")
    if len(answers) > MAX_ANSWERS:
        raise ValidationFailed(f"At most {MAX_ANSWERS} answers at a time.", where="answers")
    questionnaire = load(assessment.questionnaire_version)
    typed = {
        question_id: parse_answer(_question(questionnaire, question_id), raw, today=now.date())
        for question_id, raw in answers.items()
    }
    notes = {q: _comment(questionnaire, q, text) for q, text in comments.items()}
    existing = {
        row.question_id: row
        for row in session.scalars(
            select(AssessmentAnswer).where(AssessmentAnswer.assessment_id == assessment.id)
        )
    }
    for question_id in sorted(typed.keys() | notes.keys()):
        row = existing.get(question_id)
        if question_id in typed and typed[question_id] is None:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            if question_id not in typed:
                raise ValidationFailed(
                    f"{question_id} has no answer to comment on.", where=f"comments.{question_id}"
                )
            row = AssessmentAnswer(assessment_id=assessment.id, question_id=question_id)
            session.add(row)
        if question_id in typed:
            row.value = encode_answer(typed[question_id])
        if question_id in notes:
            row.comment = notes[question_id]
        row.answered_at = now
        row.answered_by = principal.user_id
    started(engagement)
    session.flush()
    step.audit(ANSWERED, "assessment", assessment.id, tenant=engagement.practice_id)
    saved = len([q for q, v in typed.items() if v is not None])
    return {
        "assessment_id": assessment.id,
        "saved": saved,
        "cleared": len(typed) - saved,
        "answered": _count_answers(session, assessment.id),
        "questions": len([q for q in questionnaire.questions() if q.kind != "evidence"]),
    }


def submit(
    session: Session,
    principal: Principal,
    assessment_id: str,
    *,
    now: datetime,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Freeze the draft's answers and store its score as of today."""
    step = Step(session, principal, now, request_id)
    step.require(Permission.QUESTIONNAIRE_ANSWER, SUBMITTED, resource_type="assessment")
    assessment, engagement = step.assessment(assessment_id, side=Side.VENDOR, action=SUBMITTED)
    live(engagement)
    _draft(assessment)
    score = score_now(session, assessment, today=now.date())
    assessment.status = AssessmentStatus.SUBMITTED.value
    assessment.submitted_at = now
    assessment.submitted_by = principal.user_id
    assessment.score = snapshot(score)
    assessment.rating = score.rating.value
    started(engagement)
    session.flush()
    step.audit(SUBMITTED, "assessment", assessment.id, tenant=engagement.practice_id)
    return _status_json(assessment)


def decide(
    session: Session,
    principal: Principal,
    assessment_id: str,
    *,
    approve: bool,
    note: str,
    now: datetime,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Approve or reject a submitted assessment, re-scored now; the gate follows at once."""
    action = APPROVED if approve else REJECTED
    step = Step(session, principal, now, request_id)
    step.require(Permission.ENGAGEMENT_MANAGE, action, resource_type="assessment")
    assessment, engagement = step.assessment(assessment_id, side=Side.PRACTICE, action=action)
    live(engagement)
    if assessment.status != AssessmentStatus.SUBMITTED.value:
        raise Conflict(
            f"Only a submitted assessment is decided; this one is {assessment.status}.",
            where="assessment.status",
        )
    text = note_text(note, where="note", required=True)
    score = score_now(session, assessment, today=now.date())
    assessment.status = (AssessmentStatus.APPROVED if approve else AssessmentStatus.REJECTED).value
    assessment.decided_at = now
    assessment.decided_by = principal.user_id
    assessment.decision_note = text
    assessment.score = snapshot(score)
    assessment.rating = score.rating.value
    session.flush()
    step.audit(action, "assessment", assessment.id, tenant=engagement.practice_id)
    standing = refresh(session, engagement, now=now, actor=actor_of(principal))
    shown = _status_json(assessment)
    shown["engagement"] = {
        "id": engagement.id,
        "status": engagement.status,
        "lapse_condition": standing.failure.condition.value if standing.failure else None,
        "lapse_reason": standing.failure.reason if standing.failure else None,
        "active_until": engagement.active_until.isoformat() if engagement.active_until else None,
    }
    return shown


def started(engagement: Engagement) -> None:
    """The billing company's first act moves an invited engagement to ``assessing``."""
    if engagement.status == EngagementStatus.INVITED.value:
        engagement.status = EngagementStatus.ASSESSING.value


def note_text(text: str | None, *, where: str, required: bool = False) -> str | None:
    """A note or resolution: trimmed, bounded, and present when ``required``."""
    cleaned = (text or "").strip()
    if not cleaned:
        if required:
            raise ValidationFailed("Say why, in a few words.", where=where)
        return None
    if len(cleaned) > MAX_NOTE:
        raise ValidationFailed(f"At most {MAX_NOTE} characters.", where=where)
    return cleaned


def _open(
    session: Session,
    engagement: Engagement,
    questionnaire: Questionnaire,
    principal: Principal,
    now: datetime,
) -> Assessment:
    assessment = Assessment(
        engagement_id=engagement.id,
        questionnaire_version=questionnaire.version,
        status=AssessmentStatus.DRAFT.value,
        created_at=now,
        created_by=principal.user_id,
    )
    session.add(assessment)
    session.flush()
    return assessment


def _questionnaire(version: str | None) -> Questionnaire:
    return latest() if version is None else load(version)


def _live_engagement(session: Session, practice: str, company: str) -> Engagement | None:
    return session.scalars(
        select(Engagement)
        .where(
            Engagement.practice_id == practice,
            Engagement.billing_company_id == company,
            Engagement.status != EngagementStatus.TERMINATED.value,
        )
        .order_by(Engagement.created_at.desc())
        .limit(1)
    ).first()


def _draft(assessment: Assessment) -> None:
    if assessment.status != AssessmentStatus.DRAFT.value:
        raise Conflict(
            f"The assessment is {assessment.status}; its answers are frozen.",
            where="assessment.status",
        )


def _question(questionnaire: Questionnaire, question_id: str) -> Question:
    question = questionnaire.question(question_id)
    if question is None:
        raise ValidationFailed(
            f"{question_id} is not a question of {questionnaire.version}.",
            where=f"answers.{question_id}",
        )
    return question


def _comment(questionnaire: Questionnaire, question_id: str, text: str | None) -> str | None:
    _question(questionnaire, question_id)
    cleaned = (text or "").strip()
    if len(cleaned) > MAX_TEXT:
        raise ValidationFailed(
            f"A comment has at most {MAX_TEXT} characters.", where=f"comments.{question_id}"
        )
    return cleaned or None


def _count_answers(session: Session, assessment_id: str) -> int:
    counted = session.scalar(
        select(func.count()).where(AssessmentAnswer.assessment_id == assessment_id)
    )
    return int(counted or 0)


def _opened_json(
    engagement: Engagement, assessment: Assessment, vendor: Organisation
) -> dict[str, Any]:
    return {
        "engagement_id": engagement.id,
        "engagement_status": engagement.status,
        "assessment_id": assessment.id,
        "questionnaire_version": assessment.questionnaire_version,
        "billing_company": {"id": vendor.id, "name": vendor.name},
    }


def _status_json(assessment: Assessment) -> dict[str, Any]:
    return {
        "id": assessment.id,
        "status": assessment.status,
        "rating": assessment.rating,
        "submitted_at": assessment.submitted_at.isoformat() if assessment.submitted_at else None,
        "decided_at": assessment.decided_at.isoformat() if assessment.decided_at else None,
    }
