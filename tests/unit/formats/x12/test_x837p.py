"""The 837P reader: records, hierarchy, checks and refusals (005010X222A1)."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from time import perf_counter

import pytest

from claimbridge.formats.x12.envelope import Outcome
from claimbridge.formats.x12.errors import (
    BalanceMismatch,
    ElementInvalid,
    ElementMissing,
    GuideErrata,
    GuideUnsupported,
    HierarchyInvalid,
    MissingSegment,
    UnexpectedSegment,
    UnrecognizedSegment,
    X12Error,
)
from claimbridge.formats.x12.x837p import ProfessionalClaim, read_837p
from claimbridge.types import Money, ServicePeriod
from tests.unit.formats.x12.samples import document

HEADER = [
    "BHT*0019*00*REF123*20240102*1230*CH",
    "NM1*41*2*BILLING SERVICE*****46*TGJ23",
    "PER*IC*JERRY*TE*3055552222*EX*231",
    "NM1*40*2*PAYER RECEIVER*****46*66783JJT",
]
BILLING = [
    "HL*1**20*1",
    "PRV*BI*PXC*203BF0100Y",
    "NM1*85*2*VALLEY CLINIC*****XX*1234567893",
    "N3*225 MAIN ST",
    "N4*CENTERVILLE*PA*17601",
    "REF*EI*123456789",
    "NM1*87*2",
    "N3*PO BOX 1",
    "N4*CENTERVILLE*PA*17601",
]
SUBSCRIBER = [
    "HL*2*1*22*1",
    "SBR*P**GRP01******CI",
    "NM1*IL*1*SMITH*JANE****MI*JS00111223333",
    "N3*236 N MAIN ST",
    "N4*MIAMI*FL*33413",
    "DMG*D8*19430501*F",
    "NM1*PR*2*KEY INSURANCE*****PI*999996666",
]
PATIENT = [
    "HL*3*2*23*0",
    "PAT*19",
    "NM1*QC*1*SMITH*TED",
    "N3*236 N MAIN ST",
    "N4*MIAMI*FL*33413",
    "DMG*D8*19730501*M",
]
CLAIM = [
    "CLM*26463774*100.00***11:B:1*Y*A*Y*I",
    "DTP*431*D8*20231201",
    "REF*G1*PA12345",
    "NTE*ADD*PATIENT WAS SEEN ON AN URGENT BASIS",
    "HI*ABK:J020*ABF:R509",
    "NM1*DN*1*WELBY*MARCUS****XX*1112223338",
    "NM1*82*1*KILDARE*BEN****XX*1999996666",
    "PRV*PE*PXC*204C00000X",
    "LX*1",
    "SV1*HC:99213:25*60.00*UN*1***1:2",
    "DTP*472*D8*20240102",
    "REF*6R*LINE1",
    "LX*2",
    "SV1*HC:J1550*40.00*UN*2***1**Y",
    "DTP*472*RD8*20240102-20240103",
    "LIN**N4*00004196501",
    "CTP****7.5*ML",
    "REF*XZ*RX55",
]


def claims_of(
    *bodies: list[str], guide: str = "005010X222A1"
) -> tuple[list[ProfessionalClaim], list[object]]:
    reading = read_837p(document(*bodies, set_id="837", guide=guide, functional_id="HC"))
    claims = list(reading)
    return claims, reading.results


def body(*parts: list[str]) -> list[str]:
    return [segment for part in parts for segment in part]


def errors_of(results: list[object]) -> list[X12Error]:
    return [error for result in results for error in result.errors]  # type: ignore[attr-defined]


def test_reads_claim_with_its_context() -> None:
    claims, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM))

    assert [result.outcome for result in results] == [Outcome.ACCEPTED]
    (claim,) = claims
    assert claim.claim_id == "26463774"
    assert claim.total_charge == Money(10000)
    assert (claim.place_of_service, claim.frequency) == ("11", "1")
    assert claim.submission.submitter.name == "BILLING SERVICE"
    assert claim.submission.created_on == date(2024, 1, 2)
    assert claim.submission.submitter.contacts[0].numbers[0].kind == "phone"
    billing = claim.billing_provider.provider
    assert (billing.npi, billing.tax_id, billing.taxonomy) == (
        "1234567893",
        "123456789",
        "203BF0100Y",
    )
    assert billing.address is not None and billing.address.city == "CENTERVILLE"
    assert claim.billing_provider.pay_to is not None
    assert claim.subscriber.person.identifier == "JS00111223333"
    assert claim.subscriber.person.birth_date == date(1943, 5, 1)
    assert (claim.subscriber.responsibility, claim.subscriber.claim_filing) == ("P", "CI")
    assert claim.payer.name == "KEY INSURANCE"
    assert claim.patient is not None
    assert (claim.patient.person.first_name, claim.patient.relationship) == ("TED", "19")


def test_reads_diagnoses_references_notes_and_providers() -> None:
    (claim,), _ = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM))

    assert [(code.qualifier, code.code) for code in claim.diagnoses] == [
        ("ABK", "J020"),
        ("ABF", "R509"),
    ]
    assert claim.prior_authorization == "PA12345"
    assert claim.notes[0].topic == "ADD"
    assert claim.dates[0].kind == "onset"
    assert claim.dates[0].period == ServicePeriod.on(date(2023, 12, 1))
    assert claim.referring_provider is not None and claim.referring_provider.name == "WELBY"
    rendering = claim.rendering_provider
    assert rendering is not None and rendering.taxonomy == "204C00000X"


def test_reads_service_lines() -> None:
    (claim,), _ = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM))

    first, second = claim.lines
    assert (first.procedure, first.modifiers, first.charge) == ("99213", ("25",), Money(6000))
    assert first.diagnosis_pointers == (1, 2)
    assert first.units == Decimal(1)
    assert first.service_date == ServicePeriod.on(date(2024, 1, 2))
    assert first.control_number == "LINE1"
    assert second.units == Decimal(2) and second.emergency is True
    assert second.service_date == ServicePeriod(date(2024, 1, 2), date(2024, 1, 3))
    assert second.drug is not None
    assert (second.drug.ndc, second.drug.quantity, second.drug.unit) == (
        "00004196501",
        Decimal("7.5"),
        "ML",
    )
    assert second.drug.prescription == "RX55"


def test_subscriber_who_is_the_patient_has_no_patient_loop() -> None:
    subscriber = ["HL*2*1*22*0", *SUBSCRIBER[1:]]
    (claim,), results = claims_of(body(HEADER, BILLING, subscriber, CLAIM))

    assert claim.patient is None
    assert results[0].outcome is Outcome.ACCEPTED


def test_claims_under_one_subscriber_share_the_context_objects() -> None:
    second = ["CLM*SECOND*100.00***11:B:1*Y*A*Y*I", *CLAIM[1:]]
    claims, _ = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM, second))

    assert [claim.claim_id for claim in claims] == ["26463774", "SECOND"]
    assert claims[0].subscriber is claims[1].subscriber
    assert claims[0].billing_provider is claims[1].billing_provider


def test_a_provider_named_again_is_one_record_but_never_another_providers() -> None:
    # The reader keeps one record for a provider named on claim after claim
    # (from the second time on: one named once is not worth keeping); the
    # same identifier with another address, name or taxonomy is a provider
    # of its own.
    def claim_with(claim_id: str, facility: list[str]) -> list[str]:
        return [f"CLM*{claim_id}*100.00***11:B:1*Y*A*Y*I", *CLAIM[1:7], *facility, *CLAIM[8:]]

    site = ["NM1*77*2*NORTH SITE*****XX*1555555555", "N3*1 A ST", "N4*CENTERVILLE*PA*17601"]
    moved = [site[0], "N3*1 A ST*SUITE 2", site[2]]
    renamed = ["NM1*77*2*SOUTH SITE*****XX*1555555555", *site[1:]]
    claims, results = claims_of(
        body(
            HEADER, BILLING, SUBSCRIBER, PATIENT,
            claim_with("A", site), claim_with("B", site), claim_with("C", moved),
            claim_with("D", renamed), claim_with("E", site), claim_with("F", moved),
        )
    )  # fmt: skip

    facilities = [claim.service_facility for claim in claims]
    assert results[0].outcome is Outcome.ACCEPTED
    assert facilities[0] == facilities[1] == facilities[4]
    assert facilities[1] is facilities[4]
    assert facilities[2] is facilities[5]  # each form of one identifier is kept
    assert facilities[1] is not facilities[2] and facilities[1] is not facilities[3]
    assert facilities[0] is not None and facilities[2] is not None and facilities[3] is not None
    assert facilities[2].address is not None and facilities[2].address.street2 == "SUITE 2"
    assert facilities[0].address is not None and facilities[0].address.street2 == ""
    assert [facility.name for facility in facilities if facility] == [
        "NORTH SITE", "NORTH SITE", "NORTH SITE", "SOUTH SITE", "NORTH SITE", "NORTH SITE",
    ]  # fmt: skip


COB = [
    "SBR*S*01*******CI",
    "CAS*PR*1*21.89**2*15",
    "CAS*CO*45*3",
    "AMT*D*39.15",
    "AMT*EAF*36.89",
    "OI***Y*P**Y",
    "NM1*IL*1*SMITH*JACK****MI*T55TY666",
    "NM1*PR*2*PAYER A*****PI*999996666",
    "DTP*573*D8*20240110",
]
LINE_ADJUDICATION = [
    "SVD*999996666*40*HC:99213**1",
    "CAS*CO*42*20",
    "DTP*573*D8*20240110",
]


def test_reads_other_payers_and_line_adjudication() -> None:
    claim_segments = [*CLAIM[:8], *COB, *CLAIM[8:12], *LINE_ADJUDICATION, *CLAIM[12:]]
    (claim,), results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, claim_segments))

    assert results[0].outcome is Outcome.ACCEPTED
    (other,) = claim.other_payers
    assert (other.responsibility, other.payer.name, other.subscriber.first_name) == (
        "S",
        "PAYER A",
        "JACK",
    )
    assert [(a.group, a.reason, a.amount) for a in other.adjustments] == [
        ("PR", "1", Money(2189)),
        ("PR", "2", Money(1500)),
        ("CO", "45", Money(300)),
    ]
    assert (other.paid, other.remaining_patient_liability) == (Money(3915), Money(3689))
    assert other.adjudicated_on == date(2024, 1, 10)
    (adjudication,) = claim.lines[0].adjudications
    assert (adjudication.payer_id, adjudication.paid, adjudication.procedure) == (
        "999996666",
        Money(4000),
        "99213",
    )
    assert adjudication.adjustments[0].reason == "42"
    assert adjudication.adjudicated_on == date(2024, 1, 10)


def test_unbalanced_claim_is_read_and_its_set_rejected() -> None:
    unbalanced = ["CLM*26463774*99.00***11:B:1*Y*A*Y*I", *CLAIM[1:]]
    claims, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, unbalanced))

    assert len(claims) == 1
    assert results[0].outcome is Outcome.REJECTED
    (error,) = errors_of(results)
    assert isinstance(error, BalanceMismatch)
    assert error.position is not None
    assert (error.position.segment_id, error.position.element) == ("CLM", 2)


def test_diagnosis_pointer_past_the_diagnoses_is_flagged() -> None:
    pointing = [segment.replace("***1:2", "***1:5") for segment in CLAIM]
    claims, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, pointing))

    assert claims[0].lines[0].diagnosis_pointers == (1, 5)
    (error,) = errors_of(results)
    assert isinstance(error, ElementInvalid)
    assert error.position is not None and error.position.segment_id == "SV1"


def test_claim_without_diagnoses_is_flagged() -> None:
    no_hi = [segment for segment in CLAIM if not segment.startswith("HI")]
    claims, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, no_hi))

    assert len(claims) == 1
    kinds = {type(error) for error in errors_of(results)}
    assert MissingSegment in kinds


@pytest.mark.parametrize(
    ("hl", "message"),
    [
        ("HL*3*3*23*0", "own parent"),
        ("HL*3*7*23*0", "after it"),
        ("HL*3*1*23*0", "subscriber"),
        ("HL*4*2*23*0", "in order"),
        ("HL*3**23*0", "missing"),
        ("HL*3*2*24*0", "HL03"),
    ],
)
def test_hierarchy_errors_are_refused(hl: str, message: str) -> None:
    patient = [hl, *PATIENT[1:]]
    claims, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, patient, CLAIM))

    assert claims == []
    (error,) = errors_of(results)
    assert isinstance(error, HierarchyInvalid)
    assert message in error.message
    assert error.position is not None and error.position.segment_id == "HL"


def test_subscriber_must_name_the_billing_provider_as_parent() -> None:
    subscriber = ["HL*2**22*1", *SUBSCRIBER[1:]]
    _, results = claims_of(body(HEADER, BILLING, subscriber, PATIENT, CLAIM))

    (error,) = errors_of(results)
    assert isinstance(error, HierarchyInvalid)


def test_missing_billing_provider_name_is_refused() -> None:
    billing = [segment for segment in BILLING if not segment.startswith("NM1*85")]
    billing = [segment for segment in billing if segment not in ("N3*225 MAIN ST",)]
    _, results = claims_of(body(HEADER, billing[:1], SUBSCRIBER, PATIENT, CLAIM))

    (error,) = errors_of(results)
    assert isinstance(error, MissingSegment)
    assert "2010AA" in error.message


def test_bad_amount_names_segment_and_element() -> None:
    bad = [segment.replace("*60.00*", "*60.0.0*") for segment in CLAIM]
    claims, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, bad))

    assert claims == []
    (error,) = errors_of(results)
    assert isinstance(error, ElementInvalid)
    assert error.position is not None
    assert (error.position.segment_id, error.position.element) == ("SV1", 2)


def test_bad_date_is_refused_with_the_date_code() -> None:
    bad = [segment.replace("D8*20240102", "D8*20240231") for segment in CLAIM]
    _, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, bad))

    (error,) = errors_of(results)
    assert isinstance(error, ElementInvalid) and error.element_code == "8"


def test_missing_required_element_is_refused() -> None:
    bad = ["CLM*26463774*100.00***", *CLAIM[1:]]
    _, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, bad))

    (error,) = errors_of(results)
    assert isinstance(error, ElementMissing)
    assert error.position is not None and error.position.element == 5


@pytest.mark.parametrize(
    ("segment", "error_type"),
    [
        ("ZZZ*1", UnexpectedSegment),
        ("nm1*1", UnrecognizedSegment),
        ("CL1*1*1*01", UnexpectedSegment),
    ],
)
def test_segments_outside_the_guide_are_refused(segment: str, error_type: type[X12Error]) -> None:
    claim = [*CLAIM[:2], segment, *CLAIM[2:]]
    _, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, claim))

    (error,) = errors_of(results)
    assert isinstance(error, error_type)


def test_service_segment_without_lx_is_refused() -> None:
    claim = [segment for segment in CLAIM if segment != "LX*1"]
    _, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, claim))

    (error,) = errors_of(results)
    assert isinstance(error, UnexpectedSegment)
    assert error.position is not None and error.position.segment_id == "SV1"


@pytest.mark.parametrize(
    ("guide", "words"),
    [
        ("005010X224A2", "dental"),
        ("004010X098A1", "4010"),
        ("005010X223A2", "institutional"),
        ("005010X999", "005010X999"),
    ],
)
def test_other_guides_are_refused_not_misread(guide: str, words: str) -> None:
    claims, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM), guide=guide)

    assert claims == []
    (error,) = errors_of(results)
    assert isinstance(error, GuideUnsupported)
    assert words in error.message


def test_errata_guide_is_read_and_flagged() -> None:
    claims, results = claims_of(
        body(HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM), guide="005010X222A2"
    )

    assert len(claims) == 1
    assert results[0].outcome is Outcome.ACCEPTED_WITH_ERRORS
    (error,) = errors_of(results)
    assert isinstance(error, GuideErrata)


def test_one_bad_set_does_not_hide_the_next() -> None:
    bad = body(HEADER, BILLING, ["HL*2*9*22*1"], SUBSCRIBER[1:], PATIENT, CLAIM)
    good = body(HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM)
    claims, results = claims_of(bad, good)

    assert [result.outcome for result in results] == [Outcome.REJECTED, Outcome.ACCEPTED]
    assert len(claims) == 1


def test_claim_before_an_invalid_hl_is_still_yielded() -> None:
    claims, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM, ["HL*9*2*23*0"]))

    assert len(claims) == 1
    assert results[0].outcome is Outcome.REJECTED


def test_event_dates_with_times_are_read() -> None:
    claim = [*CLAIM[:2], "DTP*435*DT*202401020830", "DTP*096*TM*1145", *CLAIM[2:]]
    (read,), _ = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, claim))

    admission, discharge = read.dates[1:3]
    assert (admission.kind, admission.time) == ("admission", time(8, 30))
    assert (discharge.kind, discharge.period, discharge.time) == ("discharge", None, time(11, 45))


@pytest.mark.parametrize(
    "flood",
    [
        [f"REF*Q{index}*V" for index in range(200_000)],
        [segment for index in range(2, 20_000) for segment in (f"LX*{index}", CLAIM[9])],
        ["DTP*431*D8*20231201"] * 200_000,
    ],
    ids=["line references", "service lines", "line dates"],
)
def test_claim_flooded_with_segments_is_refused_quickly(flood: list[str]) -> None:
    claim = [*CLAIM[:12], *flood]
    started = perf_counter()
    claims, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, claim))

    assert perf_counter() - started < 5
    assert claims == []
    (error,) = errors_of(results)[:1]
    assert isinstance(error, UnexpectedSegment) and error.segment_code == "5"


def test_deep_hl_chain_is_refused() -> None:
    chain = [f"HL*{index}*{index - 1}*23*1" for index in range(4, 10_000)]
    _, results = claims_of(body(HEADER, BILLING, SUBSCRIBER, PATIENT, chain))

    (error,) = errors_of(results)
    assert isinstance(error, HierarchyInvalid)


def test_composites_are_split_by_each_interchange_own_separator() -> None:
    segments = body(HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM)
    claims_of(segments)  # Read once with ":" so that its composites are known.
    isa = document([], set_id="837").decode().split("~")[0][:-1] + ">"
    data = document(segments, set_id="837", guide="005010X222A1", functional_id="HC", isa=isa)

    reading = read_837p(data)
    assert list(reading) == []
    error = reading.results[0].errors[0]
    assert isinstance(error, ElementMissing)
    assert error.position is not None and error.position.segment_id in ("HI", "SV1")
