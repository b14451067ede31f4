"""No claim- or day-level rule raises on any claim that can be built or shows the patient key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from claimbridge.integrity.context import EncounterLog, ScrubContext
from claimbridge.integrity.engine import scrub
from claimbridge.integrity.model import ProviderName, ScrubClaim, ScrubLine
from claimbridge.integrity.rules import codes, dates, duplicates, exclusions, provided
from claimbridge.integrity.tables.icd10cm import ICD10CMRelease
from claimbridge.integrity.tables.leie import load_leie
from tests.unit.formats.cms.samples import LEIE
from tests.unit.integrity.rule_samples import RENDERING

RULES = (*codes.RULES, *dates.RULES, *duplicates.RULES, *exclusions.RULES, *provided.RULES)
PATIENT_KEY = "pk-Zq9Wv"
TEXT = st.text(max_size=12)
DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31))

lines = st.builds(
    ScrubLine,
    number=st.integers(1, 50),
    code=st.one_of(TEXT, st.sampled_from(["90837", "97110", "99213", "0450"])),
    modifiers=st.lists(TEXT, max_size=4).map(tuple),
    units=st.decimals(min_value=Decimal(0), max_value=Decimal(500), places=2),
    service_date=DATES,
    diagnosis_pointers=st.lists(st.integers(-3, 15), max_size=6).map(tuple),
)
claims = st.builds(
    ScrubClaim,
    ref=st.text(min_size=1, max_size=8),
    patient=st.sampled_from([PATIENT_KEY, f"{PATIENT_KEY}-2"]),
    billing_npi=st.one_of(TEXT, st.just(RENDERING)),
    lines=st.lists(lines, min_size=1, max_size=6).map(tuple),
    rendering_npi=st.one_of(st.none(), TEXT, st.just("1598959389")),
    referring_npi=st.one_of(st.none(), TEXT),
    rendering_name=st.one_of(st.none(), st.builds(ProviderName, TEXT, TEXT)),
    diagnoses=st.lists(st.one_of(TEXT, st.just("E11.65")), max_size=6).map(tuple),
    frequency=st.sampled_from(["1", "7", "8", ""]),
    born=st.one_of(st.none(), DATES),
    died=st.one_of(st.none(), DATES),
    received=st.one_of(st.none(), DATES),
)
CONTEXT = ScrubContext(
    today=date(2026, 3, 10),
    exclusions=load_leie(*sorted(LEIE.glob("*.csv"))),
    diagnoses=ICD10CMRelease().load(),
    encounters=EncounterLog(since=date(2020, 1, 1), visits=frozenset()),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(claims, max_size=8))
def test_no_rule_raises_and_no_finding_shows_the_patient_key(batch: list[ScrubClaim]) -> None:
    report = scrub(batch, CONTEXT, RULES)
    assert report.rules_skipped == []
    for finding in report.findings:
        assert PATIENT_KEY not in finding.explanation + str(finding.to_json())
