"""Excluded providers: the LEIE index (tables/leie.py) and the ``oig-leie`` rule.

The real monthly supplements OIG published in 2015-2017 are loaded as
they are (``tests/vectors/conformance/cms/leie``); rows made here are
synthetic, their names and birth dates odd tokens a leak would show.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from claimbridge.formats.cms import read_leie
from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.model import Finding, ProviderName, ScrubClaim, Severity
from claimbridge.integrity.rules.exclusions import RULES, ExcludedProviders, exclusion_authority
from claimbridge.integrity.tables.leie import ExclusionIndex, load_leie, normalise_name
from tests.unit.formats.cms.samples import DOB, FIRST_NAME, LAST_NAME, LEIE, leie_file, leie_row
from tests.unit.integrity.rule_samples import (
    BILLING,
    REFERRING,
    RENDERING,
    TODAY,
    claim,
    line,
    valid_npi,
)

RULE = ExcludedProviders()
SAMPLES = sorted(LEIE.glob("*.csv"))
EXCLUSION_FILES = [path for path in SAMPLES if "EXCL" in path.name or "sanc" in path.name]
REINSTATEMENT_FILES = [path for path in SAMPLES if "REIN" in path.name or "rein" in path.name]
EXCLUDED = date(2016, 2, 18)
REINSTATED = date(2017, 2, 15)
LISTED = valid_npi("177777777")
ADDRESS = "12 TEST LANE"


def listing(**changes: str) -> bytes:
    """One synthetic LEIE row, NPI ``LISTED``, excluded ``EXCLUDED`` under 1128(b)(4)."""
    cells = {"NPI": LISTED, "EXCLDATE": EXCLUDED.strftime("%Y%m%d")} | changes
    return leie_file(leie_row(**cells))


def table(*files: bytes) -> ExclusionIndex:
    return load_leie(*files, label="LEIE test")


def findings(index: ExclusionIndex, *claims: ScrubClaim) -> list[Finding]:
    scrub_context = ScrubContext(today=TODAY, exclusions=index)
    return [found for each in claims for found in RULE.check(each, scrub_context)]


def on(served: date, **kwargs: Any) -> ScrubClaim:
    return claim(line(served=served), **kwargs)


# --- the real samples -------------------------------------------------------------


def test_the_six_oig_samples_load_together_with_every_row_counted() -> None:
    index = load_leie(*SAMPLES)
    assert index.rows == 1_118  # SOURCES.md: 129 + 51 + 484 + 29 + 348 + 77
    assert "1702EXCL.csv" in index.label and "sanc1511.csv" in index.label
    assert 0 < len(index) <= index.rows


@pytest.mark.parametrize("path", EXCLUSION_FILES, ids=lambda path: path.name)
def test_every_npi_of_an_oig_exclusion_file_is_caught_on_a_claim(path: Path) -> None:
    index = load_leie(*SAMPLES)
    rows = [row for row in read_leie(path.read_bytes()) if row.npi is not None]
    assert rows, "the sample files list real NPIs (SOURCES.md)"
    claims = [
        on(row.exclusion_date + timedelta(days=30), rendering=row.npi, ref=f"claim {n}")
        for n, row in enumerate(rows)
    ]
    found = findings(index, *claims)
    blocked = {f.claim for f in found if f.severity is Severity.BLOCK}
    assert blocked == {each.ref for each in claims}
    for row, each in zip(rows, claims, strict=True):
        # NPI 1235145335 is excluded in January 2016 and again in February 2017.
        messages = [f.message for f in found if f.claim == each.ref]
        assert all(message.startswith(f"Rendering NPI {row.npi} ") for message in messages)
        assert any(
            f"{exclusion_authority(row)}, excluded {row.exclusion_date.isoformat()}" in message
            for message in messages
        )


@pytest.mark.parametrize("path", REINSTATEMENT_FILES, ids=lambda path: path.name)
def test_a_reinstated_npi_is_caught_before_its_reinstatement_and_not_from_that_day(
    path: Path,
) -> None:
    index = load_leie(*SAMPLES)
    rows = [
        row
        for row in read_leie(path.read_bytes())
        if row.npi is not None
        # Rescinded rows, reinstated on their first day, are never in force.
        and row.reinstatement_date is not None
        and row.reinstatement_date > row.exclusion_date
    ]
    assert rows
    for row in rows:
        assert row.reinstatement_date is not None
        last_day = on(row.reinstatement_date - timedelta(days=1), rendering=row.npi)
        reinstated = on(row.reinstatement_date, rendering=row.npi)
        assert findings(index, last_day), row
        assert findings(index, reinstated) == [], row


def test_an_exclusion_reinstated_on_its_own_first_day_covers_no_date() -> None:
    # 1601REIN and 1702REIN hold such rows (an exclusion rescinded on its day).
    rescinded = [
        row
        for path in REINSTATEMENT_FILES
        for row in read_leie(path.read_bytes())
        if row.npi is not None and row.reinstatement_date == row.exclusion_date
    ]
    assert len(rescinded) >= 2
    index = load_leie(*SAMPLES)
    for row in rescinded:
        assert findings(index, on(row.exclusion_date, rendering=row.npi)) == []


def test_a_person_reinstated_in_2015_and_excluded_again_in_2016_is_excluded_again() -> None:
    # rein1511 reinstates a 2002 exclusion on 2015-11-03; 1601EXCL excludes the
    # same person (no NPI) from 2016-02-18. Found by their data, not their name.
    reinstated = [row for row in read_leie((LEIE / "rein1511.csv").read_bytes()) if not row.npi]
    excluded = {
        (normalise_name(row.last_name), normalise_name(row.first_name)): row
        for row in read_leie((LEIE / "1601EXCL.csv").read_bytes())
        if not row.npi and not row.is_entity
    }
    pairs = [
        (row, excluded[key])
        for row in reinstated
        if (key := (normalise_name(row.last_name), normalise_name(row.first_name))) in excluded
    ]
    assert len(pairs) == 1
    first, second = pairs[0]
    index = load_leie(*SAMPLES)
    listed = index.by_name(first.last_name, first.first_name)
    assert {(e.exclusion_date, e.reinstatement_date) for e in listed} == {
        (first.exclusion_date, first.reinstatement_date),
        (second.exclusion_date, None),
    }
    name = ProviderName(first.last_name, first.first_name)
    between = on(date(2015, 12, 1), rendering_name=name)
    assert findings(index, between) == []
    again = on(second.exclusion_date, rendering_name=name)
    (found,) = findings(index, again)
    assert found.severity is Severity.WARN
    assert second.exclusion_date.isoformat() in found.message


# --- merging files ----------------------------------------------------------------


def test_a_reinstatement_sets_the_date_of_the_exclusion_it_matches_in_either_order() -> None:
    excluded = listing()
    reinstated = listing(REINDATE=REINSTATED.strftime("%Y%m%d"))
    for files in ((excluded, reinstated), (reinstated, excluded)):
        index = table(*files)
        (only,) = index.by_npi(LISTED)
        assert only.reinstatement_date == REINSTATED
        assert len(index) == 1 and index.rows == 2


def test_a_reinstatement_matches_across_birth_date_forms_and_padded_types() -> None:
    # The 2016 supplement writes MM/DD/YY and a padded type; a 2017 one YYYYMMDD.
    excluded = listing(DOB="07/13/61", EXCLTYPE="1128b4   ")
    reinstated = listing(DOB="19610713", EXCLTYPE="1128b4", REINDATE="20170215")
    (only,) = table(excluded, reinstated).by_npi(LISTED)
    assert only.reinstatement_date == REINSTATED


def test_a_reinstatement_of_another_exclusion_date_leaves_the_later_exclusion_in_force() -> None:
    older = listing(EXCLDATE="20020320", REINDATE="20151103")
    index = table(older, listing())
    assert {(e.exclusion_date, e.reinstatement_date) for e in index.by_npi(LISTED)} == {
        (date(2002, 3, 20), date(2015, 11, 3)),
        (EXCLUDED, None),
    }
    assert findings(index, on(date(2015, 12, 1), rendering=LISTED)) == []
    assert findings(index, on(EXCLUDED, rendering=LISTED))


def test_a_reinstatement_with_no_exclusion_row_still_covers_its_excluded_years() -> None:
    index = table(listing(REINDATE="20170215"))
    assert findings(index, on(date(2016, 6, 1), rendering=LISTED))
    assert findings(index, on(REINSTATED, rendering=LISTED)) == []


def test_the_same_exclusion_in_two_files_is_kept_once() -> None:
    index = table(listing(), listing(ADDRESS="9 OTHER ROAD"))
    assert len(index.by_npi(LISTED)) == 1
    assert len(findings(index, on(EXCLUDED, rendering=LISTED))) == 1


def test_two_reinstatement_dates_for_one_exclusion_keep_the_later() -> None:
    index = table(listing(REINDATE="20170215"), listing(REINDATE="20170101"), listing())
    (only,) = index.by_npi(LISTED)
    assert only.reinstatement_date == REINSTATED


def test_another_person_with_the_same_npi_cell_but_another_birth_is_another_exclusion() -> None:
    index = table(listing(), listing(DOB="01/01/70", REINDATE="20170215"))
    assert len(index.by_npi(LISTED)) == 2
    assert findings(index, on(REINSTATED, rendering=LISTED))  # the first still in force


def test_an_empty_load_is_an_empty_list() -> None:
    index = load_leie()
    assert len(index) == 0 and index.by_npi(LISTED) == ()


# --- names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "given"),
    [
        (LAST_NAME, FIRST_NAME),
        (LAST_NAME.lower(), FIRST_NAME.upper()),
        (" q-zxwell by.", "VAN TORIX"),
    ],
)
def test_by_name_ignores_case_spaces_and_punctuation(family: str, given: str) -> None:
    index = table(listing(NPI="0000000000"))
    assert len(index.by_name(family, given)) == 1


def test_by_name_folds_accents_and_apostrophes() -> None:
    assert normalise_name("O'Brién ") == normalise_name("OBRIEN") == "OBRIEN"


def test_by_name_holds_only_individuals_listed_without_an_npi() -> None:
    with_npi = table(listing())
    entity = table(listing(NPI="0000000000", LASTNAME="", FIRSTNAME="", BUSNAME="QZX CLINIC"))
    assert with_npi.by_name(LAST_NAME, FIRST_NAME) == ()
    assert entity.by_name("", "") == ()
    assert table(listing(NPI="0000000000")).by_name(LAST_NAME, "Other") == ()


# --- the rule: dates and roles ------------------------------------------------------


@pytest.mark.parametrize(
    ("served", "caught"),
    [
        (EXCLUDED - timedelta(days=1), False),
        (EXCLUDED, True),
        (REINSTATED - timedelta(days=1), True),
        (REINSTATED, False),
        (REINSTATED + timedelta(days=400), False),
    ],
)
def test_an_exclusion_is_in_force_from_its_first_day_until_reinstatement(
    served: date, caught: bool
) -> None:
    index = table(listing(REINDATE=REINSTATED.strftime("%Y%m%d")))
    assert bool(findings(index, on(served, rendering=LISTED))) is caught


@pytest.mark.parametrize(
    ("role", "kwargs"),
    [
        ("Billing", {"billing": LISTED}),
        ("Rendering", {"rendering": LISTED}),
        ("Referring", {"referring": LISTED}),
    ],
)
def test_each_role_is_screened_and_named(role: str, kwargs: dict[str, str]) -> None:
    (found,) = findings(table(listing()), on(EXCLUDED, **kwargs))
    assert found.severity is Severity.BLOCK
    assert found.rule == "oig-leie"
    assert found.provider == LISTED
    assert found.message.startswith(f"{role} NPI {LISTED} is on the OIG exclusion list")
    assert "1128(b)(4)" in found.message
    assert f"excluded {EXCLUDED.isoformat()}, not reinstated" in found.message
    assert "Medicare pays nothing" in found.message
    assert "Remove these services" in found.remedy


def test_a_solo_practitioner_billing_and_rendering_gets_one_finding_naming_both() -> None:
    (found,) = findings(table(listing()), on(EXCLUDED, billing=LISTED, rendering=LISTED))
    assert found.message.startswith(f"Billing and rendering NPI {LISTED}")


def test_only_the_lines_dated_within_the_exclusion_are_named() -> None:
    index = table(listing())
    before = line(1, served=EXCLUDED - timedelta(days=2))
    after = line(2, served=EXCLUDED + timedelta(days=1))
    (found,) = findings(index, claim(before, after, rendering=LISTED))
    assert "line 2 (dated 2016-02-19)" in found.message
    assert dict(found.facts)["lines"] == "2"


def test_the_message_names_the_reinstatement_and_never_the_address_or_birth_date() -> None:
    index = table(listing(REINDATE="20170215"))
    (found,) = findings(index, on(REINSTATED - timedelta(days=1), rendering=LISTED))
    text = found.explanation + str(found.to_json())
    assert "reinstated 2017-02-15" in found.message
    for private in (ADDRESS, DOB, "1961", LAST_NAME, FIRST_NAME):
        assert private not in text


def test_clean_providers_get_no_finding() -> None:
    index = load_leie(*SAMPLES)
    assert findings(index, claim(billing=BILLING, rendering=RENDERING, referring=REFERRING)) == []


def test_the_rule_waits_for_a_list() -> None:
    assert not RULE.ready(ScrubContext(today=TODAY))
    assert RULE.ready(ScrubContext(today=TODAY, exclusions=table(listing())))
    assert list(RULE.check(claim(), ScrubContext(today=TODAY))) == []
    assert [rule.id for rule in RULES] == ["oig-leie"]


# --- waivers ----------------------------------------------------------------------


def test_a_waiver_warns_and_names_the_waiver() -> None:
    index = table(listing(WAIVERDATE="20160301", WVRSTATE="OK"))
    (found,) = findings(index, on(date(2016, 3, 1), rendering=LISTED))
    assert found.severity is Severity.WARN
    assert "an OIG waiver dated 2016-03-01 for OK" in found.message
    assert "an OIG waiver dated 2016-03-01 for OK" in found.remedy


def test_a_waiver_does_not_reach_back_before_its_date() -> None:
    index = table(listing(WAIVERDATE="20160301", WVRSTATE="OK"))
    early, late = line(1, served=date(2016, 2, 29)), line(2, served=date(2016, 3, 2))
    found = findings(index, claim(early, late, rendering=LISTED))
    assert [(f.severity, dict(f.facts)["lines"]) for f in found] == [
        (Severity.BLOCK, "1"),
        (Severity.WARN, "2"),
    ]


def test_a_waiver_with_a_state_only_warns_on_every_date() -> None:
    index = table(listing(WVRSTATE="TX"))
    (found,) = findings(index, on(EXCLUDED, rendering=LISTED))
    assert found.severity is Severity.WARN and "an OIG waiver for TX" in found.message


# --- possible matches by name --------------------------------------------------------


def test_a_rendering_name_matching_a_person_listed_without_npi_is_a_possible_match() -> None:
    index = table(listing(NPI="0000000000"))
    name = ProviderName(LAST_NAME.upper(), FIRST_NAME.lower())
    (found,) = findings(index, on(EXCLUDED, rendering_name=name))
    assert found.severity is Severity.WARN
    assert "possible match" in found.message and "names are not unique" in found.message
    assert "1128(b)(4), excluded 2016-02-18" in found.message
    assert "https://exclusions.oig.hhs.gov" in found.remedy and "birth date" in found.remedy
    text = found.explanation + str(found.to_json())
    for private in (DOB, "1961", LAST_NAME, FIRST_NAME, ADDRESS):
        assert private not in text


def test_a_name_match_outside_the_exclusion_dates_is_no_finding() -> None:
    index = table(listing(NPI="0000000000", REINDATE="20170215"))
    name = ProviderName(LAST_NAME, FIRST_NAME)
    assert findings(index, on(REINSTATED, rendering_name=name)) == []
    assert findings(index, on(EXCLUDED - timedelta(days=1), rendering_name=name)) == []


def test_a_name_listed_with_an_npi_is_matched_by_npi_only() -> None:
    index = table(listing())
    assert findings(index, on(EXCLUDED, rendering_name=ProviderName(LAST_NAME, FIRST_NAME))) == []


def test_exclusion_authorities_are_cited_as_the_statute_writes_them() -> None:
    row = next(iter(read_leie(listing())))
    cases = {"1128a1": "1128(a)(1)", "1128b14": "1128(b)(14)", "1156": "1156"}
    for code, cited in cases.items():
        assert exclusion_authority(replace(row, exclusion_type=code)) == cited
    breach = replace(row, exclusion_type="BRCH CIA")
    assert "Corporate Integrity Agreement" in exclusion_authority(breach)
