"""The practice's review of a submitted assessment, item by item, and remediation.

``review`` records the practice's verdict on one question: accepted,
rejected, or remediation by a due date (today or later). A remediation
item is critical when the practice says so, and by default when the
question is (``Question.critical``); the gate shuts when a critical item
is past due and still open (``access/engagements.py``). Reviews change
while the assessment is submitted; after the decision they stand.

Remediation closes in two steps, each by its own side:

1. the billing company's admin reports it done, saying what was done
   (``report_remediation``; it may say so again until it is closed);
2. the practice's admin closes it (``close_remediation``), which stamps
   ``resolved_at`` and refreshes the gate in the same transaction, so a
   lapse caused by that item ends at once.
"""

from __future__ import annotations

import datetime as dt
import enum
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from claimbridge.access.engagements import refresh
from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal, actor_of
from claimbridge.errors import Conflict, NotFound, ValidationFailed
from claimbridge.storage.vendors import AssessmentReview, AssessmentStatus, ReviewDecision
from claimbridge.vendors.assessments import note_text
from claimbridge.vendors.questionnaires import load
from claimbridge.vendors.steps import Side, Step, live

__all__ = [
    "Verdict",
    "close_remediation",
    "report_remediation",
    "review",
    "review_json",
]

REVIEWED = "vendors:assessment:reviewed"
REPORTED = "vendors:remediation:reported"
RESOLVED = "vendors:remediation:resolved"


class Verdict(enum.StrEnum):
    ACCEPT = "accepted"
    REJECT = "rejected"
    REMEDIATE = "remediation"


def review(
    session: Session,
    principal: Principal,
    assessment_id: str,
    question_id: str,
    *,
    verdict: Verdict | str,
    now: datetime,
    due_on: dt.date | None = None,
    critical: bool | None = None,
    note: str | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Record (or change) the practice's verdict on one question of a submitted assessment."""
    step = Step(session, principal, now, request_id)
    resource = f"{assessment_id}/{question_id}"[:100]
    step.require(Permission.ENGAGEMENT_MANAGE, REVIEWED, resource_type="assessment_item")
    assessment, engagement = step.assessment(assessment_id, side=Side.PRACTICE, action=REVIEWED)
    live(engagement)
    if assessment.status != AssessmentStatus.SUBMITTED.value:
        raise Conflict(
            f"Only a submitted assessment is reviewed; this one is {assessment.status}.",
            where="assessment.status",
        )
    question = load(assessment.questionnaire_version).question(question_id)
    if question is None:
        raise ValidationFailed(
            f"{question_id} is not a question of {assessment.questionnaire_version}.",
            where="question",
        )
    decision = _verdict(verdict)
    if decision is Verdict.REMEDIATE:
        if due_on is None:
            raise ValidationFailed("Remediation needs a due date.", where="due_on")
        if due_on < now.date():
            raise ValidationFailed("The due date is in the past.", where="due_on")
    elif due_on is not None or critical:
        raise ValidationFailed(
            "A due date and the critical flag apply only to remediation.", where="due_on"
        )
    row = session.get(AssessmentReview, (assessment.id, question_id))
    if row is None:
        row = AssessmentReview(assessment_id=assessment.id, question_id=question_id)
        session.add(row)
    row.decision = decision.value
    row.note = note_text(note, where="note")
    row.due_on = due_on if decision is Verdict.REMEDIATE else None
    row.critical = (
        (question.critical if critical is None else critical)
        if decision is Verdict.REMEDIATE
        else False
    )
    row.reviewed_at, row.reviewed_by = now, principal.user_id
    row.resolved_at = row.resolved_by = row.resolution = None
    session.flush()
    step.audit(REVIEWED, "assessment_item", resource, tenant=engagement.practice_id)
    return review_json(row, today=now.date())


def report_remediation(
    session: Session,
    principal: Principal,
    assessment_id: str,
    question_id: str,
    *,
    resolution: str,
    now: datetime,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The billing company says an open remediation item is done, and how."""
    step = Step(session, principal, now, request_id)
    resource = f"{assessment_id}/{question_id}"[:100]
    step.require(Permission.QUESTIONNAIRE_ANSWER, REPORTED, resource_type="assessment_item")
    assessment, engagement = step.assessment(assessment_id, side=Side.VENDOR, action=REPORTED)
    live(engagement)
    row = _open_item(session, assessment.id, question_id)
    row.resolution = note_text(resolution, where="resolution", required=True)
    session.flush()
    step.audit(REPORTED, "assessment_item", resource, tenant=engagement.practice_id)
    return review_json(row, today=now.date())


def close_remediation(
    session: Session,
    principal: Principal,
    assessment_id: str,
    question_id: str,
    *,
    now: datetime,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The practice accepts a reported remediation as done; the gate is refreshed."""
    step = Step(session, principal, now, request_id)
    resource = f"{assessment_id}/{question_id}"[:100]
    step.require(Permission.ENGAGEMENT_MANAGE, RESOLVED, resource_type="assessment_item")
    assessment, engagement = step.assessment(assessment_id, side=Side.PRACTICE, action=RESOLVED)
    live(engagement)
    row = _open_item(session, assessment.id, question_id)
    if row.resolution is None:
        raise Conflict(
            "The billing company has not reported this item done yet.", where="resolution"
        )
    row.resolved_at, row.resolved_by = now, principal.user_id
    session.flush()
    step.audit(RESOLVED, "assessment_item", resource, tenant=engagement.practice_id)
    refresh(session, engagement, now=now, actor=actor_of(principal))
    return review_json(row, today=now.date())


def review_json(row: AssessmentReview, *, today: dt.date) -> dict[str, Any]:
    """One verdict as both sides see it; ``past_due`` for an open item due before today."""
    remediation = row.decision == ReviewDecision.REMEDIATION.value
    open_item = remediation and row.resolved_at is None
    return {
        "question": row.question_id,
        "decision": row.decision,
        "note": row.note,
        "due_on": row.due_on.isoformat() if row.due_on else None,
        "critical": row.critical,
        "reviewed_at": row.reviewed_at.isoformat(),
        "resolution": row.resolution,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "open": open_item,
        "past_due": open_item and row.due_on is not None and row.due_on < today,
    }


def _verdict(verdict: Verdict | str) -> Verdict:
    try:
        return Verdict(verdict)
    except ValueError:
        raise ValidationFailed(
            "The decision is accepted, rejected or remediation.", where="decision"
        ) from None


def _open_item(session: Session, assessment_id: str, question_id: str) -> AssessmentReview:
    row = session.get(AssessmentReview, (assessment_id, question_id))
    if row is None or row.decision != ReviewDecision.REMEDIATION.value:
        raise NotFound(f"No remediation was asked for {question_id}.", where="question")
    if row.resolved_at is not None:
        raise Conflict(f"The remediation of {question_id} is already closed.", where="question")
    return row
