"""parse(write(x)) == x for 837P claims: generated ones and the conformance files."""

from __future__ import annotations

import functools
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimbridge.formats.x12.envelope import Outcome
from claimbridge.formats.x12.errors import X12Error
from claimbridge.formats.x12.records835 import Adjustment
from claimbridge.formats.x12.records837 import (
    Address,
    BillingProvider,
    Contact,
    ContactNumber,
    Drug,
    EventDate,
    HealthCode,
    LineAdjudication,
    Note,
    OtherPayer,
    Party,
    Patient,
    Reference,
    Submission,
    Subscriber,
)
from claimbridge.formats.x12.write837p import write_837p
from claimbridge.formats.x12.x837p import (
    CLAIM_ROLES,
    LINE_ROLES,
    OTHER_PAYER_ROLES,
    ProfessionalClaim,
    ServiceLine,
    read_837p,
)
from claimbridge.types import Money, ServicePeriod
from tests.unit.formats.x12.samples import CONFORMANCE

NOW = datetime(2024, 3, 1, 9, 30)  # noqa: DTZ001 - the writer takes the sender's local time

words = (
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-&", min_size=1, max_size=10)
    .map(str.strip)
    .filter(bool)
)
codes = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8)
maybe = st.one_of(st.just(""), words)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
money = st.integers(min_value=0, max_value=10_000_000).map(Money)
quantities = st.sampled_from([Decimal(1), Decimal(2), Decimal("1.5"), Decimal("0.25"), Decimal(12)])
# Strategies are built once, at module level or cached by their arguments:
# one built inside a composite is built, and checked, again at every draw,
# which cost more than the drawing.


@st.composite
def _periods(draw: st.DrawFn) -> ServicePeriod:
    first = draw(days)
    return ServicePeriod(
        first, draw(st.sampled_from([first, first.replace(day=28)]).filter(lambda d: d >= first))
    )


periods = _periods()


addresses = st.builds(Address, words, maybe, maybe, maybe, maybe, maybe)
references = st.lists(
    st.builds(Reference, codes, words), max_size=3, unique_by=lambda r: r.qualifier
)
contacts = st.lists(
    st.builds(
        Contact,
        maybe,
        st.lists(
            st.builds(
                ContactNumber, st.sampled_from(["phone", "fax", "email", "extension"]), words
            ),
            max_size=3,
        ).map(tuple),
    ),
    max_size=1,
)


@functools.cache
def parties(role: str, *, address: bool | None = None) -> st.SearchStrategy[Party]:
    addressed = {None: st.none() | addresses, True: addresses, False: st.none()}[address]
    return st.builds(
        Party,
        st.just(role),
        maybe,
        maybe,
        maybe,
        maybe,
        st.booleans(),
        st.sampled_from(["", "npi", "member_id", "payer_id", "etin"]),
        maybe,
        addressed,
        references.map(tuple),
        contacts.map(tuple),
        maybe,
        st.none() | days,
        st.sampled_from(["", "F", "M", "U"]),
    )


def role_parties(
    roles: dict[str, str], exclude: tuple[str, ...] = ()
) -> st.SearchStrategy[tuple[Party, ...]]:
    names = sorted(set(roles.values()) - set(exclude))
    return st.lists(st.sampled_from(names), max_size=2, unique=True).flatmap(
        lambda chosen: st.tuples(*(parties(role) for role in chosen))
    )


event_kinds = st.sampled_from(["onset", "accident", "admission", "discharge", "999"])
event_shapes = st.sampled_from(["period", "moment", "time"])


@st.composite
def _event_dates(draw: st.DrawFn) -> EventDate:
    kind = draw(event_kinds)
    shape = draw(event_shapes)
    moment = time(draw(st.integers(0, 23)), draw(st.integers(0, 59)))
    if shape == "period":
        return EventDate(kind, draw(periods))
    if shape == "moment":
        return EventDate(kind, ServicePeriod.on(draw(days)), moment)
    return EventDate(kind, None, moment)


event_dates = _event_dates()
event_date_lists = st.lists(event_dates, max_size=2).map(tuple)


adjustments = st.lists(
    st.builds(
        Adjustment,
        st.sampled_from(["CO", "PR", "OA"]),
        codes,
        money,
        st.none() | quantities,
    ),
    max_size=8,
).map(tuple)
notes = st.lists(st.builds(Note, st.sampled_from(["ADD", "DCP"]), words), max_size=2).map(tuple)
modifiers = st.lists(st.sampled_from(["25", "59", "RT", "LT", "GP"]), max_size=4).map(tuple)

adjudications = st.builds(
    LineAdjudication,
    codes,
    money,
    codes,
    quantities,
    st.just("HC"),
    modifiers,
    maybe,
    st.none() | st.integers(1, 9),
    adjustments,
    st.none() | days,
    st.none() | money,
)


unit_kinds = st.sampled_from(["units", "minutes"])
line_places = st.sampled_from(["", "11", "22"])
maybe_periods = st.none() | periods
line_references = st.lists(st.builds(Reference, codes, words), max_size=2).map(tuple)
maybe_drugs = st.none() | st.builds(Drug, codes, quantities, st.sampled_from(["UN", "ML"]), maybe)
line_parties = role_parties(LINE_ROLES)
adjudication_lists = st.lists(adjudications, max_size=1).map(tuple)


@functools.cache
def service_lines(number: int, diagnoses: int) -> st.SearchStrategy[ServiceLine]:
    return _service_lines(number, diagnoses)


@st.composite
def _service_lines(draw: st.DrawFn, number: int, diagnoses: int) -> ServiceLine:
    pointers = draw(st.lists(st.integers(1, diagnoses), min_size=1, max_size=4))
    return ServiceLine(
        number,
        draw(codes),
        draw(money),
        draw(quantities),
        draw(unit_kinds),
        "HC",
        draw(modifiers),
        draw(maybe),
        draw(line_places),
        tuple(pointers),
        draw(st.booleans()),
        draw(st.booleans()),
        draw(st.booleans()),
        draw(maybe_periods),
        draw(event_date_lists),
        draw(line_references),
        draw(notes),
        draw(maybe_drugs),
        draw(line_parties),
        draw(adjudication_lists),
    )


other_payers = st.builds(
    OtherPayer,
    st.sampled_from(["P", "S", "T"]),
    parties("subscriber"),
    parties("payer"),
    maybe,
    maybe,
    maybe,
    maybe,
    maybe,
    adjustments,
    st.none() | money,
    st.none() | money,
    st.none() | money,
    st.sampled_from(["", "Y", "N"]),
    st.sampled_from(["", "P"]),
    st.sampled_from(["", "Y", "I"]),
    st.none() | days,
    role_parties(OTHER_PAYER_ROLES, exclude=("subscriber", "payer")),
)


@functools.cache
def pick(*values: str) -> st.SearchStrategy[str]:
    return st.sampled_from(values)


maybe_pay_to = st.none() | parties("pay_to", address=True)
maybe_pay_to_plan = st.none() | parties("pay_to_plan")
maybe_patients = st.none() | st.builds(Patient, parties("patient"), pick("19", "01"))


@st.composite
def contexts(draw: st.DrawFn) -> tuple[Submission, BillingProvider, Subscriber, Patient | None]:
    submission = Submission(
        draw(codes),
        draw(days),
        draw(pick("1200", "235959")),
        draw(parties("submitter")),
        draw(parties("receiver")),
        draw(pick("00", "18")),
        draw(pick("CH", "RP")),
    )
    billing = BillingProvider(
        draw(parties("billing_provider", address=True)),
        draw(maybe_pay_to),
        draw(maybe_pay_to_plan),
    )
    subscriber = Subscriber(
        draw(parties("subscriber")),
        draw(parties("payer")),
        draw(pick("P", "S")),
        draw(maybe),
        draw(maybe),
        draw(maybe),
        draw(maybe),
        draw(maybe),
    )
    patient = draw(maybe_patients)
    return submission, billing, subscriber, patient


all_contexts = contexts()
cause_lists = st.lists(pick("AA", "EM", "OA"), max_size=3).map(tuple)
other_diagnosis_lists = st.lists(st.builds(HealthCode, pick("BP", "BG"), codes), max_size=2).map(
    tuple
)
maybe_money = st.none() | money
claim_parties = role_parties(CLAIM_ROLES)
other_payer_lists = st.lists(other_payers, max_size=1).map(tuple)


@st.composite
def claims(draw: st.DrawFn) -> list[ProfessionalClaim]:
    submission, billing, subscriber, patient = draw(all_contexts)
    made = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            _, billing, subscriber, patient = draw(all_contexts)
        count = draw(st.integers(1, 12))
        diagnoses = tuple(
            HealthCode("ABK" if index == 0 else "ABF", draw(codes)) for index in range(count)
        )
        lines = tuple(
            draw(service_lines(number, count)) for number in range(1, draw(st.integers(1, 3)) + 1)
        )
        causes = draw(cause_lists)
        made.append(
            ProfessionalClaim(
                draw(words),
                Money(sum(line.charge.cents for line in lines)),
                draw(pick("11", "21")),
                draw(pick("", "1", "7")),
                submission,
                billing,
                subscriber,
                patient,
                lines,
                diagnoses,
                draw(other_diagnosis_lists),
                draw(st.booleans()),
                draw(pick("", "A", "C")),
                draw(pick("", "Y", "W")),
                draw(pick("", "I", "Y")),
                draw(pick("", "P")),
                causes,
                draw(pick("", "CA")),
                draw(pick("", "US")),
                draw(pick("", "03")),
                draw(pick("", "1")),
                draw(event_date_lists),
                tuple(draw(references)),
                draw(notes),
                draw(maybe_money),
                draw(claim_parties),
                draw(other_payer_lists),
            )
        )
    return made


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims())
def test_generated_claims_survive_write_then_read(written: list[ProfessionalClaim]) -> None:
    data = write_837p(
        written,
        sender="SENDER",
        receiver="RECEIVER",
        interchange_control_number=1,
        group_control_number=1,
        now=NOW,
    )
    reading = read_837p(data)
    assert list(reading) == written
    assert [result.outcome for result in reading.results] == [Outcome.ACCEPTED]


def _professional_files() -> list[str]:
    """The 837P conformance files whose interchange can be read at all."""
    found = []
    for path in sorted(CONFORMANCE.rglob("*")):
        data = path.read_bytes() if path.is_file() else b""
        if b"X222" not in data[:400] or b"ST*837" not in data:
            continue
        try:
            list(read_837p(data))
        except X12Error:
            continue  # ISA malformed or missing: nothing to write back.
        found.append(str(path.relative_to(CONFORMANCE)))
    return found


@pytest.mark.parametrize("relative", _professional_files())
def test_conformance_claims_survive_read_write_read(relative: str) -> None:
    first = list(read_837p((CONFORMANCE / relative).read_bytes()))
    data = write_837p(
        first,
        sender="SENDER",
        receiver="RECEIVER",
        interchange_control_number=7,
        group_control_number=7,
        now=NOW,
    )
    assert list(read_837p(data)) == first
