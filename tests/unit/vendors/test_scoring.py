"""Scoring: reproducible, boundaries exact, evidence and critical answers count against it."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimbridge.errors import ValidationFailed
from claimbridge.vendors import questionnaires
from claimbridge.vendors.questionnaires import Question, Questionnaire, parse_questionnaire
from claimbridge.vendors.scoring import (
    CRITICAL_FROM,
    HIGH_FROM,
    MODERATE_FROM,
    Answer,
    AnswerValue,
    Evidence,
    Rating,
    Score,
    rate,
    score_assessment,
)

TODAY = dt.date(2026, 11, 27)
SHIPPED = questionnaires.load("hipaa-security-2026-1")
IN_FORCE = (dt.date(2026, 1, 1), dt.date(2027, 1, 31))


def best_value(question: Question) -> AnswerValue:
    """The answer that carries no risk, for each kind."""
    if question.kind == "choice":
        return min(question.options, key=lambda o: o.risk).value
    if question.kind == "number":
        assert question.thresholds is not None
        return question.thresholds.bands[0].limit
    best: dict[str, AnswerValue] = {"yes_no": True, "date": TODAY, "text": "none", "evidence": None}
    return best[question.kind]


def clean_answers(*, dated: dt.date = TODAY, **changes: AnswerValue) -> list[Answer]:
    """Best answers to every shipped question, with ``TECH_03=False`` style overrides."""
    overrides = {key.replace("_", "-"): value for key, value in changes.items()}
    overrides |= {
        q.id: dated for q in SHIPPED.questions() if q.kind == "date" and q.id not in overrides
    }
    return [
        Answer(q.id, overrides.get(q.id, best_value(q)))
        for q in SHIPPED.questions()
        if q.kind != "evidence"
    ]


def clean_evidence(*, without: tuple[str, ...] = ()) -> list[Evidence]:
    issued, expires = IN_FORCE
    return [
        Evidence(q.id, issued, expires)
        for q in SHIPPED.questions()
        if q.evidence is not None and q.id not in without
    ]


def score(answers: list[Answer], evidence: list[Evidence], **kw: Any) -> Score:
    return score_assessment(SHIPPED, answers, evidence, today=kw.get("today", TODAY))


def one_question(risks: list[str], *, critical: bool = False, inherent: int = 100) -> Questionnaire:
    """A one-question questionnaire whose options carry exactly ``risks``."""
    # json writes the shortest float repr and the loader reads it back as an exact Decimal.
    options = [{"value": r, "label": f"risk {r}", "risk": float(r)} for r in risks]
    data = {
        "version": "t-1",
        "date": "2026-01-01",
        "title": "t",
        "sections": [
            {
                "id": "S",
                "title": "s",
                "reference": "r",
                "inherent": inherent,
                "questions": [
                    {
                        "id": "Q-1",
                        "kind": "choice",
                        "weight": 3,
                        "critical": critical,
                        "text": "t",
                        "finding": "gap",
                        "options": options,
                        "nist_csf": ["GV.SC-07"],
                        "soc2": ["CC9.2"],
                    }
                ],
            }
        ],
    }
    return parse_questionnaire(json.dumps(data), version="t-1")


# --- reproducibility ---------------------------------------------------------------


def _value_strategy(question: Question) -> st.SearchStrategy[AnswerValue]:
    if question.kind == "yes_no":
        return st.booleans()
    if question.kind == "choice":
        return st.sampled_from([o.value for o in question.options])
    if question.kind == "number":
        return st.integers(min_value=0, max_value=500)
    if question.kind == "date":
        return st.dates(min_value=dt.date(2022, 1, 1), max_value=TODAY)
    if question.kind == "text":
        return st.sampled_from(["", "none", "one incident, fixed"])
    return st.none()


def _draw_evidence(draw: st.DrawFn, question: str) -> Evidence:
    issued = draw(st.dates(dt.date(2024, 1, 1), TODAY + dt.timedelta(days=30)))
    lasts = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=900)))
    expires = None if lasts is None else issued + dt.timedelta(days=lasts)
    return Evidence(question, issued, expires)


@st.composite
def assessments(draw: st.DrawFn) -> tuple[list[Answer], list[Evidence]]:
    answers = [
        Answer(q.id, draw(_value_strategy(q))) for q in SHIPPED.questions() if draw(st.booleans())
    ]
    evidence = [
        _draw_evidence(draw, q.id)
        for q in SHIPPED.questions()
        if q.evidence is not None and draw(st.booleans())
    ]
    return answers, evidence


@settings(max_examples=15, deadline=None)
@given(assessment=assessments(), seed=st.integers(0, 2**16))
def test_same_answers_always_give_the_same_score(
    assessment: tuple[list[Answer], list[Evidence]], seed: int
) -> None:
    answers, evidence = assessment
    first = score(answers, evidence)
    shuffled_answers, shuffled_evidence = list(answers), list(evidence)
    random.Random(seed).shuffle(shuffled_answers)
    random.Random(seed).shuffle(shuffled_evidence)

    assert score(shuffled_answers, shuffled_evidence) == first
    assert score(list(answers), list(evidence)) == first
    assert Decimal(0) <= first.residual <= first.inherent


def test_clean_answers_with_evidence_in_force_are_low_with_no_reasons() -> None:
    result = score(clean_answers(), clean_evidence())

    assert result.residual == Decimal("0.00")
    assert result.rating is Rating.LOW
    assert result.reasons == ()
    assert result.version == "hipaa-security-2026-1"


def test_unanswered_questionnaire_keeps_all_inherent_risk() -> None:
    result = score([], [])

    assert result.residual == result.inherent
    assert all(s.residual == s.inherent for s in result.sections)
    assert result.rating is Rating.CRITICAL
    assert any(r.kind == "unanswered" and r.critical for r in result.reasons)


# --- rating boundaries ---------------------------------------------------------------

BOUNDARIES = [
    ("0", Rating.LOW),
    ("0.1499", Rating.LOW),
    ("0.15", Rating.MODERATE),
    ("0.1501", Rating.MODERATE),
    ("0.14995", Rating.MODERATE),  # 14.995 rounds half up to 15.00
    ("0.3499", Rating.MODERATE),
    ("0.35", Rating.HIGH),
    ("0.3501", Rating.HIGH),
    ("0.5999", Rating.HIGH),
    ("0.6", Rating.CRITICAL),
    ("0.6001", Rating.CRITICAL),
    ("1", Rating.CRITICAL),
]


@pytest.mark.parametrize(("risk", "rating"), BOUNDARIES)
def test_rating_boundaries(risk: str, rating: Rating) -> None:
    questionnaire = one_question([r for r, _ in BOUNDARIES])

    result = score_assessment(questionnaire, [Answer("Q-1", risk)], [], today=TODAY)

    assert result.rating is rating
    assert result.sections[0].rating is rating


@pytest.mark.parametrize(
    ("residual", "rating"),
    [
        (MODERATE_FROM - Decimal("0.01"), Rating.LOW),
        (MODERATE_FROM, Rating.MODERATE),
        (MODERATE_FROM + Decimal("0.01"), Rating.MODERATE),
        (HIGH_FROM - Decimal("0.01"), Rating.MODERATE),
        (HIGH_FROM, Rating.HIGH),
        (HIGH_FROM + Decimal("0.01"), Rating.HIGH),
        (CRITICAL_FROM - Decimal("0.01"), Rating.HIGH),
        (CRITICAL_FROM, Rating.CRITICAL),
        (CRITICAL_FROM + Decimal("0.01"), Rating.CRITICAL),
    ],
)
def test_rate_follows_named_boundaries(residual: Decimal, rating: Rating) -> None:
    assert rate(residual) is rating


# --- evidence --------------------------------------------------------------------------


def test_missing_required_evidence_lowers_the_score_and_is_a_reason() -> None:
    clean = score(clean_answers(), clean_evidence())

    result = score(clean_answers(), clean_evidence(without=("ADM-01",)))

    assert result.residual > clean.residual
    assert result.missing_evidence == ("ADM-01",)
    assert [r.message for r in result.reasons] == ["risk analysis report missing (ADM-01)"]


def test_expired_certificate_lowers_the_score_and_is_a_reason() -> None:
    expired = Evidence("CERT-01", dt.date(2025, 1, 1), dt.date(2026, 1, 31))
    evidence = [*clean_evidence(without=("CERT-01",)), expired]

    result = score(clean_answers(), evidence)

    assert result.residual > Decimal(0)
    assert result.expired_evidence == ("CERT-01",)
    assert result.reasons[0].message == "SOC 2 report expired 2026-01-31 (CERT-01)"
    assert next(s for s in result.sections if s.section == "CERT").residual > Decimal(0)


@pytest.mark.parametrize(
    ("today", "expired"),
    [(dt.date(2026, 1, 30), False), (dt.date(2026, 1, 31), False), (dt.date(2026, 2, 1), True)],
)
def test_certificate_is_in_force_through_its_expiry_date(today: dt.date, expired: bool) -> None:
    certificate = Evidence("CERT-01", dt.date(2025, 1, 1), dt.date(2026, 1, 31))
    evidence = [*clean_evidence(without=("CERT-01",)), certificate]
    result = score(clean_answers(dated=dt.date(2026, 1, 1)), evidence, today=today)

    assert ("CERT-01" in result.expired_evidence) is expired


def test_a_newer_certificate_replaces_an_expired_one() -> None:
    evidence = [
        *clean_evidence(),
        Evidence("CERT-01", dt.date(2024, 1, 1), dt.date(2025, 1, 31)),
    ]

    assert score(clean_answers(), evidence).reasons == ()


def test_evidence_not_yet_issued_counts_as_missing() -> None:
    future = Evidence("INS-01", dt.date(2026, 12, 1), dt.date(2027, 12, 1))
    evidence = [*clean_evidence(without=("INS-01",)), future]

    result = score(clean_answers(), evidence)

    assert result.missing_evidence == ("INS-01",)


def test_certificate_without_expiry_date_counts_as_missing() -> None:
    undated = Evidence("CERT-08", dt.date(2026, 1, 1))
    evidence = [*clean_evidence(without=("CERT-08",)), undated]

    result = score(clean_answers(), evidence)

    assert result.reasons[0].message == "ISO/IEC 27001 certificate has no expiry date (CERT-08)"


def test_non_expiring_evidence_needs_no_expiry_date() -> None:
    evidence = [*clean_evidence(without=("ADM-01",)), Evidence("ADM-01", dt.date(2026, 1, 1))]

    assert score(clean_answers(), evidence).reasons == ()


def test_a_no_needs_no_evidence_and_counts_once() -> None:
    result = score(clean_answers(INS_01=False), clean_evidence(without=("INS-01",)))

    assert [r.message for r in result.reasons] == ["no cyber insurance (INS-01)"]


def test_partial_answer_and_missing_evidence_add_up_to_the_whole_question() -> None:
    stale = TODAY - dt.timedelta(days=400)  # ADM-06: older than 365 days is risk 0.5
    answers = clean_answers(ADM_06=stale)

    partial = score(answers, clean_evidence())
    unproven = score(answers, clean_evidence(without=("ADM-06",)))
    denied = score(clean_answers(ADM_06=dt.date(2022, 1, 1)), clean_evidence())

    assert [r.kind for r in partial.reasons] == ["answer"]
    assert (
        partial.reasons[0].message == f"penetration test is out of date: last on {stale} (ADM-06)"
    )
    assert [r.kind for r in unproven.reasons] == ["answer", "missing_evidence"]
    assert unproven.residual == denied.residual > partial.residual


# --- critical answers --------------------------------------------------------------------


def test_critical_no_forces_at_least_high() -> None:
    result = score(clean_answers(TECH_03=False), clean_evidence())

    assert result.residual < HIGH_FROM
    assert result.rating is Rating.HIGH
    assert result.reasons[0].message == "no MFA for all users (TECH-03, critical)"
    assert next(s for s in result.sections if s.section == "TECH").rating is Rating.HIGH


def test_same_no_without_critical_flag_is_rated_by_residual_alone() -> None:
    plain = one_question(["0", "0.2", "1"], inherent=30)
    critical = one_question(["0", "0.2", "1"], inherent=30, critical=True)

    assert score_assessment(plain, [Answer("Q-1", "1")], [], today=TODAY).rating is (
        Rating.MODERATE
    )
    assert score_assessment(critical, [Answer("Q-1", "1")], [], today=TODAY).rating is (Rating.HIGH)
    assert score_assessment(critical, [Answer("Q-1", "0.2")], [], today=TODAY).rating is (
        Rating.LOW
    )


def test_critical_floor_never_lowers_a_critical_rating() -> None:
    questionnaire = one_question(["0", "1"], critical=True)

    result = score_assessment(questionnaire, [Answer("Q-1", "1")], [], today=TODAY)

    assert result.rating is Rating.CRITICAL


def test_critical_option_is_a_critical_finding() -> None:
    result = score(clean_answers(ENC_01="tls1.0"), clean_evidence())

    assert result.rating is Rating.HIGH
    assert result.reasons[0].message == "weak TLS accepted: TLS 1.0 or SSL (ENC-01, critical)"


def test_unanswered_critical_question_counts_as_critical() -> None:
    answers = [a for a in clean_answers() if a.question != "ORG-01"]

    result = score(answers, clean_evidence())

    assert result.rating is Rating.HIGH
    assert result.reasons[0].critical and result.reasons[0].kind == "unanswered"


# --- answers by kind and bad input ------------------------------------------------------------


@pytest.mark.parametrize(("hours", "flagged"), [(24, False), (25, True), (72, True)])
def test_number_answers_follow_their_bands(hours: int, flagged: bool) -> None:
    result = score(clean_answers(IR_02=hours), clean_evidence())

    messages = [r.message for r in result.reasons]
    assert messages == ([f"slow breach notification: {hours} hours (IR-02)"] if flagged else [])


@pytest.mark.parametrize(("age", "flagged"), [(100, False), (101, True)])
def test_date_answers_are_scored_by_age(age: int, flagged: bool) -> None:
    answers = clean_answers(ACC_02=TODAY - dt.timedelta(days=age))

    assert bool(score(answers, clean_evidence()).reasons) is flagged


@pytest.mark.parametrize(
    ("answer", "where"),
    [
        (Answer("NOPE-1", True), "NOPE-1"),
        (Answer("TECH-03", "yes"), "TECH-03"),
        (Answer("ENC-01", "tls0.9"), "ENC-01"),
        (Answer("IR-02", -1), "IR-02"),
        (Answer("IR-02", True), "IR-02"),
        (Answer("IR-02", Decimal("NaN")), "IR-02"),
        (Answer("ACC-02", TODAY + dt.timedelta(days=1)), "ACC-02"),
        (Answer("ACC-02", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)), "ACC-02"),
        (Answer("CERT-01", True), "CERT-01"),
        (Answer("BRCH-03", 3), "BRCH-03"),
    ],
)
def test_invalid_answer_is_refused_naming_the_question(answer: Answer, where: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        score([answer], [])

    assert caught.value.where == where


def test_answering_twice_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        score([Answer("TECH-03", True), Answer("TECH-03", False)], [])

    assert caught.value.where == "TECH-03"


@pytest.mark.parametrize(
    "item",
    [
        Evidence("NOPE-1", dt.date(2026, 1, 1)),
        Evidence("CERT-01", dt.date(2026, 1, 1), dt.date(2025, 1, 1)),
    ],
)
def test_invalid_evidence_is_refused_naming_the_question(item: Evidence) -> None:
    with pytest.raises(ValidationFailed) as caught:
        score([], [item])

    assert caught.value.where == item.question
