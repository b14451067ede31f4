"""Duplicates: one patient's service from one provider on one date, billed more than once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import pytest

from claimbridge.integrity.context import DuplicateKey, ScrubContext, duplicate_key
from claimbridge.integrity.model import Finding, ScrubClaim, Severity
from claimbridge.integrity.rules.duplicates import RULES, DuplicateServices
from tests.unit.integrity.rule_samples import (
    PATIENT,
    RENDERING,
    SERVED,
    TODAY,
    claim,
    line,
    run,
    valid_npi,
)


def duplicates(
    *claims: ScrubClaim, history: Mapping[DuplicateKey, str] | None = None
) -> list[Finding]:
    return run(RULES, claims, ScrubContext(today=TODAY, history=history or {}))


def test_the_family_exports_one_day_rule() -> None:
    assert [(rule.id, rule.scope) for rule in RULES] == [("duplicate", "day")]
    assert DuplicateServices().ready(ScrubContext(today=TODAY))


def test_an_identical_line_inside_one_claim_is_a_duplicate_of_the_first() -> None:
    (found,) = duplicates(claim(line(1), line(2, "85025"), line(3)))
    assert (found.rule, found.severity, found.claim, found.line) == (
        "duplicate",
        Severity.BLOCK,
        "claim 1",
        3,
    )
    assert "as line 1 of claim claim 1: a duplicate" in found.message
    assert f"NPI {RENDERING} and date of service {SERVED.isoformat()}" in found.message
    assert PATIENT not in found.explanation + str(found.to_json())


def test_the_later_claims_line_is_flagged_and_names_the_first() -> None:
    first = claim(line(1, "85025"), line(2, "99213"), ref="A-1")
    second = claim(line(1, "99213"), ref="B-2")
    third = claim(line(1, "99213"), ref="C-3")
    found = duplicates(first, second, third)
    assert [(f.claim, f.line, dict(f.facts)["duplicate_of"]) for f in found] == [
        ("B-2", 1, "A-1"),
        ("C-3", 1, "A-1"),
    ]
    assert all("line 2 of claim A-1" in f.message for f in found)


def test_modifiers_in_another_order_are_the_same_service() -> None:
    found = duplicates(
        claim(line(modifiers=("LT", "59")), ref="A"),
        claim(line(modifiers=("59", "LT")), ref="B"),
    )
    assert [(f.claim, f.codes) for f in found] == [("B", ("99213",))]
    assert "bills 99213-59-LT" in found[0].message


LT = ("LT",)


@pytest.mark.parametrize(
    "second",
    [
        claim(line(modifiers=("RT",)), ref="B"),  # the other side of the body
        claim(line(code="99214", modifiers=LT), ref="B"),
        claim(line(served=SERVED + timedelta(days=1), modifiers=LT), ref="B"),
        claim(line(modifiers=LT), ref="B", patient="another-patient"),
        claim(line(modifiers=LT), ref="B", rendering=valid_npi("111222333")),
    ],
    ids=["modifier", "code", "date", "patient", "provider"],
)
def test_a_service_differing_in_any_part_of_the_key_is_no_duplicate(second: ScrubClaim) -> None:
    first = claim(line(modifiers=LT), ref="A")
    assert duplicates(first, second) == []
    assert len(duplicates(first, first)) == 1  # the same claim twice is caught


@pytest.mark.parametrize("modifier", ["76", "77", "91"])
def test_a_repeat_marked_with_76_77_or_91_is_legitimate(modifier: str) -> None:
    first = claim(line(1, "80053"), ref="A")
    repeats = claim(
        line(1, "80053", modifiers=(modifier,)), line(2, "80053", modifiers=(modifier,)), ref="B"
    )
    assert duplicates(first, repeats) == []


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_a_replacement_or_void_is_the_duplicate_of_nothing(frequency: str) -> None:
    original = claim(line(), ref="A")
    correction = claim(line(), ref="A-corrected", frequency=frequency)
    assert duplicates(original, correction) == []
    key = duplicate_key(PATIENT, RENDERING, SERVED, "99213", ())
    assert duplicates(correction, history={key: "A"}) == []


def test_a_line_billed_in_an_earlier_batch_is_a_duplicate_of_that_claim() -> None:
    key = duplicate_key(PATIENT, RENDERING, SERVED, "99213", ("59", "LT"))
    (found,) = duplicates(claim(line(2, modifiers=("LT", "59")), ref="new"), history={key: "old-7"})
    assert (found.claim, found.line) == ("new", 2)
    assert "as claim old-7, billed in an earlier batch" in found.message
    assert dict(found.facts)["duplicate_of"] == "old-7"


def test_every_line_matching_history_names_the_earlier_claim() -> None:
    key = duplicate_key(PATIENT, RENDERING, SERVED, "99213", ())
    found = duplicates(claim(line(1), line(2), ref="new"), history={key: "old"})
    assert [(f.line, dict(f.facts)["duplicate_of"]) for f in found] == [(1, "old"), (2, "old")]


def test_a_stored_claim_scrubbed_again_is_not_its_own_duplicate() -> None:
    key = duplicate_key(PATIENT, RENDERING, SERVED, "99213", ())
    assert duplicates(claim(line(), ref="stored-1"), history={key: "stored-1"}) == []


def test_the_billing_npi_is_the_provider_when_no_rendering_is_named() -> None:
    found = duplicates(
        claim(line(), ref="A", rendering=None), claim(line(), ref="B", rendering=None)
    )
    assert [f.claim for f in found] == ["B"]
