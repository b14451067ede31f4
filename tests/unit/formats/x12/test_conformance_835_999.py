"""Every 835 and 999 file (and the non-X12 ones) of tests/vectors/conformance.

(That folder is a verbatim copy of the team's ../shared/conformance.)

The table says, per file, what its source asserts (SOURCES.md) and what this
reader therefore must do: how many sets and claims it reads, the outcome of
each set (A accepted, E accepted with errors noted, R rejected), and the
errors it must report, by kind. Where a source asserts nothing, the expected
errors are ones that name the defective segment.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from claimbridge.formats.x12 import (
    Outcome,
    Reading,
    X12Error,
    read_835,
    read_999,
    write_835,
    write_999,
)
from claimbridge.formats.x12.errors import NotX12, SegmentTerminatorMissing
from claimbridge.types import Money
from tests.unit.formats.x12.samples import CONFORMANCE

NOW = datetime(2024, 1, 2, 3, 4, tzinfo=UTC)
ENVELOPE = {
    "sender": "S",
    "receiver": "R",
    "interchange_control_number": 1,
    "group_control_number": 1,
    "now": NOW,
}


@dataclass(frozen=True)
class Expected:
    kind: str  # "835" or "999"
    records: int
    claims: int = 0
    outcomes: str = "A"
    errors: frozenset[str] = field(default_factory=frozenset)
    interchange: str = "A"


def expect(
    kind: str,
    records: int,
    claims: int = 0,
    outcomes: str = "A",
    *errors: str,
    interchange: str = "A",
) -> Expected:
    return Expected(kind, records, claims, outcomes, frozenset(errors), interchange)


LFH = "linuxforhealth-x12/835_005010X221A1/"
BAD = "badx12/edi/X221-"
NTH = "oopfactory-x12-cybernescens/INS/_835/_5010/"
TASTY = "tastypackets-x12-parser/835/"
EDI835 = "edi-835-parser/test_edi_835_files/"

TABLE: dict[str, Expected] = {
    # LinuxForHealth: upstream round-trips each file. Two keep ">" inside SVC01
    # after ISA16 became ":" (read, flagged E); managed-care's BPR16 is the
    # impossible date 20002316 (R, claims still read); tertiary-payment's SVC01
    # lost its composite (SOURCES.md: "a strict validator should reject").
    LFH + "cob-contractural-adjustment.835": expect("835", 1, 1, "E", "ElementInvalid"),
    LFH + "managed-care.835": expect("835", 1, 2, "R", "ElementInvalid"),
    LFH + "medicare-part-a.835": expect("835", 1, 2),
    LFH + "secondary-payment.835": expect("835", 1, 2, "E", "ElementInvalid"),
    LFH + "tertiary-payment.835": expect("835", 0, 0, "R", "ElementMissing"),
    "linuxforhealth-x12/demo-file/demo.835": expect("835", 1, 2),
    # badX12: upstream validate() finds 0 errors; error_validation breaks every envelope.
    BAD + "dollars-and-data-sent-separate.edi": expect("835", 1, 2),
    BAD + "dollars-and-data-sent-together.edi": expect("835", 1, 2),
    BAD + "era-sample.edi": expect("835", 1, 1),
    BAD + "multiple-claims-single-check.edi": expect("835", 1, 9),
    BAD + "secondary-payment-with-higher-fee-schedule.edi": expect("835", 1, 1),
    BAD + "secondary-payments.edi": expect("835", 1, 2),
    BAD + "tertiary-payments.edi": expect("835", 1, 1),
    "badx12/errors/error_validation.edi": expect(
        "835",
        1,
        2,
        "R",
        "ControlNumberMismatch",
        "ElementInvalid",
        "GroupCountMismatch",
        "SegmentCountMismatch",
        "SetCountMismatch",
        interchange="R",
    ),
    # edi-835-parser: claim counts (1/2/3); blue_cross has no ISA envelope at all.
    EDI835 + "emedny_sample.txt": expect("835", 1, 3),
    EDI835 + "united_healthcare_legacy_sample.txt": expect("835", 1, 2),
    # OopFactory: Example1's tenth CLP has no amounts; the FromNth batch is
    # masked, so it does not balance "by construction" (107 + 3 imbalances).
    NTH + "Example1.txt": expect(
        "835", 0, 0, "R", "ElementMissing", "GuideErrata", "InterchangeInvalid", interchange="E"
    ),
    NTH + "ExampleFromNth.txt": expect("835", 3, 56, "RRR", "BalanceMismatch"),
    NTH + "FromNth/835_WithMultipleInterchanges.txt": expect(
        "835", 3, 56, "RRR", "BalanceMismatch"
    ),
    "pyx12/tests/835_mult_loops.txt": expect("835", 1, 1),
    # tastypackets: one stream whatever the line layout; 156 copies of one
    # interchange repeat its ISA13, which the standard forbids (TA1 025).
    TASTY + "multi-line-not-delimited.edi": expect("835", 1, 3),
    TASTY + "profee-one-line.edi": expect("835", 1, 3),
    TASTY + "profee.edi": expect("835", 1, 3),
    TASTY + "profee-multiple.edi": expect(
        "835", 156, 468, "A" * 156, "DuplicateControlNumber", interchange="AR"
    ),
    # 999s. X231 without A1 is read and flagged (E).
    "imsweb-x12-parser/837_5010/x12_999_accepted.txt": expect(
        "999", 1, 0, "A", "ControlNumberMismatch", "ElementInvalid", interchange="R"
    ),
    "imsweb-x12-parser/837_5010/x12_999_rejected.txt": expect("999", 1),
    "oopfactory-x12-cybernescens/ACK/_999/DHS_Wisconsin_Sample.txt": expect(
        "999", 1, 0, "E", "GuideErrata"
    ),
    "pyx12/tests/834_ls_le_ls_5010.999.txt": expect("999", 1, 0, "E", "GuideErrata"),
    "pyx12/tests/834_lui_id_5010.999.txt": expect("999", 4, 0, "EEEE", "GuideErrata"),
    "staedi/x12/simple999.edi": expect("999", 1, 0, "E", "GuideErrata"),
    "staedi/x12/invalid999.edi": expect(
        "999",
        1,
        0,
        "R",
        "ElementInvalid",
        "GuideErrata",
        "SegmentCountMismatch",
        "UnexpectedSegment",
    ),
    # A 270 with HL/NM1 between GS and ST: not a set this package reads.
    "badx12/errors/unknown_segment_error.edi": expect(
        "835", 0, 0, "R", "GuideUnsupported", "SegmentCountMismatch", "UnexpectedSegment"
    ),
}

REFUSED: dict[str, tuple[type[X12Error], str]] = {
    "badx12/errors/bad_file.edi": (NotX12, ""),
    "badx12/errors/segment_terminator.edi": (SegmentTerminatorMissing, "ISA"),
    EDI835 + "blue_cross_nc_sample.txt": (NotX12, ""),
    "imsweb-x12-parser/837_5010/x12_bad_first_line.txt": (X12Error, "ISA"),
    "imsweb-x12-parser/837_5010/x12_no_isa_line.txt": (NotX12, ""),
    "oopfactory-x12-cybernescens/INS/_837P/_5010/08.Unicode.x12": (X12Error, ""),
}

READERS = {"835": read_835, "999": read_999}


def read(path: str) -> tuple[list[Any], Reading[Any]]:
    reading = READERS[TABLE[path].kind]((CONFORMANCE / path).read_bytes())
    return list(reading), reading


def test_every_835_and_999_file_is_in_the_table() -> None:
    found = {
        str(path.relative_to(CONFORMANCE))
        for pattern in (
            "**/*835*",
            "**/X221-*",
            "**/*999*",
            "**/_835/**/*.txt",
            "tastypackets-x12-parser/835/*",
        )
        for path in CONFORMANCE.glob(pattern)
        if path.is_file() and path.suffix in {".835", ".edi", ".txt"}
    }
    assert found <= set(TABLE) | set(REFUSED)
    assert len([p for p, e in TABLE.items() if e.kind == "835" and "unknown" not in p]) + 1 == 25
    assert len([e for e in TABLE.values() if e.kind == "999"]) == 7


@pytest.mark.parametrize("path", sorted(TABLE))
def test_file_reads_as_its_source_expects(path: str) -> None:
    expected = TABLE[path]
    records, reading = read(path)
    assert len(records) == expected.records
    if expected.kind == "835":
        assert sum(len(r.claims) for r in records) == expected.claims
    assert "".join(r.outcome.value for r in reading.results) == expected.outcomes
    assert {type(error).__name__ for error in reading.errors} == expected.errors
    interchanges = "".join(sorted({i.outcome.value for i in reading.interchanges}))
    assert interchanges == expected.interchange
    for error in reading.errors:
        assert error.position is not None, error


@pytest.mark.parametrize("path", sorted(REFUSED))
def test_file_that_is_not_readable_x12_is_refused(path: str) -> None:
    error_type, segment_id = REFUSED[path]
    with pytest.raises(error_type) as raised:
        list(read_835((CONFORMANCE / path).read_bytes()))
    assert raised.value.position is not None
    assert raised.value.position.segment_id == segment_id


@pytest.mark.parametrize("path", sorted(p for p, e in TABLE.items() if e.records))
def test_parse_of_write_of_each_file_gives_the_same_records(path: str) -> None:
    records, _ = read(path)
    if TABLE[path].kind == "835":
        again = list(read_835(write_835(records, **ENVELOPE)))
    else:
        again = list(read_999(write_999(records, **ENVELOPE)))
    assert again == records


def test_medicare_part_a_values() -> None:
    [remittance], _ = read(LFH + "medicare-part-a.835")
    assert remittance.payment.amount == Money.parse("150000.00")
    [plb] = remittance.provider_adjustments
    assert (plb.reason, plb.reference, plb.amount) == ("CV", "CP", Money.parse("-1.27"))
    first = remittance.claims[0]
    assert first.patient_control_number == "666123"
    assert first.name("QC").last_or_organization == "JONES"
    assert [raw[0] for raw in first.other] == ["MIA"]
    assert [number for number, _ in remittance.header_other] == ["110212", "130212"]


def test_cob_contractual_adjustment_keeps_the_negative_adjustment() -> None:
    [remittance], _ = read(LFH + "cob-contractural-adjustment.835")
    amounts = {
        (a.group, a.reason): a.amount
        for claim in remittance.claims
        for line in claim.services
        for a in line.adjustments
    }
    assert amounts[("OA", "94")] == Money.parse("-9.00")
    assert ("OA", "23") in amounts


def test_secondary_and_tertiary_claim_status() -> None:
    [secondary], _ = read(LFH + "secondary-payment.835")
    assert {claim.status for claim in secondary.claims} == {"2"}
    [tertiary], _ = read(BAD + "tertiary-payments.edi")
    assert tertiary.claims[0].status == "3"


def test_non_payment_835_reads() -> None:
    [remittance], _ = read("pyx12/tests/835_mult_loops.txt")
    assert remittance.payment.handling == "H"
    assert remittance.payment.amount == Money(0)
    assert remittance.claims[0].name("82").id_qualifier == "MC"


@pytest.mark.parametrize(
    "name",
    ["emedny_sample", "united_healthcare_legacy_sample"],
)
def test_service_lines_match_the_expected_output_of_edi_835_parser(name: str) -> None:
    [remittance], _ = read(f"{EDI835}{name}.txt")
    lines = [line for claim in remittance.claims for line in claim.services]
    with (CONFORMANCE / "edi-835-parser/output" / f"{name}.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [line.procedure.code for line in lines] == [row["code"] for row in rows]
    assert sum(Decimal(str(line.paid)) for line in lines) == sum(
        Decimal(r["paid_amount"]) for r in rows
    )
    assert sum(Decimal(str(line.charge)) for line in lines) == sum(
        Decimal(r["charge_amount"]) for r in rows
    )


def test_every_line_layout_of_the_same_835_gives_the_same_remittance() -> None:
    layouts = ["profee.edi", "profee-one-line.edi", "multi-line-not-delimited.edi"]
    remittances = [read(TASTY + layout)[0] for layout in layouts]
    assert remittances[0] == remittances[1] == remittances[2]
    many, _ = read(TASTY + "profee-multiple.edi")
    assert all(remittance == remittances[0][0] for remittance in many)


def test_999_outcomes_match_their_sources() -> None:
    [wisconsin], _ = read("oopfactory-x12-cybernescens/ACK/_999/DHS_Wisconsin_Sample.txt")
    assert wisconsin.outcome is Outcome.PARTIALLY_ACCEPTED
    assert [s.outcome.value for s in wisconsin.sets] == ["A", "R", "R"]
    [simple], _ = read("staedi/x12/simple999.edi")
    assert simple.outcome is Outcome.PARTIALLY_ACCEPTED
    assert [s.outcome.value for s in simple.sets] == ["A", "R", "R"]
    assert simple.sets[1].segments == wisconsin.sets[1].segments
    [accepted], _ = read("imsweb-x12-parser/837_5010/x12_999_accepted.txt")
    assert (accepted.outcome.value, accepted.sets[0].outcome.value) == ("A", "A")
    [rejected], _ = read("imsweb-x12-parser/837_5010/x12_999_rejected.txt")
    assert (rejected.outcome.value, rejected.sets[0].outcome.value) == ("R", "R")
    assert rejected.sets[0].segments[0].segment_id == "NM"
    many, _ = read("pyx12/tests/834_lui_id_5010.999.txt")
    assert [ack.outcome.value for ack in many] == ["A"] * 4


def test_invalid_999_errors_come_in_the_order_staedi_expects() -> None:
    _, reading = read("staedi/x12/invalid999.edi")
    found = [
        (type(e).__name__, e.position.segment_number, e.segment_code, e.element_code)
        for e in reading.results[0].errors
        if type(e).__name__ != "GuideErrata"
    ]
    assert found == [
        ("UnexpectedSegment", 4, "2", None),  # IK5 at 4: UNEXPECTED_SEGMENT
        ("ElementInvalid", 5, "8", "5"),  # AK101 "HC   ": DATA_ELEMENT_TOO_LONG
        ("ElementInvalid", 6, "8", "3"),  # AK204/AK205: TOO_MANY_DATA_ELEMENTS
        ("ElementInvalid", 7, "8", "7"),  # IK501 Q: INVALID_CODE_VALUE
        ("UnexpectedSegment", 8, "5", None),  # IK5 at 8: SEGMENT_EXCEEDS_MAXIMUM_USE
        ("SegmentCountMismatch", 20, None, None),  # SE01=16, 18 segments
    ]
