"""Code validity: diagnoses, procedure and modifier shapes, NPIs, pointers, timely filing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.model import Finding, ScrubClaim, Severity
from claimbridge.integrity.rules.codes import (
    RULES,
    DiagnosisCodeValidity,
    DiagnosisPointers,
    NPIValidity,
    ProcedureCodeShape,
    TimelyFiling,
    npi_problem,
)
from claimbridge.integrity.tables.icd10cm import ICD10CMRelease
from tests.unit.integrity.rule_samples import (
    BILLING,
    PATIENT,
    RENDERING,
    TODAY,
    claim,
    line,
    valid_npi,
)

RELEASE = ICD10CMRelease()
IN_YEAR = date(RELEASE.fiscal_year, 3, 2)


@dataclass(frozen=True)
class MemoryDiagnosisCodes:
    """A code set of three codes, with no fiscal year."""

    label: str = "test code set"

    def exists(self, code: str) -> bool:
        return code in {"E11", "E1165", "I10"}

    def billable(self, code: str) -> bool:
        return code in {"E1165", "I10"}


def check(rule: Any, subject: ScrubClaim, context: ScrubContext | None = None) -> list[Finding]:
    return list(rule.check(subject, context or ScrubContext(today=TODAY)))


def test_the_family_exports_its_five_rules() -> None:
    assert [rule.id for rule in RULES] == [
        "code-diagnosis",
        "code-procedure",
        "code-npi",
        "code-pointer",
        "timely-filing",
    ]
    assert {rule.scope for rule in RULES} == {"claim"}


# --- diagnoses ----------------------------------------------------------------------


def diagnoses(*codes: str, served: date = IN_YEAR, table: Any = RELEASE) -> list[Finding]:
    scrub_context = ScrubContext(today=served + timedelta(days=5), diagnoses=table)
    return check(
        DiagnosisCodeValidity(), claim(line(served=served), diagnoses=codes), scrub_context
    )


def test_billable_diagnoses_pass() -> None:
    assert diagnoses("E1165", "I10", "S72001A") == []


@pytest.mark.parametrize(("code", "shown"), [("E11", "E11"), ("E116", "E11.6"), ("E11.6", "E11.6")])
def test_a_category_with_codes_below_it_blocks_and_asks_for_a_more_specific_code(
    code: str, shown: str
) -> None:
    (found,) = diagnoses("I10", code)
    assert found.severity is Severity.BLOCK
    assert found.rule == "code-diagnosis"
    assert found.codes == (shown,)
    assert found.message.startswith(f"Diagnosis 2, ICD-10-CM {shown}, is a category in ")
    assert "not a billable code" in found.message and RELEASE.label in found.message
    assert "most specific code" in found.remedy


def test_an_unknown_diagnosis_blocks() -> None:
    (found,) = diagnoses("Z99.999")
    assert found.severity is Severity.BLOCK
    assert f"Diagnosis 1, ICD-10-CM Z99.999, is not a code in {RELEASE.label}" in found.message


def test_a_diagnosis_listed_twice_is_reported_once() -> None:
    assert len(diagnoses("E11", "E11")) == 1


def test_a_code_the_release_lacks_only_warns_when_the_service_is_in_another_fiscal_year() -> None:
    """A valid code passes in any year; an unknown or category code blocks in the release's
    own year, and only warns in another, whose code set may have added or split it."""
    last_day_before = date(RELEASE.fiscal_year - 1, 9, 30)
    assert diagnoses("E1165", served=last_day_before) == []
    assert diagnoses("E1165", served=date(RELEASE.fiscal_year, 10, 1)) == []
    (before,) = diagnoses("E11", served=last_day_before)
    assert before.severity is Severity.WARN
    assert f"FY{RELEASE.fiscal_year - 1}" in before.message and RELEASE.label in before.message
    (within,) = diagnoses("E11", served=date(RELEASE.fiscal_year - 1, 10, 1))
    assert within.severity is Severity.BLOCK
    (last,) = diagnoses("E11", served=date(RELEASE.fiscal_year, 9, 30))
    assert last.severity is Severity.BLOCK
    (after,) = diagnoses("E11", served=date(RELEASE.fiscal_year, 10, 1))
    assert after.severity is Severity.WARN


def test_a_code_set_without_a_fiscal_year_is_used_without_the_year_warning() -> None:
    memory = MemoryDiagnosisCodes()
    assert diagnoses("E1165", served=date(2001, 1, 1), table=memory) == []
    (found,) = diagnoses("E11", table=memory)
    assert "is a category in test code set" in found.message


def test_the_diagnosis_rule_waits_for_a_code_set() -> None:
    rule = DiagnosisCodeValidity()
    assert not rule.ready(ScrubContext(today=TODAY))
    assert rule.ready(ScrubContext(today=TODAY, diagnoses=RELEASE))


# --- procedure codes and modifiers -----------------------------------------------------


@pytest.mark.parametrize("code", ["99213", "0001F", "0042T", "0001U", "J1100", "V2020", "0450"])
def test_cpt_hcpcs_and_revenue_code_shapes_pass(code: str) -> None:
    assert check(ProcedureCodeShape(), claim(line(code=code), diagnoses=())) == []


@pytest.mark.parametrize("code", ["992134", "992", "W1234", "ABCDE", "0001X", "", "99 13"])
def test_a_code_of_no_known_shape_blocks_its_line(code: str) -> None:
    (found,) = check(ProcedureCodeShape(), claim(line(1), line(2, code=code)))
    assert (found.severity, found.line, found.rule) == (Severity.BLOCK, 2, "code-procedure")
    assert "is not a procedure code" in found.message


def test_a_long_bad_code_is_quoted_short() -> None:
    (found,) = check(ProcedureCodeShape(), claim(line(code="X" * 500)))
    assert len(found.message) < 300


@pytest.mark.parametrize("modifiers", [("5",), ("XYZ",), ("59", "-"), ("",)])
def test_a_modifier_that_is_not_two_letters_or_digits_blocks(modifiers: tuple[str, ...]) -> None:
    (found,) = check(ProcedureCodeShape(), claim(line(modifiers=modifiers)))
    assert found.severity is Severity.BLOCK and "modifier" in found.message


def test_two_character_modifiers_pass() -> None:
    assert check(ProcedureCodeShape(), claim(line(modifiers=("25", "59", "XS", "LT")))) == []


# --- NPIs -------------------------------------------------------------------------


def test_npis_with_their_check_digit_pass() -> None:
    assert check(NPIValidity(), claim(referring=valid_npi("155544433"))) == []
    assert npi_problem("1234567893") is None  # CMS's worked example


@pytest.mark.parametrize(
    ("npi", "problem"),
    [
        ("1234567890", "fails its check digit (the first nine digits give 3, not 0)"),
        ("123456789", "is not ten digits"),
        ("12345678931", "is not ten digits"),
        ("12345678a3", "is not ten digits"),
        ("3234567893", "does not start with 1 or 2"),
    ],
)
def test_a_bad_npi_blocks_and_says_what_is_wrong(npi: str, problem: str) -> None:
    (found,) = check(NPIValidity(), claim(rendering=npi))
    assert found.severity is Severity.BLOCK
    assert found.message == f"Rendering NPI {npi!r} {problem}."


def test_each_role_of_a_bad_npi_is_named() -> None:
    bad = "1234567890"
    (found,) = check(NPIValidity(), claim(billing=bad, rendering=bad))
    assert found.message.startswith("Billing and rendering NPI")
    (referring,) = check(NPIValidity(), claim(referring=bad))
    assert referring.message.startswith("Referring NPI") and referring.provider == bad


# --- diagnosis pointers ---------------------------------------------------------------


FOUR = ("E1165", "I10", "E785", "Z794")


@pytest.mark.parametrize("pointers", [(1,), (1, 2, 3, 4), (4, 1)])
def test_pointers_into_the_claims_diagnoses_pass(pointers: tuple[int, ...]) -> None:
    assert check(DiagnosisPointers(), claim(line(pointers=pointers), diagnoses=FOUR)) == []


@pytest.mark.parametrize(("pointers", "dangling"), [((0,), "0"), ((1, 5), "5"), ((0, 5), "0, 5")])
def test_a_pointer_to_no_diagnosis_blocks(pointers: tuple[int, ...], dangling: str) -> None:
    (found,) = check(DiagnosisPointers(), claim(line(3, pointers=pointers), diagnoses=FOUR))
    assert (found.severity, found.line) == (Severity.BLOCK, 3)
    assert (
        f"Line 3 points at diagnosis {dangling}, but the claim lists 4 diagnoses" in found.message
    )


def test_a_pointer_on_a_claim_without_diagnoses_blocks() -> None:
    (found,) = check(DiagnosisPointers(), claim(line(pointers=(1,)), diagnoses=()))
    assert "lists 0 diagnoses" in found.message


def test_more_than_four_pointers_block() -> None:
    five = ("E1165", "I10", "E785", "Z794", "E669")
    (found,) = check(DiagnosisPointers(), claim(line(pointers=(1, 2, 3, 4, 5)), diagnoses=five))
    assert "has 5 diagnosis pointers; at most four" in found.message


# --- timely filing ------------------------------------------------------------------


SERVED = date(2025, 3, 1)
DEADLINE = SERVED + timedelta(days=365)


def filing(filed: date, *, received: bool = True) -> list[Finding]:
    scrub_context = ScrubContext(today=filed if not received else date(2000, 1, 1))
    subject = claim(line(served=SERVED), received=filed if received else None)
    return check(TimelyFiling(), subject, scrub_context)


def test_a_claim_filed_on_the_last_day_warns_and_the_day_after_blocks() -> None:
    (last_day,) = filing(DEADLINE)
    assert last_day.severity is Severity.WARN
    assert f"0 days left of its 365-day filing limit, which ends {DEADLINE}" in last_day.message
    (late,) = filing(DEADLINE + timedelta(days=1))
    assert late.severity is Severity.BLOCK
    assert "366 days after its date of service" in late.message
    assert "42 CFR 424.44" in late.message and f"ended {DEADLINE}" in late.message


def test_the_warning_starts_thirty_days_before_the_limit() -> None:
    assert filing(DEADLINE - timedelta(days=30)) == []
    (found,) = filing(DEADLINE - timedelta(days=29))
    assert found.severity is Severity.WARN and "29 days left" in found.remedy + found.message


def test_without_a_received_date_the_scrub_day_counts() -> None:
    assert filing(DEADLINE + timedelta(days=1), received=False)[0].severity is Severity.BLOCK
    assert filing(SERVED + timedelta(days=10), received=False) == []


def test_the_limit_is_the_contexts() -> None:
    scrub_context = ScrubContext(today=SERVED + timedelta(days=100), timely_filing_days=90)
    (found,) = check(TimelyFiling(), claim(line(served=SERVED)), scrub_context)
    assert found.severity is Severity.BLOCK and "90-day filing limit" in found.message


def test_no_code_finding_shows_the_patient_key() -> None:
    bad = claim(
        line(code="BAD", modifiers=("X",), pointers=(9,), served=date(2020, 1, 1)),
        billing="1",
        diagnoses=("E11",),
        rendering=RENDERING,
    )
    scrub_context = ScrubContext(today=TODAY, diagnoses=RELEASE)
    found = [f for rule in RULES for f in check(rule, bad, scrub_context)]
    assert len({f.rule for f in found}) == 5
    assert all(PATIENT not in f.explanation + str(f.to_json()) for f in found)
    assert BILLING not in {f.provider for f in found}
