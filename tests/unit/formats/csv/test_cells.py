"""Each column's refusals: the row, the column, what is wrong, and never the value."""

from __future__ import annotations

import pytest

from claimbridge.formats.csv import COLUMNS, read_charges
from claimbridge.formats.csv.errors import CellInvalid, CellMissing, CsvError
from tests.unit.formats.csv.samples import ROW, charge_file, row

# (column, bad value, the start of the message). Each value carries "QZX",
# which no message ever contains, or is a code-shaped value checked below.
REFUSALS = [
    ("claim_id", "QZX" * 13, "longer than 38 characters."),
    ("patient_account", "QZX" * 17, "longer than 50 characters."),
    ("patient_last_name", "QZX" * 21, "longer than 60 characters."),
    ("patient_first_name", "QZX*Anne", "holds a line break, a control character or one of"),
    ("patient_first_name", "QZX\tAnne", "holds a line break"),
    ("patient_birth_date", "02/01/1970 QZX", "not a date in YYYY-MM-DD form."),
    ("patient_birth_date", "1970-02-30", "not a real calendar date."),
    ("patient_sex", "QZX", "not M, F or U."),
    ("patient_address", "QZX~1", "holds a line break"),
    ("patient_city", "QZX" * 11, "longer than 30 characters."),
    ("patient_state", "QZX", "not a state: two letters"),
    ("patient_postal_code", "QZX12", "not a ZIP code"),
    ("member_id", "QZX" * 27, "longer than 80 characters."),
    ("payer_name", "QZX^", "holds a line break"),
    ("payer_id", "QZX:1", "holds a line break"),
    ("relationship", "QZX-cousin", "not a relationship"),
    ("group_number", "QZX" * 17, "longer than 50 characters."),
    ("billing_npi", "QZX4567893", "not an NPI: an NPI is 10 digits."),
    ("billing_npi", "123456789", "not an NPI: an NPI is 10 digits."),
    ("billing_npi", "3234567893", "not an NPI: an NPI starts with 1 or 2."),
    ("billing_npi", "1234567890", "fails the NPI check digit"),
    ("billing_name", "QZX" * 21, "longer than 60 characters."),
    ("billing_tax_id", "QZX456789", "not an employer id"),
    ("rendering_npi", "1234567894", "fails the NPI check digit"),
    ("referring_npi", "QZX", "not an NPI"),
    ("place_of_service", "QZX", "not a place of service: two digits"),
    ("place_of_service", "98", "not an assigned CMS place-of-service code."),
    ("diagnosis_1", "QZX.9", "not an ICD-10-CM code"),
    ("diagnosis_2", "E1", "not an ICD-10-CM code"),
    ("service_date", "2025-13-01", "not a real calendar date."),
    ("service_date", "QZX", "not a date in YYYY-MM-DD form."),
    ("service_date_end", "2025-01-05", "before service_date."),
    ("procedure_code", "QZX1", "not a CPT or HCPCS code: five letters or digits."),
    ("procedure_code", "99-13", "not a CPT or HCPCS code"),
    ("modifier_1", "QZX", "not a procedure modifier: two letters or digits."),
    ("units", "QZX", "not a number"),
    ("units", "0.000", "must be greater than 0."),
    ("units", "1.2345", "not a number"),
    ("charge", "$100 QZX", "not an amount"),
    ("charge", "1,000.00", "not an amount"),
    ("charge", "10.005", "not an amount"),
    ("charge", "-5.00", "a charge cannot be negative."),
    ("diagnosis_pointers", "QZX", "not diagnosis pointers"),
    ("diagnosis_pointers", "1,2,3,4,1", "not diagnosis pointers"),
    ("diagnosis_pointers", "13", "a diagnosis pointer must be a number from 1 to 12."),
    ("diagnosis_pointers", "0", "a diagnosis pointer must be a number from 1 to 12."),
    ("diagnosis_pointers", "1,1", "names the same diagnosis pointer twice."),
    ("diagnosis_pointers", "3", "points at diagnosis_3, which is empty for this claim."),
    ("ndc", "QZX", "not a National Drug Code"),
    ("ndc", "0000302930", "not a National Drug Code"),
    ("ndc_unit", "QZX", "not a drug unit"),
]


def refuse(cells: dict[str, str]) -> list[CsvError]:
    reading = read_charges(charge_file(row(), cells))
    claims = list(reading)
    assert [claim.claim_id for claim in claims] == ["C1"]  # the good claim still reads
    return reading.errors


def bad_row(column: str, value: str) -> dict[str, str]:
    cells = row(claim_id="C2") | {column: value}
    if column.startswith("ndc_"):
        cells["ndc"] = "00003029305"
    return cells


@pytest.mark.parametrize(("column", "value", "message"), REFUSALS)
def test_a_refused_cell_names_row_column_and_what_is_wrong(
    column: str, value: str, message: str
) -> None:
    errors = refuse(bad_row(column, value))

    assert [(type(e), e.row, e.column) for e in errors] == [(CellInvalid, 3, column)]
    assert errors[0].message.startswith(message)
    assert str(errors[0]).startswith(f"row 3, column {column}: ")


@pytest.mark.parametrize(
    ("column", "value"), [(column, value) for column, value, _ in REFUSALS if "QZX" in value]
)
def test_a_refused_cell_value_never_appears_in_the_error(column: str, value: str) -> None:
    (error,) = refuse(bad_row(column, value))

    for shown in (str(error), error.message, error.where or "", repr(error.to_dict())):
        assert value not in shown
        assert "QZX" not in shown


@pytest.mark.parametrize(
    "column", [column.name for column in COLUMNS if column.required and column.name != "claim_id"]
)
def test_an_empty_required_cell_is_refused(column: str) -> None:
    errors = refuse(row(claim_id="C2", **{column: ""}))

    assert (type(errors[0]), errors[0].row, errors[0].column) == (CellMissing, 3, column)
    assert errors[0].message == "required."


def test_service_before_the_patients_birth_is_refused() -> None:
    errors = refuse(row(claim_id="C2", patient_birth_date="2025-02-01"))

    assert [(e.row, e.column, e.message) for e in errors] == [
        (3, "service_date", "before the patient's birth date.")
    ]


def test_half_an_address_is_refused_naming_the_missing_parts() -> None:
    errors = refuse(row(claim_id="C2", patient_city="", patient_postal_code=""))

    assert [(e.row, e.column) for e in errors] == [
        (3, "patient_city"),
        (3, "patient_postal_code"),
    ]
    assert all(isinstance(e, CellMissing) for e in errors)


def test_diagnoses_and_modifiers_fill_from_the_first() -> None:
    errors = refuse(row(claim_id="C2", diagnosis_2="", diagnosis_3="I10", modifier_2="25"))

    assert [(e.row, e.column) for e in errors] == [(3, "diagnosis_3"), (3, "modifier_2")]


def test_drug_quantity_or_unit_without_an_ndc_is_refused() -> None:
    errors = refuse(row(claim_id="C2", ndc_quantity="2", ndc_unit="ML"))

    assert [(e.row, e.column, e.message) for e in errors] == [
        (3, "ndc_quantity", "filled without an ndc."),
        (3, "ndc_unit", "filled without an ndc."),
    ]


def test_the_required_columns_are_the_documented_ones() -> None:
    assert [column.name for column in COLUMNS if column.required] == [
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
    assert set(ROW) >= {column.name for column in COLUMNS if column.required}
