"""835 remittances (005010X221A1): records, balancing, refusals, writing back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimbridge.formats.x12 import (
    ClaimPayment,
    Outcome,
    Payment,
    ProviderAdjustment,
    Reading,
    Remittance,
    ServicePayment,
    check_balance,
    read_835,
    write_835,
)
from claimbridge.formats.x12.errors import (
    BalanceMismatch,
    ElementInvalid,
    ElementMissing,
    GuideUnsupported,
    MissingSegment,
    UnexpectedSegment,
)
from claimbridge.formats.x12.records835 import Adjustment, Name, Party, Procedure, Trace
from claimbridge.types import Money
from tests.unit.formats.x12.samples import PAYMENT_835, document

NOW = datetime(2024, 1, 2, 3, 4, tzinfo=UTC)
ENVELOPE = {
    "sender": "PAYER",
    "receiver": "CLINIC",
    "interchange_control_number": 1,
    "group_control_number": 1,
    "now": NOW,
}


def read(body: list[str], **options: str) -> tuple[list[Remittance], Reading[Remittance]]:
    reading = read_835(document(body, **options))
    return list(reading), reading


def replaced(old: str, new: str) -> list[str]:
    return [segment.replace(old, new) for segment in PAYMENT_835]


def test_a_balanced_835_reads_into_a_remittance() -> None:
    [remittance], reading = read(PAYMENT_835)
    assert reading.accepted
    payment = remittance.payment
    assert (payment.handling, payment.amount, payment.method) == ("I", Money(14000), "ACH")
    assert payment.payment_date == date(2024, 1, 5)
    assert remittance.trace == Trace("1", "12345", "1512345678")
    assert (remittance.payer.name, remittance.payee.identifier) == ("PAYER A", "1234567893")
    assert remittance.payer.address is not None
    assert remittance.payer.address.city == "CITY"
    first, second = remittance.claims
    assert (first.patient_control_number, first.charge, first.paid) == (
        "PC1",
        Money(15000),
        Money(10000),
    )
    assert first.patient_responsibility == Money(2000)
    assert first.header_number == "1"
    assert first.name("QC") == Name("QC", True, "DOE", "JANE", id_qualifier="MI", identifier="M1")
    [service] = first.services
    assert service.procedure == Procedure("HC", "99213", ("25",))
    assert service.units == Decimal(1)
    assert service.adjustments == (
        Adjustment("PR", "1", Money(2000)),
        Adjustment("CO", "45", Money(3000)),
    )
    assert second.adjustments == (Adjustment("CO", "45", Money(1000)),)


def test_a_service_line_that_does_not_balance_rejects_the_set_and_says_where() -> None:
    [remittance], reading = read(replaced("CAS*CO*45*30.00", "CAS*CO*45*31.00"))
    result = reading.results[0]
    assert result.outcome is Outcome.REJECTED
    errors = result.errors
    assert all(isinstance(error, BalanceMismatch) for error in errors)
    assert [(e.position.segment_id, e.position.element) for e in errors] == [
        ("SVC", 3),
        ("CLP", 4),
    ]
    assert remittance.claims[0].services[0].adjustments[1].amount == Money(3100)


def test_the_payment_must_equal_claims_paid_less_provider_adjustments() -> None:
    body = [*replaced("BPR*I*140.00", "BPR*I*130.00"), "PLB*1234567893*20241231*WO:X1*10.00"]
    [remittance], reading = read(body)
    assert reading.accepted
    assert remittance.provider_adjustments == (
        ProviderAdjustment("1234567893", date(2024, 12, 31), "WO", "X1", Money(1000)),
    )
    _, reading = read(replaced("BPR*I*140.00", "BPR*I*141.00"))
    [error] = reading.results[0].errors
    assert isinstance(error, BalanceMismatch)
    assert (error.position.segment_id, error.position.element) == ("BPR", 2)


def test_negative_adjustments_balance() -> None:
    body = replaced("CAS*CO*45*10.00", "CAS*CO*45*20.00*1*94*-10.00")
    _, reading = read(body)
    assert reading.accepted


@pytest.mark.parametrize(
    ("body", "error", "segment", "element"),
    [
        (replaced("CLP*PC2*1*50.00", "CLP*PC2*1*5O.00"), ElementInvalid, "CLP", 3),
        (replaced("CLP*PC2*1*50.00*40.00", "CLP*PC2*1*50.00*"), ElementMissing, "CLP", 4),
        (replaced("DTM*472*20240101", "DTM*472*20241301"), ElementInvalid, "DTM", 2),
        (replaced("SVC*HC:99213:25", "SVC*HC"), ElementMissing, "SVC", 1),
        (replaced("CAS*PR*1*20.00", "CAS*PR"), ElementMissing, "CAS", 2),
        (PAYMENT_835[1:], MissingSegment, "TRN", None),
        (PAYMENT_835[:5], MissingSegment, "SE", None),
    ],
    ids=[
        "bad-amount",
        "missing-paid",
        "bad-date",
        "svc-no-code",
        "cas-empty",
        "no-bpr",
        "no-payee",
    ],
)
def test_bad_values_reject_the_set_naming_segment_and_element(
    body: list[str], error: type[Exception], segment: str, element: int | None
) -> None:
    remittances, reading = read(body)
    assert remittances == []
    [found] = reading.results[0].errors
    assert isinstance(found, error)
    assert (found.position.segment_id, found.position.element) == (segment, element)


def test_segments_out_of_place_are_unexpected_but_reading_goes_on() -> None:
    body = [*PAYMENT_835[:6], "HL*1**20*1", *PAYMENT_835[6:]]
    [remittance], reading = read(body)
    [error] = reading.results[0].errors
    assert isinstance(error, UnexpectedSegment)
    assert error.position.segment_id == "HL"
    assert len(remittance.claims) == 2


def test_other_guides_are_refused_and_errata_flagged() -> None:
    _, reading = read(PAYMENT_835, guide="004010X091A1")
    assert isinstance(reading.results[0].errors[0], GuideUnsupported)
    remittances, reading = read(PAYMENT_835, guide="005010X221")
    assert len(remittances) == 1
    assert reading.results[0].outcome is Outcome.ACCEPTED_WITH_ERRORS


def test_one_bad_set_does_not_hide_the_others() -> None:
    bad = replaced("CLP*PC2*1*50.00", "CLP*PC2*1*5O.00")
    reading = read_835(document(PAYMENT_835, bad, PAYMENT_835))
    assert len(list(reading)) == 2
    outcomes = [result.outcome for result in reading.results]
    assert outcomes == [Outcome.ACCEPTED, Outcome.REJECTED, Outcome.ACCEPTED]


def test_written_835_reads_back_the_same() -> None:
    remittances, _ = read([*PAYMENT_835, "PLB*1234567893*20241231*WO:X1*-10.00*72*10.00"])
    data = write_835(remittances, **ENVELOPE)
    reading = read_835(data)
    assert list(reading) == remittances
    assert reading.accepted


# -- generated remittances ----------------------------------------------------------

AMOUNTS = st.integers(-50_000, 5_000_000).map(Money)
CODES = st.integers(0, 10**8).map(lambda number: f"C{number}")
NAMES = st.sampled_from(["DOE", "ROE", "O'BRIEN", "SMITH-JONES", "ACME HEALTH, INC.", "A & B"])
DAYS = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))
# Strategies are built once, here: one built inside a composite is built, and
# checked, again at every draw, which cost more than the drawing.
LINE_ADJUSTMENTS = st.lists(
    st.builds(Adjustment, st.sampled_from(["CO", "PR", "OA"]), CODES, AMOUNTS), max_size=4
)
MODIFIERS = st.lists(st.sampled_from(["25", "59", "LT", "RT"]), max_size=4).map(tuple)
UNITS = st.none() | st.integers(1, 99).map(Decimal)
CLAIM_ADJUSTMENTS = st.lists(
    st.builds(Adjustment, st.sampled_from(["CO", "PR"]), CODES, AMOUNTS), max_size=2
)
STATUSES = st.sampled_from(["1", "2", "4", "22"])
MAYBE_AMOUNTS = st.none() | AMOUNTS
PROVIDER_ADJUSTMENTS = st.lists(
    st.builds(ProviderAdjustment, CODES, DAYS, st.sampled_from(["WO", "72", "L6"]), CODES, AMOUNTS),
    max_size=3,
)


@st.composite
def services(draw: st.DrawFn) -> ServicePayment:
    adjustments = draw(LINE_ADJUSTMENTS)
    paid = draw(AMOUNTS)
    charge = paid + sum((a.amount for a in adjustments), Money(0))
    return ServicePayment(
        procedure=Procedure(
            "HC",
            draw(CODES),
            draw(MODIFIERS),
        ),
        charge=charge,
        paid=paid,
        units=draw(UNITS),
        adjustments=tuple(adjustments),
    )


SERVICE_LISTS = st.lists(services(), max_size=3)


@st.composite
def claims(draw: st.DrawFn) -> ClaimPayment:
    lines = draw(SERVICE_LISTS)
    adjustments = draw(CLAIM_ADJUSTMENTS)
    paid = sum((line.paid for line in lines), Money(0)) if lines else draw(AMOUNTS)
    charge = paid + sum((a.amount for a in adjustments), Money(0))
    charge += sum((a.amount for line in lines for a in line.adjustments), Money(0))
    return ClaimPayment(
        patient_control_number=draw(CODES),
        status=draw(STATUSES),
        charge=charge,
        paid=paid,
        patient_responsibility=draw(MAYBE_AMOUNTS),
        filing_indicator="12",
        payer_claim_number=draw(CODES),
        header_number="1",
        adjustments=tuple(adjustments),
        names=(Name("QC", True, draw(NAMES), draw(NAMES)),),
        services=tuple(lines),
    )


CLAIM_LISTS = st.lists(claims(), min_size=1, max_size=4)


@st.composite
def remittances(draw: st.DrawFn) -> Remittance:
    paid_claims = draw(CLAIM_LISTS)
    plb = draw(PROVIDER_ADJUSTMENTS)
    amount = sum((c.paid for c in paid_claims), Money(0)) - sum((p.amount for p in plb), Money(0))
    return Remittance(
        control_number="0001",
        payment=Payment("I", amount, "C", "ACH", draw(DAYS), ("CCP",)),
        trace=Trace("1", draw(CODES), "1512345678"),
        payer=Party("PR", draw(NAMES)),
        payee=Party("PE", draw(NAMES), "XX", "1234567893"),
        claims=tuple(paid_claims),
        provider_adjustments=tuple(plb),
    )


@settings(max_examples=30, deadline=None)
@given(st.lists(remittances(), min_size=1, max_size=2))
def test_parse_of_written_remittances_gives_them_back(generated: list[Remittance]) -> None:
    for remittance in generated:
        assert check_balance(remittance) == []
    reading = read_835(write_835(generated, **ENVELOPE))
    assert list(reading) == generated
    assert reading.accepted, reading.errors
