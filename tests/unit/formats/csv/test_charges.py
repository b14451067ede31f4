"""Reading the CSV charge template: the example, grouping, defaults and row errors."""

from __future__ import annotations

import io
import tempfile
import tracemalloc
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from claimbridge.formats.csv import UNKNOWN_SUBMISSION, CsvError, read_charges
from claimbridge.formats.csv.errors import (
    CellInvalid,
    CellMissing,
    ClaimDisagrees,
    ClaimNotContiguous,
    RowLengthMismatch,
    TooManyLines,
)
from claimbridge.formats.x12 import read_837p, write_837p
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
from claimbridge.formats.x12.x837p import ProfessionalClaim, ServiceLine
from claimbridge.types import Money, ServicePeriod
from tests.unit.formats.csv.samples import (
    BILLING_NPI,
    EXAMPLE,
    OTHER_NPI,
    REFERRING_NPI,
    RENDERING_NPI,
    ROW,
    charge_file,
    row,
)


def read(data: bytes) -> tuple[list[ProfessionalClaim], list[CsvError]]:
    reading = read_charges(data)
    claims = list(reading)
    return claims, reading.errors


def where(errors: list[CsvError]) -> list[tuple[type[CsvError], int | None, str | None]]:
    return [(type(error), error.row, error.column) for error in errors]


# -- the example file ----------------------------------------------------------------


def test_example_file_reads_clean_into_its_five_claims() -> None:
    with EXAMPLE.open("rb") as stream:
        reading = read_charges(stream)
        claims = list(reading)
        assert not stream.closed  # the caller's stream is the caller's to close

    assert reading.accepted
    assert reading.errors == []
    assert (reading.rows, reading.claims_accepted, reading.claims_rejected) == (10, 5, 0)
    assert [claim.claim_id for claim in claims] == [f"CB-100{n}" for n in range(1, 6)]
    assert [len(claim.lines) for claim in claims] == [3, 3, 2, 1, 1]
    assert [str(claim.total_charge) for claim in claims] == [
        "185.50",
        "300.00",
        "258.00",
        "110.00",
        "160.00",
    ]


def test_example_first_claim_is_the_self_insured_patient_with_three_lines() -> None:
    claims, _ = read(EXAMPLE.read_bytes())
    claim = claims[0]

    person = Party(
        "subscriber",
        "Example",
        first_name="Alma",
        is_person=True,
        id_kind="member_id",
        identifier="XEX100200301",
        address=Address("100 Sample Street", "", "Springfield", "IL", "62701"),
        birth_date=date(1958, 3, 14),
        gender="F",
    )
    payer = Party("payer", "Example Health Plan", id_kind="payer_id", identifier="EXHP1")
    billing = Party(
        "billing_provider",
        "Example Family Practice",
        id_kind="npi",
        identifier="1234567893",
        references=(Reference("EI", "123456789"),),
    )
    day = ServicePeriod.on(date(2025, 1, 6))
    assert claim == ProfessionalClaim(
        claim_id="CB-1001",
        total_charge=Money(18550),
        place_of_service="11",
        frequency="1",
        submission=UNKNOWN_SUBMISSION,
        billing_provider=BillingProvider(billing),
        subscriber=Subscriber(person, payer, "P", relationship="18", group_number="GRP-0042"),
        patient=None,
        lines=(
            ServiceLine(
                1,
                "99214",
                Money(14500),
                Decimal(1),
                modifiers=("25",),
                diagnosis_pointers=(1, 2),
                service_date=day,
            ),
            ServiceLine(
                2, "83036", Money(2850), Decimal(1), diagnosis_pointers=(1,), service_date=day
            ),
            ServiceLine(
                3, "36415", Money(1200), Decimal(1), diagnosis_pointers=(1,), service_date=day
            ),
        ),
        diagnoses=(HealthCode("ABK", "E119"), HealthCode("ABF", "I10")),
        assignment="A",
        benefits_assigned="Y",
        release_of_information="Y",
        references=(Reference("EA", "ACC-5001"),),
        providers=(
            Party("rendering_provider", "", is_person=True, id_kind="npi", identifier="1987654328"),
        ),
    )


def test_example_dependant_claim_names_the_subscriber_and_the_drug() -> None:
    claims, _ = read(EXAMPLE.read_bytes())
    claim = claims[1]

    assert claim.patient is not None
    assert claim.patient.relationship == "19"
    assert (claim.patient.person.name, claim.patient.person.first_name) == ("Sample", "Theo")
    assert claim.patient.person.identifier == ""  # the member id is the subscriber's
    assert claim.subscriber.relationship == ""
    subscriber = claim.subscriber.person
    assert (subscriber.name, subscriber.first_name) == ("Sample", "Dana")
    assert (subscriber.identifier, subscriber.birth_date) == ("XEX300400502", date(1988, 11, 20))
    assert claim.lines[1].drug == Drug("00006468100", Decimal("0.5"), "ML")


def test_example_lines_with_different_rendering_providers_name_their_own() -> None:
    claims, _ = read(EXAMPLE.read_bytes())
    claim = claims[2]

    assert claim.rendering_provider is None
    assert claim.referring_provider is not None
    assert claim.referring_provider.npi == "1777000344"
    assert [line.rendering_provider.npi for line in claim.lines if line.rendering_provider] == [
        "1666000231",
        "1987654328",
    ]
    assert claim.lines[1].drug == Drug("00003029305", Decimal(40), "ME")


def test_example_service_period_spans_its_end_date() -> None:
    claims, _ = read(EXAMPLE.read_bytes())

    assert claims[4].lines[0].service_date == ServicePeriod(date(2025, 1, 21), date(2025, 1, 24))
    assert claims[4].lines[0].units == Decimal(4)


def test_csv_claims_write_as_837p_and_read_back_equal() -> None:
    # The ingest service's one path: what the CSV gives is what an 837P
    # carries. The template has no billing address (2010AA N3/N4), which the
    # 837P requires, so the biller's side adds the practice's.
    submission = Submission(
        "B1",
        date(2025, 1, 31),
        "1200",
        Party("submitter", "EXAMPLE FAMILY PRACTICE", id_kind="etin", identifier="EFP1"),
        Party("receiver", "CLEARINGHOUSE", id_kind="etin", identifier="CH1"),
    )
    reading = read_charges(EXAMPLE.read_bytes(), submission=submission)
    address = Address("1 Clinic Way", "", "Springfield", "IL", "62701")
    claims = []
    for claim in reading:
        provider = claim.billing_provider.provider
        billing = BillingProvider(
            Party(
                provider.role,
                provider.name,
                id_kind=provider.id_kind,
                identifier=provider.identifier,
                address=address,
                references=provider.references,
            )
        )
        claims.append(_replace_billing(claim, billing))

    x12 = write_837p(
        claims,
        sender="EFP1",
        receiver="CH1",
        interchange_control_number=1,
        group_control_number=1,
        now=datetime(2025, 1, 31, 12, 0),  # noqa: DTZ001 - the sender's local time
    )
    back = read_837p(x12)
    assert list(back) == claims
    assert back.errors == []


def _replace_billing(claim: ProfessionalClaim, billing: BillingProvider) -> ProfessionalClaim:
    return replace(claim, billing_provider=billing)


# -- grouping ------------------------------------------------------------------------


def test_contiguous_rows_of_a_claim_id_form_one_claim_with_numbered_lines() -> None:
    data = charge_file(
        row(procedure_code="99213", charge="100.00"),
        row(procedure_code="36415", charge="12.50", diagnosis_pointers="1"),
        row(claim_id="C2", procedure_code="99212", charge="80"),
    )
    claims, errors = read(data)

    assert errors == []
    assert [(claim.claim_id, len(claim.lines)) for claim in claims] == [("C1", 2), ("C2", 1)]
    assert [line.number for line in claims[0].lines] == [1, 2]
    assert claims[0].total_charge == Money(11250)
    assert claims[1].total_charge == Money(8000)


def test_claims_are_yielded_as_soon_as_their_rows_end() -> None:
    data = charge_file(row(), row(claim_id="C2"), row(claim_id="C3"))
    claims = iter(read_charges(data))

    assert next(claims).claim_id == "C1"
    assert next(claims).claim_id == "C2"


def test_same_rendering_provider_on_every_line_is_the_claims() -> None:
    claims, _ = read(charge_file(row(), row(procedure_code="36415")))

    assert claims[0].rendering_provider is not None
    assert claims[0].rendering_provider.npi == RENDERING_NPI
    assert all(line.providers == () for line in claims[0].lines)


def test_a_line_without_rendering_provider_keeps_the_others_on_their_lines() -> None:
    claims, _ = read(charge_file(row(), row(procedure_code="36415", rendering_npi="")))

    assert claims[0].rendering_provider is None
    assert [len(line.providers) for line in claims[0].lines] == [1, 0]


def test_dependant_needs_the_subscriber_columns() -> None:
    data = charge_file(row(relationship="spouse"))
    claims, errors = read(data)

    assert claims == []
    assert where(errors) == [
        (CellMissing, 2, "subscriber_last_name"),
        (CellMissing, 2, "subscriber_first_name"),
        (CellMissing, 2, "subscriber_birth_date"),
    ]


def test_relationship_takes_words_and_837p_codes() -> None:
    dependant = {
        "subscriber_last_name": "Parent",
        "subscriber_first_name": "Pat",
        "subscriber_birth_date": "1960-05-05",
    }
    data = charge_file(
        row(relationship="Life Partner", **dependant),
        row(claim_id="C2", relationship="G8", **dependant),
        row(claim_id="C3", relationship="SELF"),
    )
    claims, errors = read(data)

    assert errors == []
    assert [claim.patient.relationship if claim.patient else None for claim in claims] == [
        "53",
        "G8",
        None,
    ]


def test_subscriber_columns_repeating_the_patient_are_accepted_when_self() -> None:
    same = row(
        subscriber_last_name="ZYXWELLQV",
        subscriber_first_name="Quentinaz",
        subscriber_birth_date="1970-01-02",
    )
    claims, errors = read(charge_file(same))

    assert errors == []
    assert claims[0].patient is None


def test_subscriber_columns_differing_from_the_patient_are_refused_when_self() -> None:
    _, errors = read(charge_file(row(subscriber_first_name="Other")))

    assert where(errors) == [(CellInvalid, 2, "subscriber_first_name")]


def test_optional_columns_may_be_left_out_of_the_header() -> None:
    required = [
        "claim_id",
        "patient_last_name",
        "patient_first_name",
        "patient_birth_date",
        "patient_sex",
        "member_id",
        "payer_name",
        "payer_id",
        "billing_npi",
        "billing_name",
        "place_of_service",
        "diagnosis_1",
        "service_date",
        "procedure_code",
        "units",
        "charge",
        "diagnosis_pointers",
    ]
    claims, errors = read(charge_file(row(diagnosis_pointers="1"), columns=required))

    assert errors == []
    claim = claims[0]
    assert claim.patient is None
    assert claim.subscriber.person.address is None
    assert claim.references == ()
    assert claim.providers == ()
    assert claim.billing_provider.provider.tax_id is None


def test_header_names_are_case_insensitive_and_in_any_order() -> None:
    columns = ["Claim_ID", *reversed([name.upper() for name in ROW if name != "claim_id"])]
    cells = {name: ROW[name.lower()] for name in columns}
    claims, errors = read(charge_file(cells, columns=columns))

    assert errors == []
    assert claims[0].claim_id == "C1"


def test_cells_are_read_in_their_lenient_forms() -> None:
    data = charge_file(
        row(
            diagnosis_1=" e119 ",
            diagnosis_2="i10",
            procedure_code="j3301",
            modifier_1="rt",
            patient_sex="f",
            patient_state="pa",
            patient_postal_code="17601-1234",
            billing_tax_id="12-3456789",
            charge="100",
            units=".5",
            diagnosis_pointers=" 2 : 1 ",
            ndc="00003-0293-05",
            ndc_unit="me",
        )
    )
    claims, errors = read(data)

    assert errors == []
    claim = claims[0]
    line = claim.lines[0]
    assert [code.code for code in claim.diagnoses] == ["E119", "I10"]
    assert (line.procedure, line.modifiers, line.diagnosis_pointers) == ("J3301", ("RT",), (2, 1))
    assert (line.charge, line.units) == (Money(10000), Decimal("0.5"))
    assert line.drug == Drug("00003029305", Decimal("0.5"), "ME")
    address = claim.subscriber.person.address
    assert address is not None
    assert (address.state, address.postal_code) == ("PA", "176011234")
    assert claim.subscriber.person.gender == "F"
    assert claim.billing_provider.provider.tax_id == "123456789"


def test_blank_rows_are_skipped_and_row_numbers_count_them() -> None:
    data = charge_file(row(), {}, row(claim_id="C2", charge="x"))
    claims, errors = read(data)

    assert [claim.claim_id for claim in claims] == ["C1"]
    assert where(errors) == [(CellInvalid, 4, "charge")]


def test_a_quoted_cell_spanning_lines_is_one_row() -> None:
    data = charge_file(row(patient_address="12 Test Lane\nFlat 2"), row(claim_id="C2"))
    claims, errors = read(data)

    assert [claim.claim_id for claim in claims] == ["C2"]
    assert where(errors) == [(CellInvalid, 2, "patient_address")]
    assert "line break" in errors[0].message


# -- row errors and rejection ----------------------------------------------------------


def test_a_claim_with_one_bad_row_is_rejected_whole_and_the_others_are_read() -> None:
    data = charge_file(
        row(),
        row(claim_id="C2"),
        row(claim_id="C2", procedure_code="36415", service_date="2025-02-30"),
        row(claim_id="C2", procedure_code="99000"),
        row(claim_id="C3"),
    )
    reading = read_charges(data)
    claims = list(reading)

    assert [claim.claim_id for claim in claims] == ["C1", "C3"]
    assert where(reading.errors) == [(CellInvalid, 4, "service_date")]
    assert str(reading.errors[0]) == "row 4, column service_date: not a real calendar date."
    assert (reading.claims_accepted, reading.claims_rejected, reading.rows) == (2, 1, 5)
    assert not reading.accepted
    with pytest.raises(CellInvalid) as raised:
        reading.raise_for_errors()
    assert raised.value is reading.errors[0]


def test_every_bad_cell_of_a_row_is_reported() -> None:
    data = charge_file(row(patient_sex="X", billing_npi="1234567890", units="0", charge=""))
    _, errors = read(data)

    assert where(errors) == [
        (CellInvalid, 2, "patient_sex"),
        (CellInvalid, 2, "billing_npi"),
        (CellInvalid, 2, "units"),
        (CellMissing, 2, "charge"),
    ]
    assert [error.message for error in errors] == [
        "not M, F or U.",
        "fails the NPI check digit (Luhn over the prefix 80840).",
        "must be greater than 0.",
        "required.",
    ]


def test_claim_level_cell_differing_between_rows_names_the_row_and_column() -> None:
    data = charge_file(
        row(),
        row(procedure_code="36415"),
        row(procedure_code="99000", payer_id="OTHER1", place_of_service="22"),
    )
    claims, errors = read(data)

    assert claims == []
    assert where(errors) == [
        (ClaimDisagrees, 4, "payer_id"),
        (ClaimDisagrees, 4, "place_of_service"),
    ]
    assert "first row (row 2)" in errors[0].message


def test_claim_level_cells_agree_when_only_their_form_differs() -> None:
    data = charge_file(
        row(),
        row(procedure_code="36415", diagnosis_1="e119", patient_last_name="ZYXWELLQV"),
    )
    claims, errors = read(data)

    assert errors == []
    assert claims[0].subscriber.person.name == "Zyxwellqv"  # the first row's form


def test_a_different_patient_under_the_same_claim_id_is_refused() -> None:
    data = charge_file(row(), row(patient_first_name="Other", patient_birth_date="1980-01-01"))
    _, errors = read(data)

    assert where(errors) == [
        (ClaimDisagrees, 3, "patient_first_name"),
        (ClaimDisagrees, 3, "patient_birth_date"),
    ]


def test_claim_id_reappearing_after_another_claim_is_refused_with_its_row() -> None:
    data = charge_file(row(), row(claim_id="C2"), row(procedure_code="36415"), row(claim_id="C3"))
    reading = read_charges(data)
    claims = list(reading)

    assert [claim.claim_id for claim in claims] == ["C1", "C2", "C3"]
    assert where(reading.errors) == [(ClaimNotContiguous, 4, "claim_id")]
    assert not reading.accepted


def test_a_row_without_claim_id_rejects_the_claim_above_it() -> None:
    data = charge_file(row(), row(claim_id="", procedure_code="36415"), row(claim_id="C2"))
    claims, errors = read(data)

    assert [claim.claim_id for claim in claims] == ["C2"]
    assert where(errors) == [(CellMissing, 3, "claim_id")]


def test_a_first_row_without_claim_id_is_rejected() -> None:
    claims, errors = read(charge_file(row(claim_id=""), row(claim_id="C2")))

    assert [claim.claim_id for claim in claims] == ["C2"]
    assert where(errors) == [(CellMissing, 2, "claim_id")]


def test_a_row_with_fewer_cells_than_the_header_is_refused() -> None:
    good = charge_file(row())
    data = good + b"C2,ACCT,Short\n" + charge_file(row(claim_id="C3")).split(b"\n", 1)[1]
    claims, errors = read(data)

    assert [claim.claim_id for claim in claims] == ["C1", "C3"]
    assert where(errors) == [(RowLengthMismatch, 3, None)]


def test_a_row_filling_cells_past_the_header_is_refused() -> None:
    data = charge_file(row(), row(claim_id="C2")).rstrip(b"\n")
    claims, errors = read(data + b",extra\n")

    assert [claim.claim_id for claim in claims] == ["C1"]
    assert where(errors) == [(RowLengthMismatch, 3, None)]
    assert "extra" not in str(errors[0])


def test_trailing_empty_cells_past_the_header_are_ignored() -> None:
    data = charge_file(row()).replace(b"\n", b",,\n")
    claims, errors = read(data)

    assert errors == []
    assert len(claims) == 1


def test_more_than_fifty_lines_in_a_claim_is_refused_once() -> None:
    rows = [row(procedure_code="99213") for _ in range(53)]
    claims, errors = read(charge_file(*rows, row(claim_id="C2")))

    assert [claim.claim_id for claim in claims] == ["C2"]
    assert where(errors) == [(TooManyLines, 52, None)]


def test_fifty_lines_in_a_claim_are_read() -> None:
    claims, errors = read(charge_file(*[row() for _ in range(50)]))

    assert errors == []
    assert len(claims[0].lines) == 50


def test_errors_kept_are_bounded_and_all_are_counted() -> None:
    rows = [row(claim_id=f"C{n}", charge="bad") for n in range(30)]
    reading = read_charges(charge_file(*rows), max_errors=10)
    assert list(reading) == []

    assert len(reading.errors) == 10
    assert reading.error_count == 30
    assert reading.claims_rejected == 30


def test_a_reading_is_iterated_once() -> None:
    reading = read_charges(charge_file(row()))
    list(reading)

    with pytest.raises(RuntimeError):
        iter(reading)


def test_reads_a_binary_stream_without_closing_it() -> None:
    stream = io.BytesIO(charge_file(row(), row(claim_id="C2")))
    claims = list(read_charges(stream))

    assert len(claims) == 2
    assert not stream.closed


def test_the_caller_can_name_the_submission() -> None:
    submission = Submission(
        "BATCH-9",
        date(2025, 2, 1),
        "0930",
        Party("submitter", "PRACTICE"),
        Party("receiver", "BILLER"),
    )
    claims = list(read_charges(charge_file(row()), submission=submission))

    assert claims[0].submission is submission


def test_dependant_patient_carries_no_member_id_of_its_own() -> None:
    data = charge_file(
        row(
            relationship="child",
            subscriber_last_name="Parent",
            subscriber_first_name="Pat",
            subscriber_birth_date="1960-05-05",
        )
    )
    claims, _ = read(data)
    claim = claims[0]

    assert claim.patient == Patient(
        Party(
            "patient",
            "Zyxwellqv",
            first_name="Quentinaz",
            is_person=True,
            address=Address("12 Test Lane", "", "Testville", "PA", "17601"),
            birth_date=date(1970, 1, 2),
            gender="F",
        ),
        "19",
    )
    assert claim.subscriber.person.identifier == ROW["member_id"]
    assert claim.subscriber.person.address is None


def test_referring_provider_and_billing_npi_are_checked() -> None:
    claims, errors = read(charge_file(row(referring_npi=REFERRING_NPI, rendering_npi=OTHER_NPI)))

    assert errors == []
    assert claims[0].referring_provider is not None
    assert claims[0].referring_provider.npi == REFERRING_NPI
    assert claims[0].billing_provider.provider.npi == BILLING_NPI


# -- memory ----------------------------------------------------------------------------


def _peak_reading(claims: int) -> int:
    line = charge_file(row()).split(b"\n", 1)[1]
    rest = line.split(b",", 1)[1]
    with tempfile.TemporaryFile() as stream:
        stream.write(charge_file())
        for n in range(claims):
            stream.write(b"K%08d," % n + rest)
        stream.seek(0)
        tracemalloc.start()
        try:
            count = sum(1 for _ in read_charges(stream))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert count == claims
    return peak


def test_memory_stays_flat_but_for_the_claim_ids_seen() -> None:
    small, large = _peak_reading(400), _peak_reading(3200)

    # Claims are not kept once yielded; only the set of claim ids grows, at
    # about a hundred bytes a claim (a short string and its set slot).
    assert small < 1_000_000
    assert (large - small) / (3200 - 400) < 200
