"""MUE: units per line (MAI 1) and per date of service across claims (MAI 2 and 3)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

import pytest

from claimbridge.formats.cms import MueEdit, write_mue
from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.engine import scrub
from claimbridge.integrity.model import Finding, ScrubClaim, ScrubLine, Severity
from claimbridge.integrity.rules.units import RULES
from claimbridge.integrity.tables.ncci import MueIndex, load_mue

NPI = "1234567893"
OTHER_NPI = "1245319599"
PATIENT = "patient-key-Qzxw"
SERVED = date(2026, 3, 2)
TODAY = date(2026, 11, 27)
LABEL = "MUE practitioner 2026 Q1"
LINE_EDIT = MueEdit("J1100", 3, 1, "Prescribing Information")
POLICY = MueEdit("69210", 1, 2, "Anatomic Consideration")
CLINICAL = MueEdit("97110", 4, 3, "Clinical: Data")
EDITS = (LINE_EDIT, POLICY, CLINICAL)


def _line(number: int, code: str, units: str = "1", *, served: date = SERVED) -> ScrubLine:
    return ScrubLine(number, code, (), Decimal(units), served)


def _claim(
    *lines: ScrubLine, ref: str = "claim 1", patient: str = PATIENT, npi: str = NPI
) -> ScrubClaim:
    return ScrubClaim(ref=ref, patient=patient, billing_npi=npi, lines=lines)


def _scrub(claims: Sequence[ScrubClaim], *edits: MueEdit) -> list[Finding]:
    table = MueIndex.from_edits(edits or EDITS, label=LABEL)
    return scrub(claims, ScrubContext(today=TODAY, mue=table), RULES).findings


def _one(claims: Sequence[ScrubClaim]) -> Finding:
    findings = _scrub(claims)
    assert len(findings) == 1, findings
    return findings[0]


def test_mai_1_blocks_a_line_over_the_edit_and_explains_it() -> None:
    finding = _one([_claim(_line(1, "99213"), _line(2, "J1100", "5"))])
    assert (finding.rule, finding.severity) == ("mue-line", Severity.BLOCK)
    assert (finding.claim, finding.line, finding.codes) == ("claim 1", 2, ("J1100",))
    assert finding.message == (
        "HCPCS J1100: 5 units on line 2, over the MUE of 3 "
        "(MAI 1, line edit: the units of one claim line) in MUE practitioner 2026 Q1."
    )
    assert finding.remedy.startswith("Bill at most 3 units of J1100 on the line")
    facts = dict(finding.facts)
    assert (facts["units"], facts["mue"], facts["mai"], facts["table"]) == ("5", "3", "1", LABEL)
    assert PATIENT not in finding.explanation


@pytest.mark.parametrize(("units", "found"), [("2", False), ("3", False), ("3.5", True)])
def test_mai_1_counts_units_beyond_the_value_only(units: str, found: bool) -> None:
    assert bool(_scrub([_claim(_line(1, "J1100", units))])) is found


def test_mai_1_judges_each_line_alone() -> None:
    claim = _claim(_line(1, "J1100", "3"), _line(2, "J1100", "3"))
    other = _claim(_line(1, "J1100", "2"), ref="claim 2")
    assert _scrub([claim, other]) == []


def test_mai_1_names_fractional_units_plainly() -> None:
    finding = _one([_claim(_line(1, "J1100", "4.50"))])
    assert "J1100: 4.5 units on line 1" in finding.message


def test_mai_2_sums_a_day_across_claims_and_blocks_the_line_that_goes_over() -> None:
    first = _claim(_line(1, "69210"), ref="claim 1")
    second = _claim(_line(1, "99213"), _line(2, "69210"), ref="claim 2")
    finding = _one([first, second])
    assert (finding.rule, finding.severity) == ("mue-day", Severity.BLOCK)
    assert (finding.claim, finding.line) == ("claim 2", 2)
    assert finding.message == (
        "CPT 69210: 2 units on one date of service (claim 1 line 1: 1; claim 2 line 2: 1), "
        "over the MUE of 1 (MAI 2, date of service edit, policy: an absolute limit) "
        "in MUE practitioner 2026 Q1."
    )
    assert "an appeal does not change that" in finding.remedy
    assert dict(finding.facts)["lines"] == "claim 1:1; claim 2:2"


def test_mai_2_blocks_a_single_line_over_the_edit() -> None:
    finding = _one([_claim(_line(1, "69210", "2"))])
    assert (finding.rule, finding.line) == ("mue-day", 1)


def test_mai_3_blocks_and_points_at_an_appeal_on_medical_necessity() -> None:
    claim = _claim(_line(1, "97110", "2"), _line(2, "97110", "2"), _line(3, "97110", "1"))
    finding = _one([claim])
    assert (finding.rule, finding.line) == ("mue-day", 3)
    assert "5 units on one date of service" in finding.message
    assert "MAI 3, date of service edit, clinical" in finding.message
    assert "documentation of that necessity" in finding.remedy
    assert "appeal" in finding.remedy


def test_the_finding_sits_on_the_line_that_pushes_the_total_over() -> None:
    claim = _claim(_line(1, "97110", "3"), _line(2, "97110", "2"), _line(3, "97110", "1"))
    finding = _one([claim])
    assert finding.line == 2
    assert dict(finding.facts)["units"] == "6"


@pytest.mark.parametrize("code", ["69210", "97110"])
def test_a_day_at_the_edit_passes(code: str) -> None:
    most = {"69210": 1, "97110": 4}[code]
    lines = [_line(n, code) for n in range(1, most + 1)]
    assert _scrub([_claim(*lines)]) == []


@pytest.mark.parametrize(
    "other",
    [
        _claim(_line(1, "69210"), ref="claim 2", npi=OTHER_NPI),
        _claim(_line(1, "69210"), ref="claim 2", patient="patient-key-other"),
        _claim(_line(1, "69210", served=SERVED + timedelta(days=1)), ref="claim 2"),
    ],
    ids=["other provider", "other patient", "other date"],
)
def test_units_of_other_providers_patients_or_dates_are_not_summed(other: ScrubClaim) -> None:
    assert _scrub([_claim(_line(1, "69210")), other]) == []


def test_line_and_day_edits_do_not_cross() -> None:
    # MAI 1 lines are not summed over the day; MAI 2 lines are not judged alone.
    day = _claim(_line(1, "J1100", "3"), _line(2, "J1100", "3"))
    assert [f.rule for f in _scrub([day])] == []
    per_line = _claim(_line(1, "69210", "2"))
    assert [f.rule for f in _scrub([per_line])] == ["mue-day"]


def test_codes_without_an_mue_pass() -> None:
    assert _scrub([_claim(_line(1, "99213", "40"), _line(2, "99213", "40"))]) == []


def test_both_rules_are_skipped_without_an_mue_table() -> None:
    report = scrub([_claim(_line(1, "J1100", "9"))], ScrubContext(today=TODAY), RULES)
    assert report.rules_skipped == ["mue-line", "mue-day"]
    assert report.findings == []


def test_a_table_read_from_the_cms_layout_drives_the_rules() -> None:
    out = io.BytesIO()
    write_mue(EDITS, out)
    table = load_mue(out.getvalue(), label=LABEL)
    claim = _claim(_line(1, "J1100", "4"), _line(2, "97110", "5"))
    findings = scrub([claim], ScrubContext(today=TODAY, mue=table), RULES).findings
    assert [(f.rule, f.line, dict(f.facts)["mai"]) for f in findings] == [
        ("mue-line", 1, "1"),
        ("mue-day", 2, "3"),
    ]
