"""read(write(claims)) == claims for every claim the template can carry."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimbridge.formats.csv import HEADER, iter_charges, read_charges, write_charges
from claimbridge.formats.csv.cells import NDC_UNITS, RELATIONSHIPS
from claimbridge.formats.x12.records837 import (
    Address,
    BillingProvider,
    Drug,
    HealthCode,
    Party,
    Patient,
    Reference,
    Submission,
    Subscriber,
)
from claimbridge.formats.x12.synthetic import synthetic_claims
from claimbridge.formats.x12.x837p import ProfessionalClaim, ServiceLine
from claimbridge.types import Money, ServicePeriod, check_digit
from tests.unit.formats.csv.samples import EXAMPLE

SUBMISSION = Submission(
    "B7", date(2025, 3, 1), "0800", Party("submitter", "PRACTICE"), Party("receiver", "BILLER")
)
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALNUM = UPPER + "0123456789"
# Commas, quotes and accents make the writer quote and the reader unquote.
NAME_CHARS = UPPER + "abcdefghijklmnopqrstuvwxyzéñÖ '-.,\"&"

names = st.text(NAME_CHARS, min_size=1, max_size=30).map(str.strip).filter(bool)
maybe_name = st.one_of(st.just(""), names)
identifiers = st.text(ALNUM + "-", min_size=2, max_size=20)
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31))
genders = st.sampled_from(["M", "F", "U"])
quantities = st.one_of(
    st.integers(min_value=1, max_value=99_999).map(Decimal),
    st.sampled_from([Decimal("0.5"), Decimal("1.25"), Decimal("0.001"), Decimal("2.50")]),
)


# Every strategy is built once, here: one built inside a composite is built,
# and checked, again at every draw, which cost more than the drawing.


def _with_check_digit(first: str, rest: str) -> str:
    nine = first + rest
    return nine + check_digit(nine)


npis = st.builds(
    _with_check_digit, st.sampled_from("12"), st.text("0123456789", min_size=8, max_size=8)
)
diagnosis_codes = st.builds(
    lambda letter, digit, rest: letter + digit + rest,
    st.sampled_from(UPPER),
    st.sampled_from("0123456789"),
    st.text(ALNUM, min_size=1, max_size=5),
)


addresses = st.builds(
    Address,
    names.filter(lambda name: len(name) <= 55),
    st.just(""),
    names,
    st.text(UPPER, min_size=2, max_size=2),
    st.one_of(
        st.text("0123456789", min_size=5, max_size=5), st.text("0123456789", min_size=9, max_size=9)
    ),
)
maybe_identifier = st.one_of(st.just(""), identifiers)
maybe_address = st.one_of(st.none(), addresses)
relationships = st.sampled_from(sorted(set(RELATIONSHIPS.values())))


def provider(role: str, npi: str) -> Party:
    return Party(role, "", is_person=True, id_kind="npi", identifier=npi)


@st.composite
def insured(draw: st.DrawFn) -> tuple[Subscriber, Patient | None, date]:
    payer = Party("payer", draw(names), id_kind="payer_id", identifier=draw(identifiers))
    member = draw(identifiers)
    group = draw(maybe_identifier)
    born = draw(births)
    address = draw(maybe_address)
    code = draw(relationships)
    first, last, gender = draw(names), draw(names), draw(genders)
    if code == "18":
        person = Party(
            "subscriber",
            last,
            first_name=first,
            is_person=True,
            id_kind="member_id",
            identifier=member,
            address=address,
            birth_date=born,
            gender=gender,
        )
        return Subscriber(person, payer, "P", relationship="18", group_number=group), None, born
    holder = Party(
        "subscriber",
        draw(names),
        first_name=draw(names),
        is_person=True,
        id_kind="member_id",
        identifier=member,
        birth_date=draw(births),
    )
    patient = Party(
        "patient",
        last,
        first_name=first,
        is_person=True,
        address=address,
        birth_date=born,
        gender=gender,
    )
    return Subscriber(holder, payer, "P", group_number=group), Patient(patient, code), born


insureds = insured()
diagnosis_lists = st.lists(diagnosis_codes, min_size=1, max_size=12)
renderer_lists = st.lists(npis, min_size=1, max_size=2)
line_counts = st.integers(min_value=1, max_value=5)
days_after_birth = st.integers(min_value=0, max_value=30_000)
lengths_of_stay = st.sampled_from([0, 0, 1, 5])
drugs = st.one_of(
    st.none(),
    st.builds(
        Drug,
        st.text("0123456789", min_size=11, max_size=11),
        quantities,
        st.sampled_from(sorted(NDC_UNITS)),
    ),
)
procedures = st.text(ALNUM, min_size=5, max_size=5)
charges = st.integers(min_value=0, max_value=10**11).map(Money)
modifier_lists = st.lists(st.text(ALNUM, min_size=2, max_size=2), max_size=4).map(tuple)
pointer_lists = {
    count: st.lists(
        st.integers(min_value=1, max_value=count), min_size=1, max_size=4, unique=True
    ).map(tuple)
    for count in range(1, 13)
}
"""Diagnosis pointers for a claim of 1 to 12 diagnoses."""
maybe_account = st.one_of(st.just(""), identifiers)
maybe_tax_id = st.one_of(st.just(""), st.text("0123456789", min_size=9, max_size=9))
maybe_referring = st.one_of(st.none(), npis)
places_of_service = st.sampled_from(["11", "02", "10", "22", "81"])


@st.composite
def claims(draw: st.DrawFn, claim_id: str) -> ProfessionalClaim:
    subscriber, patient, born = draw(insureds)
    diagnoses = draw(diagnosis_lists)
    renderers = draw(renderer_lists)
    count = draw(line_counts)
    choices = draw(st.lists(st.sampled_from((None, *renderers)), min_size=count, max_size=count))
    # The reader's rule: one rendering provider on every line is the claim's.
    shared = choices[0] if len(set(choices)) == 1 else None
    lines = []
    for number, rendering in enumerate(choices, start=1):
        first = born + timedelta(days=draw(days_after_birth))
        last = first + timedelta(days=draw(lengths_of_stay))
        units = draw(quantities)
        drug = draw(drugs)
        lines.append(
            ServiceLine(
                number,
                draw(procedures),
                draw(charges),
                units,
                modifiers=draw(modifier_lists),
                diagnosis_pointers=draw(pointer_lists[len(diagnoses)]),
                service_date=ServicePeriod(first, last),
                drug=drug,
                providers=(provider("rendering_provider", rendering),)
                if rendering and not shared
                else (),
            )
        )
    account = draw(maybe_account)
    tax_id = draw(maybe_tax_id)
    referring = draw(maybe_referring)
    providers = tuple(
        party
        for party in (
            provider("referring_provider", referring) if referring else None,
            provider("rendering_provider", shared) if shared else None,
        )
        if party is not None
    )
    return ProfessionalClaim(
        claim_id=claim_id,
        total_charge=Money(sum(line.charge.cents for line in lines)),
        place_of_service=draw(places_of_service),
        frequency="1",
        submission=SUBMISSION,
        billing_provider=BillingProvider(
            Party(
                "billing_provider",
                draw(names),
                id_kind="npi",
                identifier=draw(npis),
                references=(Reference("EI", tax_id),) if tax_id else (),
            )
        ),
        subscriber=subscriber,
        patient=patient,
        lines=tuple(lines),
        diagnoses=tuple(
            HealthCode("ABK" if n == 0 else "ABF", code) for n, code in enumerate(diagnoses)
        ),
        assignment="A",
        benefits_assigned="Y",
        release_of_information="Y",
        references=(Reference("EA", account),) if account else (),
        providers=providers,
    )


CLAIMS = [claims(f"CLM-{n}") for n in range(4)]


@st.composite
def claim_lists(draw: st.DrawFn) -> list[ProfessionalClaim]:
    count = draw(st.integers(min_value=1, max_value=4))
    return [draw(CLAIMS[n]) for n in range(count)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claim_lists())
def test_reading_what_was_written_gives_the_claims_back(written: list[ProfessionalClaim]) -> None:
    reading = read_charges(write_charges(written), submission=SUBMISSION)
    back = list(reading)

    assert [str(error) for error in reading.errors] == []
    assert back == written


def test_synthetic_demo_claims_write_to_a_file_that_reads_clean() -> None:
    # What the template carries of the 837P demo claims: the same claims
    # less their onset dates, prior authorizations and provider names.
    written = list(synthetic_claims(300, seed=11))
    reading = read_charges(write_charges(written))
    back = list(reading)

    assert reading.accepted
    assert [claim.claim_id for claim in back] == [claim.claim_id for claim in written]
    assert [claim.total_charge for claim in back] == [claim.total_charge for claim in written]
    assert [claim.diagnoses for claim in back] == [claim.diagnoses for claim in written]
    assert [claim.subscriber.person.identifier for claim in back] == [
        claim.subscriber.person.identifier for claim in written
    ]


def test_the_example_survives_a_write_and_a_read() -> None:
    claims = list(read_charges(EXAMPLE.read_bytes()))

    assert list(read_charges(write_charges(claims))) == claims


def test_written_files_have_the_full_header_and_a_row_per_line() -> None:
    claims = list(read_charges(EXAMPLE.read_bytes()))
    rows = list(csv.reader(io.StringIO(write_charges(claims).decode("utf-8"), newline="")))

    assert tuple(rows[0]) == HEADER
    assert len(rows) == 1 + sum(len(claim.lines) for claim in claims)
    assert write_charges(claims).count(b"\r\n") == len(rows)


def test_iter_charges_gives_the_header_with_the_first_claim_then_one_piece_a_claim() -> None:
    claims = list(read_charges(EXAMPLE.read_bytes()))
    pieces = list(iter_charges(claims))

    assert len(pieces) == len(claims)
    assert b"".join(pieces) == write_charges(claims)


def test_no_claims_write_a_header_alone() -> None:
    assert write_charges([]) == ",".join(HEADER).encode() + b"\r\n"
