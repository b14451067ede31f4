"""Deterministic risk scoring of a vendor's answers to a questionnaire.

The rule, in full:

1. Each question gets a risk from 0 to 1 from its answer (see
   ``vendors.questionnaires``). An unanswered question is risk 1: silence
   is not assurance.
2. Required evidence counts only where the answer claims something (risk
   below 1). Missing evidence, evidence not yet issued, evidence that has
   expired (``today`` after its expiry date), or a certificate with no
   expiry date, raises that question's risk to 1: an unproven claim counts
   as no claim. For an ``evidence`` question the evidence is the answer.
3. A section's residual risk is its inherent risk (0-100, fixed in the
   questionnaire) times the weighted mean of its questions' risks; the
   overall inherent and residual risks are the means of the sections'
   weighted by their total question weight. All arithmetic is exact
   (``Fraction``); results are rounded half-up to 0.01 once, at the end.
4. The rating comes from the rounded residual risk and the boundaries
   below. A critical finding (the worst answer to a critical question, an
   unanswered critical question, or an option marked critical) makes the
   rating at least ``high``, for its section and overall.

Every question that adds risk yields a ``Reason`` with the points it adds
to the overall residual risk; reasons are ordered critical first, then by
points, then by questionnaire order, so the same input always reads the
same. Scoring is pure: no clock (``today`` is a parameter), no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from claimbridge.errors import ValidationFailed
from claimbridge.vendors.questionnaires import Question, Questionnaire, Section

AnswerValue = bool | str | int | Decimal | dt.date | None


class Rating(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    CRITICAL = "critical"


RATING_ORDER: tuple[Rating, ...] = (Rating.LOW, Rating.MODERATE, Rating.HIGH, Rating.CRITICAL)

# Residual risk (0-100) from which each rating starts; below MODERATE_FROM is low.
MODERATE_FROM = Decimal(15)
HIGH_FROM = Decimal(35)
CRITICAL_FROM = Decimal(60)
# A critical finding never rates better than this.
CRITICAL_FINDING_FLOOR = Rating.HIGH

_FULL = Fraction(1)
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Answer:
    """A vendor's answer to one question; ``value`` is typed by the question's kind."""

    question: str
    value: AnswerValue


@dataclass(frozen=True, slots=True)
class Evidence:
    """A document offered for one question: in force from ``issued`` through ``expires``."""

    question: str
    issued: dt.date
    expires: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """One thing that drove the score, with the residual points it adds overall."""

    question: str
    section: str
    kind: str  # answer | unanswered | missing_evidence | expired_evidence
    message: str
    points: Decimal
    critical: bool = False


@dataclass(frozen=True, slots=True)
class SectionScore:
    section: str
    inherent: Decimal
    residual: Decimal
    rating: Rating
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Score:
    version: str
    scored_on: dt.date
    inherent: Decimal
    residual: Decimal
    rating: Rating
    sections: tuple[SectionScore, ...]
    reasons: tuple[Reason, ...]
    missing_evidence: tuple[str, ...]
    expired_evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Part:
    """A question's risk split into what the answer and the evidence gap each add."""

    risk: Fraction
    kind: str
    message: str
    critical: bool = False


def rate(residual: Decimal) -> Rating:
    """The rating of a residual risk, before any critical floor."""
    if residual >= CRITICAL_FROM:
        return Rating.CRITICAL
    if residual >= HIGH_FROM:
        return Rating.HIGH
    if residual >= MODERATE_FROM:
        return Rating.MODERATE
    return Rating.LOW


def score_assessment(
    questionnaire: Questionnaire,
    answers: Iterable[Answer],
    evidence: Iterable[Evidence],
    *,
    today: dt.date,
) -> Score:
    """Score ``answers`` and ``evidence`` against ``questionnaire`` as of ``today``."""
    by_question = _answers_by_question(questionnaire, answers, today=today)
    documents = _evidence_by_question(questionnaire, evidence)
    total = sum(q.weight for q in questionnaire.questions())
    scored = [
        _score_section(section, by_question, documents, total=total, today=today)
        for section in questionnaire.sections
    ]
    sections = tuple(section for section, _ in scored)
    residual = _round(sum((share for _, share in scored), Fraction(0)))
    inherent = sum(
        (Fraction(s.inherent) * sum(q.weight for q in s.questions) for s in questionnaire.sections),
        Fraction(0),
    )
    reasons = _ordered(reason for s in sections for reason in s.reasons)
    return Score(
        version=questionnaire.version,
        scored_on=today,
        inherent=_round(inherent / total),
        residual=residual,
        rating=_floored(rate(residual), reasons),
        sections=sections,
        reasons=reasons,
        missing_evidence=tuple(r.question for r in reasons if r.kind == "missing_evidence"),
        expired_evidence=tuple(r.question for r in reasons if r.kind == "expired_evidence"),
    )


def _score_section(
    section: Section,
    answers: Mapping[str, AnswerValue],
    documents: Mapping[str, tuple[Evidence, ...]],
    *,
    total: int,
    today: dt.date,
) -> tuple[SectionScore, Fraction]:
    """The section's score, and its exact share of the overall residual risk."""
    weighted = Fraction(0)
    reasons: list[Reason] = []
    for question in section.questions:
        parts = _question_parts(question, answers, documents, today=today)
        for part in parts:
            points = Fraction(section.inherent) * question.weight * part.risk / total
            reasons.append(_reason(question, part, points))
        weighted += question.weight * sum((p.risk for p in parts), Fraction(0))
    exact = Fraction(section.inherent) * weighted
    residual = _round(exact / sum(q.weight for q in section.questions))
    ordered = _ordered(reasons)
    score = SectionScore(
        section=section.id,
        inherent=_round(Fraction(section.inherent)),
        residual=residual,
        rating=_floored(rate(residual), ordered),
        reasons=ordered,
    )
    return score, exact / total


def _question_parts(
    question: Question,
    answers: Mapping[str, AnswerValue],
    documents: Mapping[str, tuple[Evidence, ...]],
    *,
    today: dt.date,
) -> tuple[_Part, ...]:
    """The answer's risk, then what an evidence gap adds on top (at most 1 in all)."""
    if question.kind == "evidence":
        gap = _evidence_gap(question, documents.get(question.id, ()), today=today)
        return (_Part(_FULL, gap.kind, gap.message, question.critical),) if gap else ()
    answer = _answer_part(question, answers.get(question.id), today=today)
    if answer is not None and answer.risk >= _FULL:
        return (answer,)
    parts = (answer,) if answer is not None else ()
    gap = _evidence_gap(question, documents.get(question.id, ()), today=today)
    if gap is None:
        return parts
    already = answer.risk if answer is not None else Fraction(0)
    return (*parts, _Part(_FULL - already, gap.kind, gap.message))


def _answer_part(question: Question, value: AnswerValue, *, today: dt.date) -> _Part | None:
    """The risk of one answer, or None when it carries none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return _Part(_FULL, "unanswered", f"unanswered: {question.finding}", question.critical)
    risk, detail, option_critical = _answer_risk(question, value, today=today)
    if risk == 0:
        return None
    critical = option_critical or (question.critical and risk >= _FULL)
    message = f"{question.finding}: {detail}" if detail else question.finding
    return _Part(risk, "answer", message, critical)


def _answer_risk(
    question: Question, value: AnswerValue, *, today: dt.date
) -> tuple[Fraction, str, bool]:
    """(risk, what the answer said, whether the chosen option is critical)."""
    if question.kind == "yes_no":
        return (Fraction(0) if value is True else _FULL), "", False
    if question.kind == "choice":
        option = question.option(str(value))
        assert option is not None  # noqa: S101 -- _check_value rejected unknown options
        return Fraction(option.risk), option.label, option.critical
    if question.kind == "number":
        assert question.thresholds is not None  # noqa: S101 -- the loader requires them
        assert isinstance(value, int | Decimal)  # noqa: S101 -- checked by _check_value
        number = Decimal(value)
        unit = f" {question.unit}" if question.unit else ""
        return Fraction(question.thresholds.risk_of(number)), f"{number}{unit}", False
    if question.kind == "date":
        assert question.thresholds is not None  # noqa: S101 -- the loader requires them
        assert isinstance(value, dt.date)  # noqa: S101 -- checked by _check_value
        age = Decimal((today - value).days)
        return Fraction(question.thresholds.risk_of(age)), f"last on {value.isoformat()}", False
    return Fraction(0), "", False  # text: any non-blank answer


@dataclass(frozen=True, slots=True)
class _Gap:
    kind: str
    message: str


def _evidence_gap(
    question: Question, offered: tuple[Evidence, ...], *, today: dt.date
) -> _Gap | None:
    """Why the required evidence does not prove the answer, or None if it does."""
    rule = question.evidence
    if rule is None or not rule.required:
        return None
    issued = [e for e in offered if e.issued <= today]
    if not issued:
        return _Gap("missing_evidence", f"{rule.label} missing")
    in_force = [e for e in issued if e.expires is None or e.expires >= today]
    if not in_force:
        last = max(e.expires for e in issued if e.expires is not None)
        return _Gap("expired_evidence", f"{rule.label} expired {last.isoformat()}")
    if rule.expires and all(e.expires is None for e in in_force):
        return _Gap("missing_evidence", f"{rule.label} has no expiry date")
    return None


def _reason(question: Question, part: _Part, points: Fraction) -> Reason:
    message = f"{part.message} ({question.id}{', critical' if part.critical else ''})"
    return Reason(
        question=question.id,
        section=question.section,
        kind=part.kind,
        message=message,
        points=_round(points),
        critical=part.critical,
    )


def _answers_by_question(
    questionnaire: Questionnaire, answers: Iterable[Answer], *, today: dt.date
) -> Mapping[str, AnswerValue]:
    result: dict[str, AnswerValue] = {}
    for answer in answers:
        question = questionnaire.question(answer.question)
        if question is None:
            raise ValidationFailed("No such question in this version.", where=answer.question)
        if answer.question in result:
            raise ValidationFailed("The question is answered twice.", where=answer.question)
        _check_value(question, answer.value, today=today)
        result[answer.question] = answer.value
    return result


def _check_value(question: Question, value: AnswerValue, *, today: dt.date) -> None:
    """Reject an answer of the wrong type for its kind (blank and None mean unanswered)."""
    if value is None:
        return
    kind = question.kind
    if kind == "number":
        ok = _valid_number(value)
    elif kind == "date":
        # A "last done on" date after today is a typo, not an assurance.
        ok = isinstance(value, dt.date) and not isinstance(value, dt.datetime) and value <= today
    elif kind == "choice":
        ok = isinstance(value, str) and question.option(value) is not None
    elif kind == "yes_no":
        ok = isinstance(value, bool)
    else:
        ok = kind == "text" and isinstance(value, str)
    if not ok:
        raise ValidationFailed(f"This is not a valid {kind} answer.", where=question.id)


def _valid_number(value: AnswerValue) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return False
    return Decimal(value).is_finite() and value >= 0


def _evidence_by_question(
    questionnaire: Questionnaire, evidence: Iterable[Evidence]
) -> Mapping[str, tuple[Evidence, ...]]:
    result: dict[str, tuple[Evidence, ...]] = {}
    for item in evidence:
        if questionnaire.question(item.question) is None:
            raise ValidationFailed("Evidence for no such question.", where=item.question)
        if item.expires is not None and item.expires < item.issued:
            raise ValidationFailed("Evidence expires before it was issued.", where=item.question)
        result[item.question] = (*result.get(item.question, ()), item)
    return result


def _ordered(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    # sorted() is stable, so equal reasons keep questionnaire order.
    return tuple(sorted(reasons, key=lambda r: (not r.critical, -r.points)))


def _floored(rating: Rating, reasons: tuple[Reason, ...]) -> Rating:
    if any(reason.critical for reason in reasons):
        return max(rating, CRITICAL_FINDING_FLOOR, key=RATING_ORDER.index)
    return rating


def _round(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(_CENT, rounding=ROUND_HALF_UP)


__all__ = [
    "CRITICAL_FINDING_FLOOR",
    "CRITICAL_FROM",
    "HIGH_FROM",
    "MODERATE_FROM",
    "RATING_ORDER",
    "Answer",
    "AnswerValue",
    "Evidence",
    "Rating",
    "Reason",
    "Score",
    "SectionScore",
    "score_assessment",
]
