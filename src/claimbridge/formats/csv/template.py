"""The CSV charge template: its columns, its bounds, and reading its header.

One row is one service line. Claim-level columns (the patient, the
insurance, the billing provider, the place of service, the diagnoses)
repeat on every row of a claim and must agree; line-level columns (the
date, procedure, units, charge) describe the row's own line. The header
names the columns, in any order and any letter case; ``docs/csv-charges.md``
describes each one.

The bounds keep one row's memory small whatever the file holds: a row of
the template with every cell at its longest is under 2,000 characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from claimbridge.formats.csv import cells
from claimbridge.formats.csv.errors import (
    DuplicateColumn,
    HeaderMissing,
    MissingColumn,
    UnknownColumn,
)

__all__ = [
    "CLAIM",
    "COLUMNS",
    "COLUMNS_BY_NAME",
    "LINE",
    "MAX_COLUMNS",
    "MAX_LINES_PER_CLAIM",
    "MAX_ROW_CHARS",
    "Column",
    "Header",
    "read_header",
]

# A row (one CSV record, however many lines it spans) may hold at most this
# many characters, and at most this many cells.
MAX_ROW_CHARS = 16_384
MAX_COLUMNS = 64
# The 837P allows 50 service lines (LX) per claim.
MAX_LINES_PER_CLAIM = 50
MAX_DIAGNOSES = 12
MAX_MODIFIERS = 4

CLAIM = "claim"
LINE = "line"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header name, whether the header must name it, and its level.

    A required column's cell must be filled on every row. ``parse`` reads a
    filled cell (see ``cells``).
    """

    name: str
    level: str
    parse: cells.Parser
    required: bool = False
    cached: bool = True


def _claim(
    name: str, parse: cells.Parser, *, required: bool = False, cached: bool = True
) -> Column:
    return Column(name, CLAIM, parse, required, cached)


def _line(name: str, parse: cells.Parser, *, required: bool = False) -> Column:
    return Column(name, LINE, parse, required)


def _text(name: str, length: int, *, required: bool = False) -> Column:
    # Free text: cheap to check, rarely repeated, so its values are not kept.
    return Column(name, CLAIM, cells.text(length), required, cached=False)


# Lengths are the 837P elements' maximums (CLM01 38, NM103 60, NM104 35,
# NM109 80, N301 55, N401 30, SBR03 50, REF02 50).
COLUMNS: tuple[Column, ...] = (
    _text("claim_id", 38, required=True),
    _text("patient_account", 50),
    _text("patient_last_name", 60, required=True),
    _text("patient_first_name", 35, required=True),
    _claim("patient_birth_date", cells.iso_date, required=True, cached=False),
    _claim("patient_sex", cells.sex, required=True),
    _text("patient_address", 55),
    _text("patient_city", 30),
    _claim("patient_state", cells.state),
    _claim("patient_postal_code", cells.postal_code),
    _text("member_id", 80, required=True),
    _text("payer_name", 60, required=True),
    _text("payer_id", 80, required=True),
    _claim("relationship", cells.relationship),
    _text("subscriber_last_name", 60),
    _text("subscriber_first_name", 35),
    _claim("subscriber_birth_date", cells.iso_date, cached=False),
    _text("group_number", 50),
    _claim("billing_npi", cells.npi, required=True),
    _text("billing_name", 60, required=True),
    _claim("billing_tax_id", cells.tax_id),
    _claim("referring_npi", cells.npi),
    _claim("place_of_service", cells.place_of_service, required=True),
    _claim("diagnosis_1", cells.diagnosis, required=True),
    *(_claim(f"diagnosis_{n}", cells.diagnosis) for n in range(2, MAX_DIAGNOSES + 1)),
    _line("rendering_npi", cells.npi),
    _line("service_date", cells.iso_date, required=True),
    _line("service_date_end", cells.iso_date),
    _line("procedure_code", cells.procedure, required=True),
    *(_line(f"modifier_{n}", cells.modifier) for n in range(1, MAX_MODIFIERS + 1)),
    _line("units", cells.quantity, required=True),
    _line("charge", cells.amount, required=True),
    _line("diagnosis_pointers", cells.diagnosis_pointers, required=True),
    _line("ndc", cells.ndc),
    _line("ndc_quantity", cells.quantity),
    _line("ndc_unit", cells.ndc_unit),
)
COLUMNS_BY_NAME: Mapping[str, Column] = {column.name: column for column in COLUMNS}

# A header name is quoted in a refusal only when it looks like one; a file
# without a header has a row of patient data where the header should be.
_QUOTABLE_NAME = re.compile(r"[a-z0-9_ .\-#/()]{1,40}")


@dataclass(frozen=True, slots=True)
class Header:
    """Where each named column is in a row, and how many cells a row has."""

    index: Mapping[str, int]
    width: int

    @property
    def claim_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in COLUMNS if c.level == CLAIM and c.name in self.index)

    @property
    def line_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in COLUMNS if c.level == LINE and c.name in self.index)


def read_header(names: list[str]) -> Header:
    """The header row's columns; refuses unknown, repeated and missing ones (row 1)."""
    names = [name.strip().lower() for name in names]
    while names and not names[-1]:
        names.pop()  # Trailing empty header cells: a spreadsheet's stray commas.
    known = [name for name in names if name in COLUMNS_BY_NAME]
    if not known:
        raise HeaderMissing(_no_header_message(names), row=1)
    unknown = [(place, name) for place, name in enumerate(names, 1) if name not in COLUMNS_BY_NAME]
    if unknown:
        shown = ", ".join(_shown(place, name) for place, name in unknown)
        missing = _missing(known)
        also = f"; the required column(s) {', '.join(missing)} are missing" if missing else ""
        raise UnknownColumn(
            f"not a column of the charge template: {shown}{also}.",
            row=1,
            column=unknown[0][1] if _QUOTABLE_NAME.fullmatch(unknown[0][1]) else None,
        )
    repeated = sorted({name for name in known if known.count(name) > 1})
    if repeated:
        raise DuplicateColumn(
            f"the header names {', '.join(repeated)} more than once.", row=1, column=repeated[0]
        )
    missing = _missing(known)
    if missing:
        raise MissingColumn(
            f"the header lacks the required column(s) {', '.join(missing)}.",
            row=1,
            column=missing[0],
        )
    return Header({name: place for place, name in enumerate(names)}, len(names))


def _missing(known: list[str]) -> list[str]:
    return [column.name for column in COLUMNS if column.required and column.name not in known]


def _shown(place: int, name: str) -> str:
    if not name:
        return f"column {place} (no name)"
    if _QUOTABLE_NAME.fullmatch(name):
        return f"{name!r} (column {place})"
    return f"column {place} (a {len(name)}-character name)"


def _no_header_message(names: list[str]) -> str:
    if len(names) == 1:
        for separator, called in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            parts = {part.strip() for part in names[0].split(separator)}
            if parts & COLUMNS_BY_NAME.keys():
                return (
                    f"the columns are separated by {called}; the charge template "
                    "uses commas (save as CSV, comma-delimited)."
                )
    return (
        "the first row names none of the charge template's columns; "
        "it must be the header (claim_id, patient_last_name, ...)."
    )
