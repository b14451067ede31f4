"""NCCI PTP pairs: column 2 lines blocked on a patient's day, by indicator, dates and modifiers."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

import pytest

from claimbridge.formats.cms import PtpEdit, write_ptp
from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.engine import ServiceDay, scrub
from claimbridge.integrity.model import Finding, ScrubClaim, ScrubLine, Severity
from claimbridge.integrity.rules.unbundling import RULES, PtpPairs
from claimbridge.integrity.tables.ncci import PtpIndex, load_ptp

NPI = "1234567893"
OTHER_NPI = "1245319599"
SERVED = date(2026, 3, 2)
TODAY = date(2026, 11, 27)
PATIENT = "patient-key-Qzxw"
RATIONALE = "Misuse of column two code with column one code"


def _edit(
    column1: str = "80053",
    column2: str = "82947",
    *,
    indicator: int = 0,
    effective: date = date(1996, 1, 1),
    deleted: date | None = None,
) -> PtpEdit:
    return PtpEdit(
        column1, column2, effective.year == 1996, effective, deleted, indicator, RATIONALE
    )


def _line(number: int, code: str, *modifiers: str, served: date = SERVED) -> ScrubLine:
    return ScrubLine(number, code, modifiers, Decimal(1), served)


def _claim(
    *lines: ScrubLine, ref: str = "claim 1", patient: str = PATIENT, npi: str = NPI
) -> ScrubClaim:
    return ScrubClaim(ref=ref, patient=patient, billing_npi=npi, lines=lines)


def _scrub(claims: Sequence[ScrubClaim], *edits: PtpEdit) -> list[Finding]:
    context = ScrubContext(today=TODAY, ptp=PtpIndex.from_edits(edits, label="ccipra-v321r0-f1"))
    return scrub(claims, context, RULES).findings


def _one(claims: Sequence[ScrubClaim], *edits: PtpEdit) -> Finding:
    findings = _scrub(claims, *edits)
    assert len(findings) == 1, findings
    return findings[0]


def test_indicator_0_blocks_the_column_2_line_and_explains_the_edit() -> None:
    finding = _one([_claim(_line(1, "80053"), _line(2, "82947"))], _edit())
    assert finding.rule == "ncci-ptp"
    assert finding.severity is Severity.BLOCK
    assert (finding.claim, finding.line, finding.codes) == ("claim 1", 2, ("80053", "82947"))
    assert finding.message.startswith(
        "CPT 80053 and 82947 on the same day: NCCI PTP pair effective 1996-01-01, "
        "modifier indicator 0: 82947 is not separately payable with 80053"
    )
    assert finding.remedy.startswith("Remove 82947 (line 2)")
    assert finding.provider == NPI
    facts = dict(finding.facts)
    assert facts["effective"] == "1996-01-01"
    assert facts["deleted"] == ""
    assert facts["modifier_indicator"] == "0"
    assert facts["table"] == "ccipra-v321r0-f1"
    assert facts["rationale"] == RATIONALE
    assert (facts["column1_claim"], facts["column1_line"]) == ("claim 1", "1")


def test_message_never_shows_the_patient_key() -> None:
    finding = _one([_claim(_line(1, "80053"), _line(2, "82947"))], _edit())
    assert PATIENT not in finding.explanation
    assert PATIENT not in str(finding.to_json())


@pytest.mark.parametrize("modifier", ["59", "XS", "25", "RT"])
def test_indicator_0_is_not_bypassed_by_any_modifier(modifier: str) -> None:
    claim = _claim(_line(1, "80053", modifier), _line(2, "82947", modifier))
    finding = _one([claim], _edit(indicator=0))
    assert f"not even the {modifier}" in finding.remedy


def test_indicator_1_without_a_modifier_blocks_and_names_the_modifiers_that_would_do() -> None:
    finding = _one([_claim(_line(1, "80053"), _line(2, "82947"))], _edit(indicator=1))
    assert "modifier indicator 1" in finding.message
    assert "without an NCCI-associated modifier" in finding.message
    assert "unless a distinct service is documented" in finding.remedy
    assert "59 or XS" in finding.remedy


@pytest.mark.parametrize(
    "modifier", ["59", "XE", "XP", "XS", "XU", "E1", "F9", "TA", "T5", "LC", "RI", "25", "79", "91"]
)
def test_indicator_1_is_bypassed_by_an_ncci_modifier_on_the_column_2_line(modifier: str) -> None:
    claim = _claim(_line(1, "80053"), _line(2, "82947", "QW", modifier))
    assert _scrub([claim], _edit(indicator=1)) == []


def test_a_modifier_written_in_lower_case_still_bypasses() -> None:
    claim = _claim(_line(1, "80053"), _line(2, "82947", "xs"))
    assert _scrub([claim], _edit(indicator=1)) == []


def test_indicator_1_is_bypassed_by_an_ncci_modifier_on_the_column_1_line() -> None:
    claim = _claim(_line(1, "80053", "XS"), _line(2, "82947"))
    assert _scrub([claim], _edit(indicator=1)) == []


@pytest.mark.parametrize("modifier", ["26", "TC", "76", "GA", "50"])
def test_indicator_1_is_not_bypassed_by_other_modifiers(modifier: str) -> None:
    claim = _claim(_line(1, "80053"), _line(2, "82947", modifier))
    assert len(_scrub([claim], _edit(indicator=1))) == 1


def test_the_same_anatomic_modifier_on_both_lines_is_the_same_site() -> None:
    same = _claim(_line(1, "80053", "RT"), _line(2, "82947", "RT"))
    finding = _one([same], _edit(indicator=1))
    assert "RT on both lines names the same site" in finding.remedy
    sides = _claim(_line(1, "80053", "LT"), _line(2, "82947", "RT"))
    assert _scrub([sides], _edit(indicator=1)) == []


def test_indicator_9_never_finds() -> None:
    claim = _claim(_line(1, "80053"), _line(2, "82947"))
    assert _scrub([claim], _edit(indicator=9, effective=date(2013, 1, 1))) == []


@pytest.mark.parametrize(
    ("served", "found"),
    [(date(2015, 3, 31), False), (date(2015, 4, 1), True), (date(2015, 4, 2), True)],
)
def test_an_edit_applies_from_its_effective_date(served: date, found: bool) -> None:
    claim = _claim(_line(1, "80053", served=served), _line(2, "82947", served=served))
    findings = _scrub([claim], _edit(effective=date(2015, 4, 1)))
    assert bool(findings) is found


@pytest.mark.parametrize(
    ("served", "found"),
    [(date(2019, 12, 31), True), (date(2020, 1, 1), False), (date(2020, 1, 2), False)],
)
def test_an_edit_stops_applying_on_its_deletion_date(served: date, found: bool) -> None:
    claim = _claim(_line(1, "80053", served=served), _line(2, "82947", served=served))
    edit = _edit(effective=date(2013, 1, 1), deleted=date(2020, 1, 1))
    findings = _scrub([claim], edit)
    assert bool(findings) is found
    if found:
        assert "effective 2013-01-01 until 2020-01-01" in findings[0].message
        assert dict(findings[0].facts)["deleted"] == "2020-01-01"


def test_a_retroactive_deletion_on_its_effective_date_never_applied() -> None:
    served = date(2009, 1, 1)
    claim = _claim(_line(1, "80053", served=served), _line(2, "82947", served=served))
    edit = _edit(indicator=0, effective=date(2009, 1, 1), deleted=date(2009, 1, 1))
    assert _scrub([claim], edit) == []


def test_a_pair_deleted_and_added_again_uses_the_row_in_force() -> None:
    rows = (
        _edit(indicator=0, effective=date(2010, 1, 1), deleted=date(2014, 1, 1)),
        _edit(indicator=1, effective=date(2018, 7, 1)),
    )

    def indicator_on(served: date) -> str | None:
        claim = _claim(_line(1, "80053", served=served), _line(2, "82947", served=served))
        findings = _scrub([claim], *rows)
        return dict(findings[0].facts)["modifier_indicator"] if findings else None

    assert indicator_on(date(2012, 5, 5)) == "0"
    assert indicator_on(date(2016, 5, 5)) is None
    assert indicator_on(date(2018, 7, 1)) == "1"


def test_edits_are_directional() -> None:
    claim = _claim(_line(1, "82947"), _line(2, "80053"))
    finding = _one([claim], _edit("80053", "82947"))
    assert (finding.line, finding.codes) == (1, ("80053", "82947"))


def test_both_directions_listed_give_a_finding_each() -> None:
    claim = _claim(_line(1, "80053"), _line(2, "82947"))
    findings = _scrub([claim], _edit("80053", "82947"), _edit("82947", "80053"))
    assert sorted((f.line, f.codes) for f in findings) == [
        (1, ("82947", "80053")),
        (2, ("80053", "82947")),
    ]


def test_hcpcs_codes_are_named_as_hcpcs() -> None:
    claim = _claim(_line(1, "G0102"), _line(2, "82947"))
    finding = _one([claim], _edit("G0102", "82947"))
    assert finding.message.startswith("HCPCS G0102 and 82947 on the same day")


def test_every_column_2_line_is_blocked() -> None:
    claim = _claim(_line(1, "80053"), _line(2, "82947"), _line(3, "82947"))
    assert [f.line for f in _scrub([claim], _edit())] == [2, 3]


def test_a_column_2_line_with_a_modifier_passes_while_its_twin_without_one_is_blocked() -> None:
    claim = _claim(_line(1, "80053"), _line(2, "82947", "59"), _line(3, "82947"))
    assert [f.line for f in _scrub([claim], _edit(indicator=1))] == [3]


def test_the_same_code_twice_is_no_ptp_matter() -> None:
    claim = _claim(_line(1, "82947"), _line(2, "82947"))
    assert _scrub([claim], _edit(), _edit("82947", "82947")) == []


def test_pairs_across_claims_of_the_same_day_are_edited() -> None:
    first = _claim(_line(1, "80053"), ref="claim 1")
    second = _claim(_line(1, "99213"), _line(2, "82947"), ref="claim 2")
    finding = _one([first, second], _edit())
    assert (finding.claim, finding.line) == ("claim 2", 2)
    assert "(line 1 of claim 1)" in finding.message
    assert dict(finding.facts)["column1_claim"] == "claim 1"


def test_a_stored_claim_id_is_named_as_a_claim() -> None:
    first = _claim(_line(1, "80053"), ref="c-81f2")
    second = _claim(_line(1, "82947"), ref="c-93aa")
    assert "(line 1 of claim c-81f2)" in _one([first, second], _edit()).message


@pytest.mark.parametrize(
    "other",
    [
        _claim(_line(1, "82947"), ref="claim 2", npi=OTHER_NPI),
        _claim(_line(1, "82947"), ref="claim 2", patient="patient-key-other"),
        _claim(_line(1, "82947", served=SERVED + timedelta(days=1)), ref="claim 2"),
    ],
    ids=["other provider", "other patient", "other date"],
)
def test_no_finding_across_providers_patients_or_dates(other: ScrubClaim) -> None:
    assert _scrub([_claim(_line(1, "80053")), other], _edit()) == []


def test_the_rendering_provider_is_the_one_that_counts() -> None:
    first = ScrubClaim("claim 1", PATIENT, NPI, (_line(1, "80053"),), rendering_npi=OTHER_NPI)
    second = ScrubClaim("claim 2", PATIENT, NPI, (_line(1, "82947"),))
    assert _scrub([first, second], _edit()) == []


def test_codes_without_an_edit_pass() -> None:
    claim = _claim(_line(1, "99213"), _line(2, "36415"), _line(3, "85025"))
    assert _scrub([claim], _edit()) == []


def test_the_rule_is_skipped_without_a_ptp_table() -> None:
    claim = _claim(_line(1, "80053"), _line(2, "82947"))
    report = scrub([claim], ScrubContext(today=TODAY), RULES)
    assert report.rules_skipped == ["ncci-ptp"]
    assert report.findings == []
    assert PtpPairs().check(ServiceDay(PATIENT, NPI, SERVED, ()), ScrubContext(today=TODAY)) == ()


def test_a_table_read_from_cms_layout_bytes_drives_the_rule() -> None:
    out = io.BytesIO()
    write_ptp([_edit(indicator=1, effective=date(2015, 4, 1))], out)
    table = load_ptp(out.getvalue(), label="ccipra-v321r0-f1")
    context = ScrubContext(today=TODAY, ptp=table)
    claim = _claim(_line(1, "80053"), _line(2, "82947"))
    findings = scrub([claim], context, RULES).findings
    assert [(f.line, dict(f.facts)["table"]) for f in findings] == [(2, "ccipra-v321r0-f1")]
    assert "effective 2015-04-01" in findings[0].message


class MemoryPtp:
    """A PTP table that is no ``PtpIndex``: the rule must ask it about every pair."""

    label = "memory"

    def __init__(self, *edits: PtpEdit) -> None:
        self.rows: dict[tuple[str, str], tuple[PtpEdit, ...]] = {}
        for edit in edits:
            key = (edit.column1, edit.column2)
            self.rows[key] = (*self.rows.get(key, ()), edit)
        self.asked: list[tuple[str, str]] = []

    def edits(self, column1: str, column2: str) -> tuple[PtpEdit, ...]:
        self.asked.append((column1, column2))
        return self.rows.get((column1, column2), ())


def test_any_ptp_table_gives_the_same_findings_as_the_index() -> None:
    claims = [
        _claim(_line(1, "80053"), _line(2, "82947"), _line(3, "36415", "59")),
        _claim(_line(1, "82947"), ref="claim 2"),
    ]
    edits = (_edit(), _edit("80053", "36415", indicator=1), _edit("36415", "82947", indicator=9))
    table = MemoryPtp(*edits)
    findings = scrub(claims, ScrubContext(today=TODAY, ptp=table), RULES).findings
    assert [(f.claim, f.line, f.codes) for f in findings] == [
        ("claim 1", 2, ("80053", "82947")),
        ("claim 2", 1, ("80053", "82947")),
    ]
    assert [f.message for f in findings] == [f.message for f in _scrub(claims, *edits)]
    assert len(table.asked) == 6  # every ordered pair of the three codes, once
