"""Every 837 file of the conformance collection, with the outcome we expect of it.

``tests/vectors/conformance/SOURCES.md`` (a copy of ../shared/conformance) says where each
file comes from and what its source asserts. The table below is file -> (guide read as, claims read,
outcome of each transaction set as 999 IK501 codes, the first error our reader
reports as (error, segment id) or ``None``, whether the guide is an errata).
Envelope notes we do not list (SE01 counts, ST03/GS08 disagreement) come from
the envelope checks and are tested with them.

Where our outcome differs from what a source expects, the reason is beside
the file in ``DIFFERENCES``: every one is a defect in the file that the
source's lenient parser passes over and that 005010X222A1/X223A2 refuse.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from claimbridge.formats.x12.errors import GuideErrata, SegmentCountMismatch, X12Error
from claimbridge.formats.x12.x837i import InstitutionalClaim, read_837i
from claimbridge.formats.x12.x837p import ProfessionalClaim, read_837p
from claimbridge.types import Money, ServicePeriod
from tests.unit.formats.x12.samples import CONFORMANCE

Verdict = tuple[str, str] | None

TABLE: list[tuple[str, str, int | None, str, Verdict, bool]] = [
    ("badx12/edi/X222-COB-claim-from-billing-provider-to-payer-a.edi", "P", 1, "A", None, False),
    ("badx12/edi/X222-COB-claim-from-billing-provider-to-payer-b.edi", "P", 1, "A", None, False),
    (
        "badx12/edi/X222-COB-claim-from-payer-a-to-payer-b-in-payer-to-payer.edi",
        "P",
        1,
        "A",
        None,
        False,
    ),
    ("badx12/edi/X222-ambulance.edi", "P", 1, "A", None, False),
    ("badx12/edi/X222-anesthesia.edi", "P", 1, "A", None, False),
    ("badx12/edi/X222-chiropractic.edi", "P", 1, "A", None, False),
    ("badx12/edi/X222-commercial-health-insurance.edi", "P", 1, "A", None, False),
    ("badx12/edi/X222-drug-administered-in-the-physician-office.edi", "P", 1, "A", None, False),
    ("badx12/edi/X222-encounter.edi", "P", 1, "A", None, False),
    (
        "badx12/edi/X222-home-infusion-therapy-pharmacy-(adjudicated-with-HCPCS-in-loop-2400-or-NDC-in-loop-2410).edi",
        "P",
        1,
        "A",
        None,
        False,
    ),
    (
        "badx12/edi/X222-home-infusion-therapy-pharmacy-(adjudicated-with-NDC-in-loop-2410).edi",
        "P",
        1,
        "A",
        None,
        False,
    ),
    ("badx12/edi/X222-medicare-secondary-payer-COB.edi", "P", 1, "A", None, False),
    ("badx12/edi/X222-out-of-network-repriced-claim.edi", "P", 1, "A", None, False),
    ("badx12/edi/X222-oxygen.edi", "P", 1, "A", None, False),
    ("badx12/edi/X222-ppo-repriced-claim.edi", "P", 1, "A", None, False),
    ("badx12/edi/X222-wheelchair.edi", "P", 1, "A", None, False),
    (
        "imsweb-x12-parser/837_5010/x12_ambiguous_loop.txt",
        "P",
        1,
        "R",
        ("ElementInvalid", "SV1"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_bad_first_line.txt",
        "P",
        None,
        "",
        ("ISAMalformed", "ISA"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_bad_segment_identifier.txt",
        "P",
        0,
        "R",
        ("UnrecognizedSegment", "?"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_bad_valid_code.txt",
        "P",
        0,
        "R",
        ("ElementInvalid", "NM1"),
        False,
    ),
    ("imsweb-x12-parser/837_5010/x12_complex.txt", "P", 0, "RR", ("ElementMissing", "HI"), False),
    (
        "imsweb-x12-parser/837_5010/x12_loop_errors1_exceeds_max_1_parent.txt",
        "P",
        0,
        "R",
        ("UnexpectedSegment", "NM1"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_loop_errors2_exceeds_max_repeats_multiple_parents.txt",
        "P",
        1,
        "R",
        ("ElementMissing", "HI"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_loop_errors3_missing_loops.txt",
        "P",
        0,
        "R",
        ("MissingSegment", "HL"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_many_claims.txt",
        "P",
        1,
        "R",
        ("ElementMissing", "HI"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_missing_elements.txt",
        "P",
        0,
        "R",
        ("ElementMissing", "NM1"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_missing_required_loop_in_one_repeat.txt",
        "P",
        0,
        "R",
        ("HierarchyInvalid", "HL"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_missing_required_loops_mult_repeats.txt",
        "P",
        1,
        "R",
        ("ElementMissing", "HI"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_multiple_gs.txt",
        "P",
        3,
        "RRR",
        ("ElementMissing", "HI"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_multiple_isa.txt",
        "P",
        2,
        "RR",
        ("ElementMissing", "HI"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_multiple_st.txt",
        "P",
        2,
        "RR",
        ("ElementMissing", "HI"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_multiple_transactions.txt",
        "P",
        312,
        "R" * 312,
        ("ElementMissing", "HI"),
        False,
    ),
    ("imsweb-x12-parser/837_5010/x12_no_errors.txt", "P", 1, "R", ("ElementMissing", "HI"), False),
    ("imsweb-x12-parser/837_5010/x12_no_isa_line.txt", "P", None, "", ("NotX12", ""), False),
    (
        "imsweb-x12-parser/837_5010/x12_segment_errors.txt",
        "P",
        0,
        "R",
        ("UnexpectedSegment", "REF"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_segments_out_of_order.txt",
        "P",
        0,
        "R",
        ("UnexpectedSegment", "N3"),
        False,
    ),
    ("imsweb-x12-parser/837_5010/x12_valid.txt", "P", 1, "R", ("ElementMissing", "HI"), False),
    (
        "imsweb-x12-parser/837_5010/x12_valid_different_separators.txt",
        "P",
        1,
        "R",
        ("ElementMissing", "HI"),
        False,
    ),
    (
        "imsweb-x12-parser/837_5010/x12_writer_test.txt",
        "P",
        1,
        "R",
        ("ElementInvalid", "SV1"),
        False,
    ),
    ("imsweb-x12-parser/837_5010/x223-test.txt", "I", 1, "R", ("BalanceMismatch", "CLM"), False),
    ("linuxforhealth-x12/837_005010X222A2/demo.ambulance.example5.837", "P", 1, "E", None, True),
    ("linuxforhealth-x12/837_005010X222A2/demo.autoaccident.837", "P", 1, "E", None, True),
    (
        "linuxforhealth-x12/837_005010X222A2/demo.cob.2ndary.example4.837",
        "P",
        0,
        "R",
        ("ElementMissing", "HI"),
        True,
    ),
    (
        "linuxforhealth-x12/837_005010X222A2/demo.cob.example3.A.837",
        "P",
        0,
        "R",
        ("MissingSegment", "SE"),
        True,
    ),
    ("linuxforhealth-x12/837_005010X222A2/demo.cob.example3.B.837", "P", 1, "E", None, True),
    ("linuxforhealth-x12/837_005010X222A2/demo.cob.example3.C.837", "P", 1, "E", None, True),
    (
        "linuxforhealth-x12/837_005010X222A2/demo.cob.example4.837",
        "P",
        1,
        "E",
        ("ElementInvalid", "AMT"),
        True,
    ),
    ("linuxforhealth-x12/837_005010X222A2/demo.drug.example10.1.837", "P", 1, "E", None, True),
    ("linuxforhealth-x12/837_005010X222A2/demo.drug.example10.2.837", "P", 1, "E", None, True),
    ("linuxforhealth-x12/837_005010X222A2/demo.drug.example10.3.837", "P", 1, "E", None, True),
    ("linuxforhealth-x12/837_005010X222A2/demo.example1.837", "P", 1, "E", None, True),
    (
        "linuxforhealth-x12/837_005010X222A2/demo.example11.837",
        "P",
        0,
        "R",
        ("ElementMissing", "HI"),
        True,
    ),
    (
        "linuxforhealth-x12/837_005010X222A2/demo.example12.837",
        "P",
        0,
        "R",
        ("ElementMissing", "HI"),
        True,
    ),
    ("linuxforhealth-x12/837_005010X222A2/demo.example2.837", "P", 1, "E", None, True),
    (
        "linuxforhealth-x12/837_005010X222A2/demo.example6.837",
        "P",
        0,
        "R",
        ("ElementMissing", "HI"),
        True,
    ),
    ("linuxforhealth-x12/837_005010X222A2/demo.example7.837", "P", 1, "E", None, True),
    ("linuxforhealth-x12/837_005010X222A2/demo.example8.837", "P", 1, "E", None, True),
    (
        "linuxforhealth-x12/837_005010X222A2/demo.example9.837",
        "P",
        0,
        "R",
        ("ElementMissing", "HI"),
        True,
    ),
    ("linuxforhealth-x12/837_005010X223A3/institutional-claim.837i", "I", 1, "E", None, True),
    (
        "linuxforhealth-x12/837_005010X223A3/out-of-network-repriced-claim.837i",
        "I",
        1,
        "R",
        ("ElementMissing", "HI"),
        True,
    ),
    (
        "linuxforhealth-x12/837_005010X223A3/ppo-repriced-claim.837i",
        "I",
        1,
        "R",
        ("ElementMissing", "HI"),
        True,
    ),
    (
        "linuxforhealth-x12/837_005010X223A3/two-claims-single-provider.837i",
        "I",
        2,
        "E",
        None,
        True,
    ),
    ("linuxforhealth-x12/demo-file/demo.837", "P", 1, "E", None, True),
    ("linuxforhealth-x12/demo-file/demo.837i", "I", 1, "E", None, True),
    (
        "oopfactory-x12-cybernescens/INS/_837I/_5010/Spec_3.1.1.txt",
        "I",
        1,
        "R",
        ("ElementMissing", "HI"),
        True,
    ),
    (
        "oopfactory-x12-cybernescens/INS/_837I/_5010/Spec_3.1.2_TwoClaimsForTheSameProvider.txt",
        "I",
        2,
        "E",
        None,
        True,
    ),
    (
        "oopfactory-x12-cybernescens/INS/_837I/_5010/Spec_3.1.3_PPORepricedClaim.txt",
        "I",
        1,
        "R",
        ("ElementMissing", "HI"),
        True,
    ),
    (
        "oopfactory-x12-cybernescens/INS/_837I/_5010/Spec_3.1.4_OutOfNetworkRepricedClaim.txt",
        "I",
        1,
        "R",
        ("ElementMissing", "HI"),
        True,
    ),
    ("oopfactory-x12-cybernescens/INS/_837P/_5010/01.HealthInsurance.x12", "P", 1, "E", None, True),
    ("oopfactory-x12-cybernescens/INS/_837P/_5010/02.Encounter.x12", "P", 1, "E", None, True),
    ("oopfactory-x12-cybernescens/INS/_837P/_5010/03.Cob.x12", "P", 1, "E", None, True),
    (
        "oopfactory-x12-cybernescens/INS/_837P/_5010/04.Medicare.x12",
        "P",
        5,
        "R",
        ("ElementMissing", "SV1"),
        False,
    ),
    ("oopfactory-x12-cybernescens/INS/_837P/_5010/05.MultipleClaims.x12", "P", 3, "EE", None, True),
    (
        "oopfactory-x12-cybernescens/INS/_837P/_5010/06.MissingEntityCode.x12",
        "P",
        0,
        "R",
        ("ElementMissing", "NM1"),
        False,
    ),
    ("oopfactory-x12-cybernescens/INS/_837P/_5010/07.St1309.x12", "P", 1, "A", None, False),
    (
        "oopfactory-x12-cybernescens/INS/_837P/_5010/08.Unicode.x12",
        "P",
        None,
        "",
        ("EncodingUnsupported", ""),
        False,
    ),
    (
        "oopfactory-x12-inteligenz/Claims/TestData/InstitutionalClaim5010.txt",
        "I",
        1,
        "R",
        None,
        True,
    ),
    (
        "oopfactory-x12-inteligenz/Claims/TestData/ProfessionalClaim1.txt",
        "P",
        1,
        "R",
        ("ElementInvalid", "SV1"),
        True,
    ),
    (
        "staedi/x12/issue229/837-header-ref-only.edi",
        "P",
        0,
        "R",
        ("UnexpectedSegment", "REF"),
        False,
    ),
    ("staedi/x12/sample837-HL-nested.edi", "P", 0, "RR", ("ElementMissing", "HL"), True),
    ("staedi/x12/sample837-original.edi", "P", 1, "E", None, True),
    ("staedi/x12/sample837-small.edi", "P", 0, "RR", ("MissingSegment", "SE"), True),
]

DIFFERENCES = {
    "imsweb-x12-parser/837_5010/x12_many_claims.txt": "HL ids repeat (HL*2*3 names a parent "
    "that does not exist); the first claim is read, the set is refused at the second HL 2. "
    "Source reads 820 claims. Also HI*BK*8901 puts the code in its own element.",
    "imsweb-x12-parser/837_5010/x12_multiple_transactions.txt": "same HL defect: one claim "
    "of two read in each of the 312 sets (source: 624 claims).",
    "linuxforhealth-x12/837_005010X222A2/demo.example6.837": "ISA16 is ':' but HI and SV1 "
    "use '>' (HI*BK>7215): no code can be read; source only re-emits the text.",
    "linuxforhealth-x12/837_005010X222A2/demo.cob.example3.A.837": "the other-payer loop "
    "(2320) has no payer name (2330B, NM1*PR), which the guide requires.",
    "oopfactory-x12-cybernescens/INS/_837P/_5010/06.MissingEntityCode.x12": "NM101 is empty, "
    "so the loop cannot be identified; the source only re-emits the text.",
    "oopfactory-x12-cybernescens/INS/_837I/_5010/Spec_3.1.1.txt": "ISA16 and ISA11 are both "
    "'^' while HI uses ':'; the HI codes cannot be read (claim read, set rejected).",
}


def _read(relative: str, guide: str) -> tuple[list[object], list[str], list[X12Error]]:
    data = (CONFORMANCE / relative).read_bytes()
    reading = read_837i(data) if guide == "I" else read_837p(data)
    claims: list[object] = list(reading)
    outcomes = [result.outcome.value for result in reading.results]
    errors = [error for result in reading.results for error in result.errors]
    return claims, outcomes, errors


def _verdict(errors: list[X12Error]) -> Verdict:
    for error in errors:
        if isinstance(error, GuideErrata | SegmentCountMismatch) or "ST03" in error.message:
            continue
        assert error.position is not None
        return type(error).__name__, error.position.segment_id
    return None


def test_differences_name_files_of_the_table() -> None:
    assert set(DIFFERENCES) <= {row[0] for row in TABLE}


def test_table_covers_every_837_file() -> None:
    found = {
        str(path.relative_to(CONFORMANCE))
        for path in CONFORMANCE.rglob("*")
        if path.is_file() and path.suffix != ".md" and _is_837(path)
    }
    assert found == {row[0] for row in TABLE}


def _is_837(path: Path) -> bool:
    data = path.read_bytes()
    if data[:2] == b"\xff\xfe" or data[1:2] == b"\x00":
        return b"8\x003\x007" in data
    return any(f"ST{sep}837".encode() in data for sep in "*~|^")


Row = tuple[str, str, int | None, str, Verdict, bool]


@pytest.mark.parametrize("row", TABLE, ids=[row[0] for row in TABLE])
def test_conformance_file_outcome(row: Row) -> None:
    relative, guide, claims, outcomes, verdict, errata = row
    if claims is None:
        # The interchange itself cannot be read: the error is raised, naming where.
        with pytest.raises(X12Error) as raised:
            _read(relative, guide)
        assert verdict is not None
        assert type(raised.value).__name__ == verdict[0]
        return
    read, seen, errors = _read(relative, guide)
    assert len(read) == claims
    assert "".join(seen) == outcomes
    assert _verdict(errors) == verdict
    assert any(isinstance(error, GuideErrata) for error in errors) == errata


def _one(relative: str, guide: str) -> object:
    (claim,) = _read(relative, guide)[0]
    return claim


def test_institutional_claim_values_match_the_source() -> None:
    claim = _one("oopfactory-x12-inteligenz/Claims/TestData/InstitutionalClaim5010.txt", "I")
    assert isinstance(claim, InstitutionalClaim)
    billing = claim.billing_provider.provider
    assert billing.name == "JONES HOSPITAL" and billing.tax_id == "567891234"
    assert billing.address is not None
    assert (billing.address.street, billing.address.city, billing.address.state) == (
        "225 MAIN STREET BARKLEY BUILDING",
        "CENTERVILLE",
        "PA",
    )
    assert claim.claim_id == "756048Q"
    assert claim.medical_record_number == "TEST MEDICAL RECORD NUMBER"
    assert claim.type_of_bill == "141"
    assert claim.statement_period == ServicePeriod.on(date(1996, 9, 11))
    assert claim.dates[1].time == time(14, 2)
    patient = claim.subscriber.person
    assert (patient.name, patient.first_name, patient.identifier) == ("DOE", "JOHN", "030005074A")
    assert (patient.birth_date, patient.gender) == (date(1926, 11, 11), "M")
    assert len(claim.condition_codes) == 14
    assert len(claim.occurrences) == 8 and len(claim.occurrence_spans) == 4
    values = claim.value_codes
    assert len(values) == 14
    assert (values[0].code, values[0].amount) == ("A2", Decimal("15.31"))
    assert (values[-1].code, values[-1].amount) == ("N2", Decimal("28.31"))
    assert claim.principal_diagnosis is not None and claim.principal_diagnosis.code == "3669"
    principal = claim.principal_procedure
    assert principal is not None and principal.code == "0B110F5"
    assert principal.period == ServicePeriod.on(date(2005, 3, 21))
    assert len(claim.other_procedures) == 2
    first, second = claim.lines
    assert (first.revenue_code, first.procedure, first.charge, first.units) == (
        "0305",
        "85025",
        Money(1339),
        Decimal(1),
    )
    assert (second.revenue_code, second.procedure, second.modifiers) == (
        "0730",
        "93005",
        ("AA", "BB", "CC", "DD"),
    )
    assert (second.description, second.charge, second.units, second.non_covered) == (
        "Test Procedure",
        Money(7654),
        Decimal(3),
        Money(1115),
    )
    assert second.notes[0].topic == "TPO"
    (operating,) = second.providers
    assert (operating.name, operating.first_name, operating.identifier, operating.taxonomy) == (
        "JONES",
        "JOHN",
        "B99937",
        "363LP0200N",
    )
    attending = claim.attending_provider
    assert attending is not None and attending.references[0].value == "B99937A"
    roles = [(party.role, party.first_name) for party in claim.providers]
    assert roles[1:] == [("operating_provider", "JANE"), ("other_operating_provider", "JOE")]
    assert (claim.payer.identifier, claim.payer.references[0].value) == ("00435", "330127")


def test_professional_claim_values_match_the_source() -> None:
    claim = _one("oopfactory-x12-inteligenz/Claims/TestData/ProfessionalClaim1.txt", "P")
    assert isinstance(claim, ProfessionalClaim)
    assert claim.patient is not None
    person = claim.patient.person
    assert (person.name, person.first_name, person.gender) == ("SMITH", "TED", "M")
    assert [line.procedure for line in claim.lines[:4]] == ["99213", "87070", "99214", "86663"]


def test_institutional_other_payers_match_the_source() -> None:
    claim = _one("imsweb-x12-parser/837_5010/x223-test.txt", "I")
    assert isinstance(claim, InstitutionalClaim)
    assert claim.subscriber.group_number == "SUBSCRIBER GROUP"
    others = [(o.responsibility, o.subscriber.first_name, o.payer.name) for o in claim.other_payers]
    assert others == [("S", "JOHN", "AETNA"), ("T", "JANE", "ANOTHER NAME")]


def test_different_separators_read_the_same_claims() -> None:
    plain = _read("imsweb-x12-parser/837_5010/x12_valid.txt", "P")[0]
    other = _read("imsweb-x12-parser/837_5010/x12_valid_different_separators.txt", "P")[0]
    assert plain == other and plain


def test_ndc_of_the_newline_terminated_sample_is_read() -> None:
    claim = _one("staedi/x12/sample837-original.edi", "P")
    assert isinstance(claim, ProfessionalClaim)
    drugs = [line.drug for line in claim.lines if line.drug is not None]
    assert drugs and drugs[0].ndc


def test_cob_payer_b_adjudication_of_payer_a_is_read() -> None:
    claim = _one("badx12/edi/X222-COB-claim-from-billing-provider-to-payer-b.edi", "P")
    assert isinstance(claim, ProfessionalClaim)
    (other,) = claim.other_payers
    assert [(a.group, a.reason, a.amount) for a in other.adjustments] == [
        ("PR", "1", Money(2189)),
        ("PR", "2", Money(1500)),
    ]
    assert other.paid == Money(3915)
    assert [line.adjudications[0].paid for line in claim.lines] == [
        Money(4000),
        Money(1500),
        Money(2104),
    ]
