"""Tests for claimbridge.demo.generate: the synthetic, deterministic demo practice."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimbridge.demo.generate import DemoClaim, DemoPractice, generate_practice
from claimbridge.errors import ValidationFailed
from claimbridge.types import ICD10CM, NPI, Modifier, PlaceOfService, ProcedureCode

START = date(2024, 1, 1)
END = date(2024, 12, 31)

NEW_OFFICE_EM = {"99202", "99203", "99204", "99205"}
ESTABLISHED_EM = {"99211", "99212", "99213", "99214", "99215"}
NEW_PREVENTIVE = {"99381", "99382", "99383", "99384", "99385", "99386", "99387"}
BLOOD_TESTS = {"80053", "80061", "85025", "83036", "84443"}
VACCINE_PRODUCTS = {"90686", "90662", "90715", "90732"}
VACCINE_ADMIN = {"90471", "90472", "G0008", "G0009"}
SAME_DAY_PROCEDURES = {"96372", *VACCINE_ADMIN}

# CMS MBI rules: letters exclude S, L, O, I, B and Z.
MBI_LETTER = "[AC-HJKMNP-RT-Y]"
MBI = re.compile(
    rf"[1-9]{MBI_LETTER}[0-9{MBI_LETTER[1:-1]}][0-9]{MBI_LETTER}[0-9{MBI_LETTER[1:-1]}]"
    rf"[0-9]{MBI_LETTER}{MBI_LETTER}[0-9][0-9]"
)


def _generate(seed: int = 7, patients: int = 200, key: str = "demo") -> DemoPractice:
    return generate_practice(seed=seed, patients=patients, practice_key=key, start=START, end=END)


@pytest.fixture(scope="module")
def practice() -> DemoPractice:
    return generate_practice(
        seed=20240101, patients=1000, practice_key="riverside", start=START, end=END
    )


def _people(practice: DemoPractice) -> set[tuple[str, str, date]]:
    return {(p.given_name, p.family_name, p.birth_date) for p in practice.patients}


def _codes(claim: DemoClaim) -> set[str]:
    return {line.procedure_code for line in claim.lines}


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _primary_payers(practice: DemoPractice) -> dict[str, str]:
    return {c.patient_key: c.payer_name for c in practice.coverages if c.priority == 1}


def _assert_invariants(practice: DemoPractice, start: date, end: date) -> None:
    """What must hold for any practice, whatever its size, seed or period."""
    patients = {p.key: p for p in practice.patients}
    assert len(patients) == len(practice.patients)
    assert len({p.mrn for p in practice.patients}) == len(practice.patients)
    encounters = {e.key: e for e in practice.encounters}
    assert len(encounters) == len(practice.claims)
    npis = {p.npi for p in practice.providers}
    for npi in [practice.group_npi, *npis]:
        assert str(NPI.parse(npi)) == npi
    for encounter in practice.encounters:
        patient = patients[encounter.patient_key]
        day = encounter.date_of_service
        assert start <= day <= end
        assert day.weekday() < 5
        assert patient.birth_date <= day
        assert patient.deceased_on is None or day <= patient.deceased_on
        assert encounter.provider_npi in npis
        PlaceOfService.parse(encounter.place_of_service)
    for claim in practice.claims:
        encounter = encounters[claim.encounter_key]
        assert claim.patient_key == encounter.patient_key
        assert claim.rendering_npi == encounter.provider_npi
        assert claim.billing_npi == practice.group_npi
        assert claim.place_of_service == encounter.place_of_service
        assert claim.frequency_code == "1"
        assert 1 <= len(claim.diagnoses) <= 4
        assert len(set(claim.diagnoses)) == len(claim.diagnoses)
        for code in claim.diagnoses:
            assert str(ICD10CM.parse(code)) == code
        assert claim.lines
        assert [line.line_number for line in claim.lines] == list(range(1, len(claim.lines) + 1))
        assert claim.total_charge_cents == sum(line.charge_cents for line in claim.lines)
        for line in claim.lines:
            assert str(ProcedureCode.parse(line.procedure_code)) == line.procedure_code
            assert all(str(Modifier.parse(m)) == m for m in line.modifiers)
            assert line.units >= 1
            assert line.charge_cents > 0
            assert line.date_of_service == encounter.date_of_service
            assert line.diagnosis_pointers
            assert all(1 <= p <= len(claim.diagnoses) for p in line.diagnosis_pointers)


# --- determinism ------------------------------------------------------------------


def test_same_arguments_give_identical_practice() -> None:
    assert _generate() == _generate()


def test_output_does_not_depend_on_the_interpreter_hash_seed() -> None:
    # Set or dict iteration over str leaking into the output would make two
    # processes with different hash seeds disagree: this one, and a child
    # whose string hashes are seen to differ from this one's.
    script = (
        "import hashlib, datetime\n"
        "from claimbridge.demo.generate import generate_practice\n"
        "p = generate_practice(seed=7, patients=200, practice_key='demo',\n"
        "    start=datetime.date(2024, 1, 1), end=datetime.date(2024, 12, 31))\n"
        "print(hash('claimbridge'), hashlib.sha256(repr(p).encode()).hexdigest())\n"
    )
    for hash_seed in ("1", "2"):  # the second only if this process runs with the first
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        child_hash, digest = result.stdout.split()
        if int(child_hash) != hash("claimbridge"):
            break
    assert int(child_hash) != hash("claimbridge")
    assert digest == hashlib.sha256(repr(_generate()).encode()).hexdigest()


def test_different_seeds_give_different_people() -> None:
    first, second = _generate(seed=1), _generate(seed=2)
    assert first != second
    assert len(_people(first) & _people(second)) < 5
    assert {p.mrn for p in first.patients} != {p.mrn for p in second.patients}


def test_different_practice_keys_with_the_same_seed_give_different_people() -> None:
    first, second = _generate(key="north"), _generate(key="south")
    assert len(_people(first) & _people(second)) < 5
    assert first.group_npi != second.group_npi
    assert all(p.key.startswith("north-") for p in first.patients)


# --- counts and totals ---------------------------------------------------------------


def test_patient_count_is_what_was_asked(practice: DemoPractice) -> None:
    assert len(practice.patients) == 1000
    assert _generate(patients=0).patients == ()


def test_every_patient_has_one_to_six_encounters_each_with_one_claim(
    practice: DemoPractice,
) -> None:
    visits = Counter(e.patient_key for e in practice.encounters)
    assert set(visits) == {p.key for p in practice.patients}
    assert set(visits.values()) <= set(range(1, 7))
    assert Counter(c.encounter_key for c in practice.claims) == Counter(
        {e.key: 1 for e in practice.encounters}
    )


def test_invariants_hold_across_a_thousand_patients(practice: DemoPractice) -> None:
    _assert_invariants(practice, START, END)


def test_claim_refuses_a_total_that_differs_from_its_lines(practice: DemoPractice) -> None:
    claim = practice.claims[0]
    with pytest.raises(ValidationFailed):
        replace(claim, total_charge_cents=claim.total_charge_cents + 1)


def test_established_visit_charges_follow_the_fee_schedule(practice: DemoPractice) -> None:
    charges = {
        line.procedure_code: line.charge_cents
        for claim in practice.claims
        for line in claim.lines
        if line.units == 1
    }
    assert charges["99213"] == 13_500
    assert charges["99214"] == 19_500


# --- identities ------------------------------------------------------------------


def test_ssns_are_only_in_the_never_issued_9xx_area(practice: DemoPractice) -> None:
    ssns = [p.ssn for p in practice.patients if p.ssn is not None]
    # Group 10-49 also keeps clear of the ITIN ranges, which start at 50.
    assert all(re.fullmatch(r"9[0-9]{2}-[1-4][0-9]-[0-9]{4}", ssn) for ssn in ssns)
    assert 0.12 < len(ssns) / len(practice.patients) < 0.28


def test_phone_numbers_are_in_the_fictional_555_01_block(practice: DemoPractice) -> None:
    assert all(re.fullmatch(r"[0-9]{3}-555-01[0-9]{2}", p.phone) for p in practice.patients)


def test_practice_identifiers_are_well_formed(practice: DemoPractice) -> None:
    assert re.fullmatch(r"[0-9]{2}-[0-9]{7}", practice.tax_id)
    assert re.fullmatch(r"[0-9]{9}", practice.address.postal_code)
    assert {p.specialty for p in practice.providers} == {
        "Family Medicine",
        "Internal Medicine",
        "Pediatrics",
    }
    taxonomy = {p.specialty: p.taxonomy_code for p in practice.providers}
    assert taxonomy["Family Medicine"] == "207Q00000X"
    assert len({p.npi for p in practice.providers} | {practice.group_npi}) == 5


def test_patients_have_plausible_demographics(practice: DemoPractice) -> None:
    assert all(re.fullmatch(r"[0-9]{8}", p.mrn) for p in practice.patients)
    assert all(re.fullmatch(r"[0-9]{5}", p.postal_code) for p in practice.patients)
    assert all(re.fullmatch(r"[A-Z]{2}", p.state) for p in practice.patients)
    sexes = Counter(p.sex for p in practice.patients)
    assert set(sexes) <= {"F", "M", "U"}
    assert sexes["F"] > 400
    assert sexes["M"] > 400


def test_a_few_patients_die_inside_the_period(practice: DemoPractice) -> None:
    deaths = [p.deceased_on for p in practice.patients if p.deceased_on is not None]
    assert 1 <= len(deaths) <= 15
    assert all(START <= day <= END for day in deaths)


# --- coverage -------------------------------------------------------------------


def test_older_patients_mostly_have_medicare_primary(practice: DemoPractice) -> None:
    primary = _primary_payers(practice)
    seniors = [p.key for p in practice.patients if _age(p.birth_date, START) >= 65]
    on_medicare = [key for key in seniors if primary.get(key, "").startswith("Medicare")]
    assert len(seniors) > 100
    assert len(on_medicare) / len(seniors) >= 0.80


def test_children_are_often_on_medicaid_or_chip(practice: DemoPractice) -> None:
    primary = _primary_payers(practice)
    children = [p.key for p in practice.patients if _age(p.birth_date, START) < 19]
    public = [k for k in children if any(w in primary.get(k, "") for w in ("Medica", "CHIP"))]
    assert len(public) / len(children) >= 0.30
    assert not any(primary.get(k, "").startswith("Medicare") for k in children)


def test_about_three_percent_are_self_pay_and_their_claims_name_no_coverage(
    practice: DemoPractice,
) -> None:
    primary = _primary_payers(practice)
    self_pay = {p.key for p in practice.patients if p.key not in primary}
    assert 0.01 <= len(self_pay) / len(practice.patients) <= 0.06
    for claim in practice.claims:
        assert claim.coverage_priority == (None if claim.patient_key in self_pay else 1)


def test_about_one_patient_in_ten_has_a_secondary_payer(practice: DemoPractice) -> None:
    priorities = defaultdict(list)
    for coverage in practice.coverages:
        priorities[coverage.patient_key].append(coverage.priority)
    assert all(found in ([1], [1, 2]) for found in priorities.values())
    share = sum(1 for found in priorities.values() if found == [1, 2]) / len(practice.patients)
    assert 0.05 <= share <= 0.15


def test_member_ids_are_shaped_like_their_payers(practice: DemoPractice) -> None:
    births = {p.key: p.birth_date for p in practice.patients}
    for coverage in practice.coverages:
        assert births[coverage.patient_key] <= coverage.effective_from <= START
        if coverage.payer_name.startswith("Medicare"):
            assert MBI.fullmatch(coverage.member_id), coverage.member_id
        public = any(w in coverage.payer_name for w in ("Medicare", "Medica", "CHIP"))
        assert (coverage.group_number is None) == public
        assert coverage.relationship in {"self", "spouse", "child"}
    relationships = Counter(c.relationship for c in practice.coverages)
    assert relationships["self"] > relationships["spouse"] + relationships["child"]


def test_mbi_pattern_refuses_excluded_letters() -> None:
    # The pattern the tests rely on must itself be able to fail.
    assert MBI.fullmatch("1EG4TE5MK73")
    assert not MBI.fullmatch("1SG4TE5MK73")
    assert not MBI.fullmatch("0EG4TE5MK73")


# --- coding ---------------------------------------------------------------------


def test_established_em_mix_is_like_family_medicine(practice: DemoPractice) -> None:
    levels = Counter(
        line.procedure_code
        for claim in practice.claims
        for line in claim.lines
        if line.procedure_code in ESTABLISHED_EM
    )
    total = sum(levels.values())
    assert (levels["99213"] + levels["99214"]) / total > 0.60
    assert levels["99215"] / total < 0.15
    assert (levels["99211"] + levels["99212"]) / total < 0.20


def test_new_patient_codes_only_on_a_patients_first_encounter(practice: DemoPractice) -> None:
    claims = {c.encounter_key: c for c in practice.claims}
    by_patient = defaultdict(list)
    for encounter in practice.encounters:
        by_patient[encounter.patient_key].append(encounter)
    new_seen = 0
    for encounters in by_patient.values():
        encounters.sort(key=lambda e: e.date_of_service)
        assert len({e.date_of_service for e in encounters}) == len(encounters)
        for index, encounter in enumerate(encounters):
            codes = _codes(claims[encounter.key])
            new_codes = codes & (NEW_OFFICE_EM | NEW_PREVENTIVE)
            if new_codes:
                assert encounter.is_new_patient
            if encounter.is_new_patient:
                # Medicare's wellness visits have no new/established split.
                assert new_codes or codes & {"G0438", "G0439"}
                new_seen += 1
                assert index == 0
    assert 50 < new_seen < 300


def test_initial_wellness_visit_is_billed_at_most_once(practice: DemoPractice) -> None:
    patients = {c.patient_key for c in practice.claims if "G0438" in _codes(c)}
    initial = [c.patient_key for c in practice.claims if "G0438" in _codes(c)]
    assert patients
    assert len(initial) == len(patients)


def test_labs_and_vaccines_point_at_the_diagnoses_that_support_them(
    practice: DemoPractice,
) -> None:
    required = {"83036": {"E119"}, "84443": {"E039"}, "81002": {"N390"}}
    for claim in practice.claims:
        codes = _codes(claim)
        assert ("Z23" in claim.diagnoses) == bool(codes & VACCINE_PRODUCTS)
        assert ("36415" in codes) == bool(codes & BLOOD_TESTS)
        assert bool(codes & VACCINE_ADMIN) == bool(codes & VACCINE_PRODUCTS)
        for line in claim.lines:
            pointed = {claim.diagnoses[p - 1] for p in line.diagnosis_pointers}
            if line.procedure_code in required:
                assert pointed == required[line.procedure_code]
            if line.procedure_code in VACCINE_PRODUCTS | VACCINE_ADMIN:
                assert pointed == {"Z23"}
            if line.procedure_code == "80061":
                assert pointed <= {"E785", "Z0000", "Z0001"}


def test_preventive_visits_carry_a_general_exam_diagnosis(practice: DemoPractice) -> None:
    exams = {"Z0000", "Z0001", "Z00121", "Z00129"}
    preventive = [e.key for e in practice.encounters if e.visit_kind == "preventive"]
    claims = {c.encounter_key: c for c in practice.claims}
    assert len(preventive) > 100
    assert all(claims[key].diagnoses[0] in exams for key in preventive)


def test_modifier_25_marks_an_em_billed_with_a_same_day_procedure(
    practice: DemoPractice,
) -> None:
    with_25 = 0
    for claim in practice.claims:
        codes = _codes(claim)
        same_day = bool(codes & SAME_DAY_PROCEDURES) or any(
            code.startswith("993") or code in {"G0438", "G0439"} for code in codes
        )
        for line in claim.lines:
            if line.procedure_code in ESTABLISHED_EM | NEW_OFFICE_EM:
                assert ("25" in line.modifiers) == same_day
                with_25 += "25" in line.modifiers
            else:
                assert "25" not in line.modifiers
        assert not ({"96372", "99211"} <= codes)
    assert with_25 > 50


def test_telehealth_visits_use_telehealth_places_and_modifier_95(
    practice: DemoPractice,
) -> None:
    claims = {c.encounter_key: c for c in practice.claims}
    places = Counter(e.place_of_service for e in practice.encounters)
    assert places["11"] / len(practice.encounters) > 0.80
    assert places["02"] > 0
    assert places["10"] > 0
    for encounter in practice.encounters:
        remote = encounter.place_of_service in {"02", "10"}
        assert remote == (encounter.visit_kind == "telehealth")
        em = [line for line in claims[encounter.key].lines if "95" in line.modifiers]
        assert bool(em) == remote


def test_documentation_is_a_short_excerpt_naming_no_patient(practice: DemoPractice) -> None:
    names = {p.key: (p.given_name, p.family_name) for p in practice.patients}
    for encounter in practice.encounters:
        sentences = re.findall(r"[.!?](?:\s|$)", encounter.documentation)
        assert 1 <= len(sentences) <= 3, encounter.documentation
        assert not any(name in encounter.documentation for name in names[encounter.patient_key])


# --- arguments and speed -----------------------------------------------------------


@pytest.mark.parametrize(
    ("patients", "key", "start", "end"),
    [
        (10, "", START, END),
        (10, "has space", START, END),
        (-1, "demo", START, END),
        (10, "demo", END, START),
        # A Saturday and a Sunday: nowhere to put the one visit each needs.
        (10, "demo", date(2024, 6, 1), date(2024, 6, 2)),
    ],
)
def test_rejects_arguments_it_cannot_honour(
    patients: int, key: str, start: date, end: date
) -> None:
    with pytest.raises(ValidationFailed):
        generate_practice(seed=1, patients=patients, practice_key=key, start=start, end=end)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    patients=st.integers(min_value=1, max_value=25),
    start=st.dates(min_value=date(2022, 1, 1), max_value=date(2026, 12, 31)),
    days=st.integers(min_value=2, max_value=400),
)
def test_invariants_hold_for_any_seed_and_period(
    seed: int, patients: int, start: date, days: int
) -> None:
    end = start + timedelta(days=days)
    practice = generate_practice(
        seed=seed, patients=patients, practice_key="prop", start=start, end=end
    )
    assert len(practice.patients) == patients
    _assert_invariants(practice, start, end)
