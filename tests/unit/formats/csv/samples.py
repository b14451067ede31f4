"""Charge files for the CSV tests: one valid row to change, and a writer of rows.

Everything here is synthetic. The patient's names and member id are odd
tokens so that a test can look for them in an error message and be sure
any hit is a leak.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

EXAMPLE = Path(__file__).parents[4] / "docs" / "examples" / "charges.csv"

BILLING_NPI = "1234567893"
RENDERING_NPI = "1987654328"
OTHER_NPI = "1555000128"
REFERRING_NPI = "1777000344"

# One valid row: a self-insured patient's office visit.
ROW: dict[str, str] = {
    "claim_id": "C1",
    "patient_account": "ACCT77",
    "patient_last_name": "Zyxwellqv",
    "patient_first_name": "Quentinaz",
    "patient_birth_date": "1970-01-02",
    "patient_sex": "F",
    "patient_address": "12 Test Lane",
    "patient_city": "Testville",
    "patient_state": "PA",
    "patient_postal_code": "17601",
    "member_id": "MEMQZ123456",
    "payer_name": "Test Payer",
    "payer_id": "TP001",
    "relationship": "self",
    "group_number": "G1",
    "billing_npi": BILLING_NPI,
    "billing_name": "Test Clinic",
    "billing_tax_id": "123456789",
    "rendering_npi": RENDERING_NPI,
    "place_of_service": "11",
    "diagnosis_1": "E11.9",
    "diagnosis_2": "I10",
    "service_date": "2025-01-06",
    "procedure_code": "99213",
    "units": "1",
    "charge": "100.00",
    "diagnosis_pointers": "1,2",
}
# The header of files built from ROW: every column of the template that
# ROW fills, plus the optional ones tests change.
COLUMNS: tuple[str, ...] = (
    *ROW,
    "subscriber_last_name",
    "subscriber_first_name",
    "subscriber_birth_date",
    "referring_npi",
    "diagnosis_3",
    "diagnosis_4",
    "service_date_end",
    "modifier_1",
    "modifier_2",
    "ndc",
    "ndc_quantity",
    "ndc_unit",
)


def row(**changes: str) -> dict[str, str]:
    """ROW with some cells changed."""
    return ROW | changes


def charge_file(
    *rows: dict[str, str],
    columns: Sequence[str] = COLUMNS,
    newline: str = "\n",
    bom: bool = False,
) -> bytes:
    """A charge file of ``rows`` under a header of ``columns``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(columns)
    for cells in rows:
        writer.writerow([cells.get(column, "") for column in columns])
    data = buffer.getvalue().encode("utf-8")
    return b"\xef\xbb\xbf" + data if bom else data
