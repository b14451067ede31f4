"""An assessment's stored rows read back for scoring and showing, and the score as JSON.

The score snapshot stored with a submitted or decided assessment is
``score_json`` of ``score_assessment`` over exactly these rows, so a later
reading shows what was judged; the same rows on the same day always give
the same JSON, byte for byte (keys sorted, numbers to the cent).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.storage.vendors import (
    Assessment,
    AssessmentAnswer,
    AssessmentEvidence,
    AssessmentReview,
)
from claimbridge.vendors.answers import decode_answer
from claimbridge.vendors.questionnaires import Questionnaire, load
from claimbridge.vendors.scoring import Answer, Evidence, Reason, Score, score_assessment

__all__ = [
    "answers_of",
    "evidence_of",
    "reviews_of",
    "score_json",
    "score_now",
    "score_rows",
    "snapshot",
    "typed_answers",
]


def answers_of(session: Session, assessment_id: str) -> Sequence[AssessmentAnswer]:
    return session.scalars(
        select(AssessmentAnswer)
        .where(AssessmentAnswer.assessment_id == assessment_id)
        .order_by(AssessmentAnswer.question_id)
    ).all()


def evidence_of(session: Session, assessment_id: str) -> Sequence[AssessmentEvidence]:
    return session.scalars(
        select(AssessmentEvidence)
        .where(AssessmentEvidence.assessment_id == assessment_id)
        .order_by(
            AssessmentEvidence.question_id,
            AssessmentEvidence.uploaded_at,
            AssessmentEvidence.id,
        )
    ).all()


def reviews_of(session: Session, assessment_id: str) -> Sequence[AssessmentReview]:
    return session.scalars(
        select(AssessmentReview)
        .where(AssessmentReview.assessment_id == assessment_id)
        .order_by(AssessmentReview.question_id)
    ).all()


def score_now(session: Session, assessment: Assessment, *, today: dt.date) -> Score:
    """The assessment's answers and evidence, as stored, scored as of ``today``."""
    questionnaire = load(assessment.questionnaire_version)
    return score_rows(
        questionnaire,
        answers_of(session, assessment.id),
        evidence_of(session, assessment.id),
        today=today,
    )


def score_rows(
    questionnaire: Questionnaire,
    answers: Sequence[AssessmentAnswer],
    evidence: Sequence[AssessmentEvidence],
    *,
    today: dt.date,
) -> Score:
    documents = [Evidence(row.question_id, row.issued_on, row.expires_on) for row in evidence]
    return score_assessment(
        questionnaire, typed_answers(questionnaire, answers), documents, today=today
    )


def typed_answers(
    questionnaire: Questionnaire, answers: Sequence[AssessmentAnswer]
) -> tuple[Answer, ...]:
    """Stored answers as scoring takes them (each was checked against the version when saved)."""
    typed = []
    for row in answers:
        question = questionnaire.question(row.question_id)
        if question is not None:
            typed.append(Answer(row.question_id, decode_answer(question, row.value)))
    return tuple(typed)


def snapshot(score: Score) -> str:
    """The stored form of a score (``Assessment.score``)."""
    return json.dumps(score_json(score), sort_keys=True, separators=(",", ":"))


def score_json(score: Score) -> dict[str, Any]:
    """A score as JSON: risks 0-100 as numbers to the cent, reasons in their order."""
    return {
        "version": score.version,
        "scored_on": score.scored_on.isoformat(),
        "inherent": float(score.inherent),
        "residual": float(score.residual),
        "rating": score.rating.value,
        "sections": [
            {
                "section": section.section,
                "inherent": float(section.inherent),
                "residual": float(section.residual),
                "rating": section.rating.value,
                "reasons": [_reason(r) for r in section.reasons],
            }
            for section in score.sections
        ],
        "reasons": [_reason(r) for r in score.reasons],
        "missing_evidence": list(score.missing_evidence),
        "expired_evidence": list(score.expired_evidence),
    }


def _reason(reason: Reason) -> dict[str, Any]:
    return {
        "question": reason.question,
        "section": reason.section,
        "kind": reason.kind,
        "message": reason.message,
        "points": float(reason.points),
        "critical": reason.critical,
    }
