"""The 837I reader: type of bill, CL1, HI code lists, SV2 lines (005010X223A2)."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

from claimbridge.formats.x12 import x837i, x837p
from claimbridge.formats.x12.envelope import Outcome
from claimbridge.formats.x12.errors import (
    BalanceMismatch,
    GuideErrata,
    GuideUnsupported,
    MissingSegment,
    UnexpectedSegment,
)
from claimbridge.formats.x12.x837i import InstitutionalClaim, read_837, read_837i
from claimbridge.formats.x12.x837p import ProfessionalClaim, read_837p
from claimbridge.types import Money, ServicePeriod
from tests.unit.formats.x12.samples import document
from tests.unit.formats.x12.test_x837p import BILLING, CLAIM, HEADER, PATIENT, SUBSCRIBER

SET = [
    "BHT*0019*00*0123*19960918*0932*CH",
    "NM1*41*2*JONES HOSPITAL*****46*12345",
    "PER*IC*JANE DOE*TE*9005555555",
    "NM1*40*2*MEDICARE*****46*00120",
    "HL*1**20*1",
    "PRV*BI*PXC*203BA0200N",
    "NM1*85*2*JONES HOSPITAL*****XX*9876540809",
    "N3*225 MAIN STREET",
    "N4*CENTERVILLE*PA*17111",
    "REF*EI*567891234",
    "HL*2*1*22*0",
    "SBR*P*18*******MB",
    "NM1*IL*1*DOE*JON*T***MI*030005074A",
    "DMG*D8*19261111*M",
    "NM1*PR*2*MEDICARE B*****PI*00435",
    "CLM*756048Q*89.93***14:A:1*Y*A*Y*Y",
    "DTP*434*RD8*19960911-19960914",
    "DTP*435*DT*199609111402",
    "CL1*3*1*01",
    "AMT*F3*14.84",
    "HI*ABK:I2510:::::::Y",
    "HI*ABJ:R079*ABF:I10:::::::N",
    "HI*BBR:0B110F5:D8:20050321",
    "HI*BH:A1:D8:19261111*BE:A2:::15.31*BG:09",
    "NM1*71*1*JONES*JOHN*J",
    "REF*1G*B99937",
    "LX*1",
    "SV2*0305*HC:85025*13.39*UN*1",
    "DTP*472*D8*19960911",
    "LX*2",
    "SV2*0730*HC:93005:76*76.54*DA*3*25.51*11.15",
    "DTP*472*D8*19960911",
]


def read(
    segments: list[str], guide: str = "005010X223A2"
) -> tuple[list[InstitutionalClaim], list[object]]:
    reading = read_837i(document(segments, set_id="837", guide=guide, functional_id="HC"))
    return list(reading), list(reading.results)


def test_reads_institutional_claim() -> None:
    (claim,), results = read(SET)

    assert results[0].outcome is Outcome.ACCEPTED  # type: ignore[attr-defined]
    assert claim.type_of_bill == "141"
    assert (claim.admission_type, claim.admission_source, claim.patient_status) == ("3", "1", "01")
    assert claim.statement_period == ServicePeriod(date(1996, 9, 11), date(1996, 9, 14))
    assert claim.dates[1].time == time(14, 2)
    assert claim.patient_estimated_due == Money(1484)
    assert claim.attending_provider is not None
    assert claim.attending_provider.references[0].value == "B99937"


def test_reads_hi_code_lists() -> None:
    (claim,), _ = read(SET)

    principal = claim.principal_diagnosis
    assert principal is not None
    assert (principal.code, principal.present_on_admission) == ("I2510", "Y")
    assert claim.admitting_diagnosis is not None and claim.admitting_diagnosis.code == "R079"
    assert [(c.code, c.present_on_admission) for c in claim.other_diagnoses] == [("I10", "N")]
    procedure = claim.principal_procedure
    assert procedure is not None and procedure.period == ServicePeriod.on(date(2005, 3, 21))
    assert claim.occurrences[0].period == ServicePeriod.on(date(1926, 11, 11))
    assert claim.value_codes[0].amount == Decimal("15.31")
    assert [c.code for c in claim.condition_codes] == ["09"]


def test_reads_revenue_lines() -> None:
    (claim,), _ = read(SET)

    first, second = claim.lines
    assert (first.revenue_code, first.procedure, first.charge, first.units) == (
        "0305",
        "85025",
        Money(1339),
        Decimal(1),
    )
    assert (second.unit_kind, second.units, second.modifiers) == ("days", Decimal(3), ("76",))
    assert (second.rate, second.non_covered) == (Money(2551), Money(1115))


def test_unbalanced_claim_is_flagged() -> None:
    segments = [s.replace("*89.93*", "*90.00*") for s in SET]
    claims, results = read(segments)

    assert len(claims) == 1
    (error,) = results[0].errors  # type: ignore[attr-defined]
    assert isinstance(error, BalanceMismatch)


def test_missing_principal_diagnosis_is_flagged() -> None:
    segments = [s for s in SET if not s.startswith("HI*ABK")]
    _, results = read(segments)

    (error,) = results[0].errors  # type: ignore[attr-defined]
    assert isinstance(error, MissingSegment)


def test_professional_segments_are_refused() -> None:
    segments = [
        s.replace("SV2*0305*HC:85025*13.39*UN*1", "SV1*HC:85025*13.39*UN*1***1") for s in SET
    ]
    claims, results = read(segments)

    assert claims == []
    (error,) = results[0].errors  # type: ignore[attr-defined]
    assert isinstance(error, UnexpectedSegment)


def test_professional_guide_is_refused_and_errata_flagged() -> None:
    claims, results = read(SET, guide="005010X222A1")
    assert claims == []
    assert isinstance(results[0].errors[0], GuideUnsupported)  # type: ignore[attr-defined]

    claims, results = read(SET, guide="005010X223A3")
    assert len(claims) == 1
    assert isinstance(results[0].errors[0], GuideErrata)  # type: ignore[attr-defined]


def test_read_837_reads_both_kinds_by_their_guide() -> None:
    professional = [*HEADER, *BILLING, *SUBSCRIBER, *PATIENT, *CLAIM]
    data = document(professional, set_id="837", guide="005010X222A1", functional_id="HC")
    assert [type(claim) for claim in read_837(data)] == [ProfessionalClaim]
    data = document(SET, set_id="837", guide="005010X223A2", functional_id="HC")
    assert [type(claim) for claim in read_837(data)] == [InstitutionalClaim]


def test_readers_keep_few_enough_attributes_for_shared_key_instances(monkeypatch) -> None:
    # CPython 3.11 keeps at most 30 attribute names in a class's shared keys;
    # an instance with more gets a dict of its own, and every ``self.``
    # lookup in the hot loop slows (3% of a whole 837P read, measured with
    # callgrind). A new reader attribute must not cross that line unnoticed.
    seen: list[object] = []
    for reader in (x837i.InstitutionalReader, x837p.ProfessionalReader):
        original = reader.claims

        def claims(self, *args, _original=original):  # type: ignore[no-untyped-def]
            yield from _original(self, *args)
            seen.append(self)

        monkeypatch.setattr(reader, "claims", claims)
    read(SET)
    professional = HEADER + BILLING + SUBSCRIBER + PATIENT + CLAIM
    list(read_837p(document(professional, set_id="837", guide="005010X222A1", functional_id="HC")))
    assert {type(reader).__name__ for reader in seen} == {
        "InstitutionalReader",
        "ProfessionalReader",
    }
    for reader in seen:
        assert len(vars(reader)) < 30, sorted(vars(reader))
