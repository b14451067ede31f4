"""Choosing among billing companies: side by side, best first, with what counts against each.

``compare`` is pure and tested on hand-made candidates; ``load_candidates``
on both backends, through the workflow, where a practice must see only
its own assessments of each company.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import Any

import pytest

from claimbridge.errors import AccessDenied, NotFound, ValidationFailed
from claimbridge.storage.orgs import Role
from claimbridge.vendors.answers import parse_answer
from claimbridge.vendors.questionnaires import latest
from claimbridge.vendors.reviews import review
from claimbridge.vendors.scoring import Answer
from claimbridge.vendors.selection import (
    AssessmentFacts,
    BAAFacts,
    Candidate,
    DocumentFacts,
    EngagementFacts,
    RemediationFacts,
    compare,
    load_candidates,
)
from tests.functional.vendors.conftest import VendorWorld
from tests.functional.vendors.flows import (
    act,
    decide,
    engagement_of,
    events,
    good_answers,
    sign_baa,
    submitted,
)

TODAY = dt.date(2026, 3, 2)
QUESTIONNAIRE = latest()


def typed(answers: dict[str, Any]) -> tuple[Answer, ...]:
    return tuple(
        Answer(q, parse_answer(QUESTIONNAIRE.question(q), raw, today=TODAY))  # type: ignore[arg-type]
        for q, raw in answers.items()
    )


def documents(*, certificates_expire: dt.date, without: tuple[str, ...] = ()) -> tuple[Any, ...]:
    return tuple(
        DocumentFacts(
            q.id,
            f"{q.id} document",
            TODAY - timedelta(days=20),
            certificates_expire if q.evidence.expires else None,
            q.evidence.expires,
        )
        for q in QUESTIONNAIRE.questions()
        if q.evidence is not None and q.evidence.required and q.id not in without
    )


def candidate(
    name: str,
    *,
    answers: dict[str, Any] | None = None,
    docs: tuple[Any, ...] = (),
    remediation: tuple[RemediationFacts, ...] = (),
    baa: BAAFacts | None = None,
) -> Candidate:
    return Candidate(
        id=f"id-{name}",
        name=name,
        engagement=EngagementFacts(f"e-{name}", "assessing", "no_baa"),
        assessment=AssessmentFacts(
            id=f"a-{name}",
            status="submitted",
            questionnaire=QUESTIONNAIRE,
            answers=typed(answers if answers is not None else good_answers(TODAY)),
            documents=docs,
            remediation=remediation,
            submitted_on=TODAY,
        ),
        baa=baa,
    )


def test_candidates_line_up_best_first_with_what_counts_against_each() -> None:
    clean = candidate(
        "Clean Billing",
        docs=documents(certificates_expire=TODAY + timedelta(days=30)),
        baa=BAAFacts("2026-1", TODAY - timedelta(days=3), TODAY + timedelta(days=365)),
    )
    risky = candidate(
        "Risky Billing",
        answers=good_answers(TODAY, TECH_03=False),
        docs=documents(certificates_expire=TODAY + timedelta(days=300), without=("CERT-08",)),
        remediation=(
            RemediationFacts("TECH-03", TODAY - timedelta(days=1), critical=True, reported=False),
            RemediationFacts("ADM-02", TODAY + timedelta(days=9), critical=False, reported=True),
        ),
    )
    unknown = Candidate("id-unknown", "Unknown Billing")

    shown = compare([unknown, risky, clean], today=TODAY).to_json()

    names = [c["company"]["name"] for c in shown["candidates"]]
    assert names == ["Clean Billing", "Risky Billing", "Unknown Billing"]
    best, worst, not_assessed = shown["candidates"]
    assert best["rank"] == 1 and best["score"]["rating"] == "low"
    assert [c["question"] for c in best["expiring_certificates"]] == [
        "CERT-01",
        "CERT-07",
        "CERT-08",
        "INS-01",
    ]
    assert best["expiring_certificates"][0]["days_left"] == 30
    assert best["baa"]["status"] == "in_force"
    assert worst["score"]["rating"] == "high"
    assert worst["missing_evidence"] == ["CERT-08"]
    assert worst["expiring_certificates"] == []
    assert (worst["remediation"]["open"], worst["remediation"]["past_due"]) == (2, 1)
    assert worst["remediation"]["critical_open"] == 1
    assert worst["baa"]["status"] == "none"
    tech = next(s for s in worst["score"]["sections"] if s["section"] == "TECH")
    assert tech["title"] == "Technical safeguards" and tech["residual"] > 0
    assert not_assessed["score"] is None and not_assessed["assessment"] is None


def test_the_expiry_window_is_the_callers_and_the_comparison_is_reproducible() -> None:
    soon = candidate("Soon", docs=documents(certificates_expire=TODAY + timedelta(days=30)))

    narrow = compare([soon], today=TODAY, expiring_within_days=20).to_json()
    wide = compare([soon], today=TODAY).to_json()

    assert narrow["candidates"][0]["expiring_certificates"] == []
    assert len(wide["candidates"][0]["expiring_certificates"]) == 4
    assert compare([soon], today=TODAY).to_json() == wide


def test_an_expired_certificate_counts_as_of_the_day_compared() -> None:
    lapsing = candidate("Lapsing", docs=documents(certificates_expire=TODAY + timedelta(days=5)))

    later = compare([lapsing], today=TODAY + timedelta(days=6)).to_json()["candidates"][0]

    assert set(later["expired_evidence"]) == {"CERT-01", "CERT-07", "CERT-08", "INS-01"}
    assert later["expiring_certificates"] == []


def test_a_practice_compares_its_own_assessments_of_each_company(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    summit = submitted(w, w.riverside, w.summit)
    sign_baa(w, engagement_of(w, summit).id)
    decide(w, w.riverside, summit, approve=True)
    northwind = submitted(
        w, w.riverside, w.northwind, answers=good_answers(w.clock.now().date(), ORG_01=False)
    )
    admin = w.principal(w.riverside, Role.PRACTICE_ADMIN)
    due = w.clock.now().date() + timedelta(days=14)
    act(
        w,
        lambda s: review(
            s, admin, northwind, "ORG-01", verdict="remediation", due_on=due, now=w.clock.now()
        ),
    )
    # Lakeside's own, worse, assessment of Summit must not leak into Riverside's view.
    submitted(w, w.lakeside, w.summit, answers=good_answers(w.clock.now().date(), TECH_01=False))

    loaded = act(w, lambda s: load_candidates(s, admin, now=w.clock.now()))
    shown = compare(loaded, today=w.clock.now().date()).to_json()

    rows = {c["company"]["id"]: c for c in shown["candidates"]}
    assert set(rows) == {w.summit, w.northwind}
    assert rows[w.summit]["assessment"]["id"] == summit
    assert rows[w.summit]["score"]["rating"] == "low"
    assert rows[w.summit]["baa"]["status"] == "in_force"
    assert rows[w.summit]["engagement"]["status"] == "active"
    assert rows[w.northwind]["assessment"]["status"] == "submitted"
    assert rows[w.northwind]["score"]["rating"] == "high"  # ORG-01 "no" is critical
    assert rows[w.northwind]["remediation"]["open"] == 1
    assert rows[w.northwind]["remediation"]["critical_open"] == 1
    assert [c["company"]["id"] for c in shown["candidates"]] == [w.summit, w.northwind]
    assert events(w)[-1].action == "vendors:vendor:compared"


def test_a_company_never_invited_is_shown_not_assessed(vendor_world: VendorWorld) -> None:
    w = vendor_world
    submitted(w, w.lakeside, w.northwind)  # assessed by Lakeside, not by Riverside
    admin = w.principal(w.riverside, Role.PRACTICE_ADMIN)

    loaded = act(w, lambda s: load_candidates(s, admin, [w.northwind], now=w.clock.now()))

    [row] = compare(loaded, today=w.clock.now().date()).to_json()["candidates"]
    assert row["assessment"] is None and row["engagement"] is None and row["score"] is None


@pytest.mark.parametrize(
    ("org", "role"),
    [("summit", Role.VENDOR_ADMIN), ("riverside", Role.PRIVACY_OFFICER)],
)
def test_only_a_practice_admin_compares(vendor_world: VendorWorld, org: str, role: Role) -> None:
    w = vendor_world
    who = w.principal(getattr(w, org), role)

    with pytest.raises(AccessDenied):
        act(w, lambda s: load_candidates(s, who, now=w.clock.now()))

    assert events(w)[-1].outcome == "denied"


def test_only_billing_companies_are_compared(vendor_world: VendorWorld) -> None:
    w = vendor_world
    admin = w.principal(w.riverside, Role.PRACTICE_ADMIN)

    with pytest.raises(ValidationFailed) as practice:
        act(w, lambda s: load_candidates(s, admin, [w.lakeside], now=w.clock.now()))
    with pytest.raises(NotFound) as unknown:
        act(w, lambda s: load_candidates(s, admin, ["Nobody Billing"], now=w.clock.now()))

    assert practice.value.where == unknown.value.where == "ids"
