"""The OIG List of Excluded Individuals/Entities (LEIE): the CSV in, ``Exclusion`` records out.

``read_leie(source)`` reads the full list (``UPDATED.csv``) and the monthly
supplements (``YYMMEXCL.csv`` additions, ``YYMMREIN.csv`` reinstatements,
``sancYYMM``/``reinYYMM`` in 2015) alike: one header row naming the 18
columns of OIG's record layout, then one row per individual or entity.
Columns are found by their header names (``ZIP CODE`` and ``WAIVERSTATE``,
the layout document's spellings, are accepted for ``ZIP`` and
``WVRSTATE``); header names the layout does not have are ignored.

The quirks of the published files, each handled per value:

* dates are ``YYYYMMDD`` in newer files and ``MM/DD/YY`` in the 2015-2016
  supplements (``MM/DD/YYYY`` is read too); ``00000000`` and an empty cell
  mean none. A two-digit birth year takes the latest century that does not
  put the birth after the row's exclusion date (``10/29/83`` in a 2016 row
  is 1983, ``01/01/30`` is 1930); a two-digit event year uses the POSIX
  pivot (69-99 are 19xx, 00-68 are 20xx);
* DOB is blank for entities (and for some individuals); NPI ``0000000000``
  (any run of zeros) or blank means the party has none;
* EXCLTYPE is space-padded (``"1128a1   "``) and has typos (``1128Aa``):
  ``exclusion_type`` collapses spaces and lower-cases statutory codes
  (``1128b14``), upper-cases the others (``BRCH CIA``), and
  ``exclusion_type_raw`` keeps the cell as published;
* MIDNAME is often a single space; every text cell is stripped;
* reinstatement rows carry REINDATE; exclusion rows have ``00000000``.

A row must have exactly as many cells as the header, name an individual
(LASTNAME) or an entity (BUSNAME), and have an exclusion type and date.
Errors name the row and the column, never a value: the rows name real
people and their dates of birth. Layout: HHS-OIG ``leie_record_layout.pdf``;
the files' quirks: ``tests/vectors/conformance/SOURCES.md``, ``cms/leie/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

from claimbridge.formats.cms.cells import compact_date, event_year, slash_date
from claimbridge.formats.cms.errors import (
    CellInvalid,
    CellMissing,
    HeaderInvalid,
    HeaderNotFound,
    RowLengthMismatch,
)
from claimbridge.formats.cms.source import read_records

__all__ = [
    "LEIE_COLUMNS",
    "Exclusion",
    "normalise_exclusion_type",
    "read_leie",
    "two_digit_birth",
]

LEIE_COLUMNS = (
    "LASTNAME",
    "FIRSTNAME",
    "MIDNAME",
    "BUSNAME",
    "GENERAL",
    "SPECIALTY",
    "UPIN",
    "NPI",
    "DOB",
    "ADDRESS",
    "CITY",
    "STATE",
    "ZIP",
    "EXCLTYPE",
    "EXCLDATE",
    "REINDATE",
    "WAIVERDATE",
    "WVRSTATE",
)
"""The header names as OIG publishes them, in the order of its files."""

_ALIASES = {"ZIP CODE": "ZIP", "WAIVERSTATE": "WVRSTATE"}
_NO_DATE = frozenset({"", "00000000"})


@dataclass(frozen=True, slots=True)
class Exclusion:
    """One row of the LEIE: an excluded (or reinstated) individual or entity.

    Text is as published, stripped; ``""`` where the cell is empty. The
    personal fields stay out of ``repr``, so a record in a log or a failing
    test's output does not print a person's name or birth date.
    """

    last_name: str = field(repr=False)
    first_name: str = field(repr=False)
    middle_name: str = field(repr=False)
    business_name: str
    general: str
    specialty: str
    upin: str | None
    npi: str | None
    birth_date: date | None = field(repr=False)
    address: str = field(repr=False)
    city: str
    state: str
    zip_code: str
    exclusion_type: str
    exclusion_type_raw: str
    exclusion_date: date
    reinstatement_date: date | None
    waiver_date: date | None
    waiver_state: str | None

    @property
    def is_entity(self) -> bool:
        """An entity (BUSNAME) rather than an individual (LASTNAME)."""
        return not self.last_name


def normalise_exclusion_type(raw: str) -> str:
    """``"1128a1   "`` → ``1128a1``, ``1128Aa`` → ``1128aa``, ``brch  cia`` → ``BRCH CIA``.

    Statutory codes (sections of the Social Security Act, which start with
    a digit) are written in lower case by OIG; other values in upper case.
    """
    code = " ".join(raw.split())
    return code.lower() if code[:1].isdigit() else code.upper()


def read_leie(source: bytes | BinaryIO) -> Iterator[Exclusion]:
    """Every row of an LEIE file as an ``Exclusion``; raises ``CmsError`` at the first bad row."""
    records = read_records(source, delimiter=",")
    first = next(records, None)
    if first is None:
        raise HeaderNotFound("the file is empty; an LEIE file starts with its header row.", row=1)
    positions = _positions(first[1])
    width = len(first[1])
    for row, cells in records:
        if not cells:  # a blank line, as at the end of some downloads
            continue
        if len(cells) != width:
            raise _length_mismatch(row, len(cells), first[1])
        yield _exclusion([cells[index] for index in positions], row)


def _header_name(cell: str) -> str:
    name = " ".join(cell.split()).upper()
    return _ALIASES.get(name, name)


def _positions(header: list[str]) -> tuple[int, ...]:
    """Where each of ``LEIE_COLUMNS`` is in the file, in that order."""
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = _header_name(cell)
        if name not in LEIE_COLUMNS:
            continue
        if name in found:
            raise HeaderInvalid(f"the header names column {name} twice.", row=1, column=name)
        found[name] = index
    if not found:
        raise HeaderNotFound(
            "the first row is not the LEIE header (LASTNAME, FIRSTNAME, ... WVRSTATE).", row=1
        )
    missing = [name for name in LEIE_COLUMNS if name not in found]
    if missing:
        raise HeaderInvalid(
            f"the header lacks column {missing[0]}"
            + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
            + "; an LEIE file has the 18 columns of OIG's record layout.",
            row=1,
            column=missing[0],
        )
    return tuple(found[name] for name in LEIE_COLUMNS)


def _length_mismatch(row: int, cells: int, header: list[str]) -> RowLengthMismatch:
    width = len(header)
    # Name the first column the row lacks, or the first it has too many; a
    # column the layout does not have goes by its number, not its header text.
    column = str(min(cells, width) + 1)
    if cells < width and _header_name(header[cells]) in LEIE_COLUMNS:
        column = _header_name(header[cells])
    return RowLengthMismatch(
        f"the row has {cells} cells; the header has {width} columns.", row=row, column=column
    )


def _exclusion(cells: list[str], row: int) -> Exclusion:
    (last, first, middle, business, general, specialty, upin, npi, dob) = (
        cell.strip() for cell in cells[:9]
    )
    (address, city, state, zip_code, kind, excluded, reinstated, waived, waiver_state) = (
        cell.strip() for cell in cells[9:]
    )
    if not last and not business:
        raise CellMissing(
            "the row names neither an individual (LASTNAME) nor an entity (BUSNAME).",
            row=row,
            column="LASTNAME",
        )
    if not kind:
        raise CellMissing("the exclusion type is empty.", row=row, column="EXCLTYPE")
    exclusion_date = _date(excluded, row, "EXCLDATE")
    if exclusion_date is None:
        raise CellMissing("the exclusion date is empty or 00000000.", row=row, column="EXCLDATE")
    return Exclusion(
        last_name=last,
        first_name=first,
        middle_name=middle,
        business_name=business,
        general=general,
        specialty=specialty,
        upin=upin or None,
        npi=_npi(npi, row),
        birth_date=_date(dob, row, "DOB", born_by=exclusion_date),
        address=address,
        city=city,
        state=state,
        zip_code=zip_code,
        exclusion_type=normalise_exclusion_type(kind),
        exclusion_type_raw=cells[13],
        exclusion_date=exclusion_date,
        reinstatement_date=_date(reinstated, row, "REINDATE"),
        waiver_date=_date(waived, row, "WAIVERDATE"),
        waiver_state=waiver_state or None,
    )


def _npi(text: str, row: int) -> str | None:
    if not text.strip("0"):  # blank, or OIG's 0000000000 for "no NPI"
        return None
    # The check digit is not checked: screening matches the NPI OIG lists,
    # and refusing the list over one mistyped NPI would stop all screening.
    if len(text) != 10 or not text.isascii() or not text.isdigit():
        raise CellInvalid("an NPI is 10 digits (0000000000 for none).", row=row, column="NPI")
    return text


def _date(text: str, row: int, column: str, *, born_by: date | None = None) -> date | None:
    """A date in either of OIG's forms, None for none; ``born_by`` resolves a birth's ``YY``."""
    if text in _NO_DATE:
        return None
    value = compact_date(text)
    if value is not None:
        return value
    parts = slash_date(text)
    if parts is not None:
        month, day, year, two_digits = parts
        if not two_digits:
            value = _checked(year, month, day)
        elif born_by is None:
            value = _checked(event_year(year), month, day)
        else:
            value = two_digit_birth(year, month, day, excluded=born_by)
            if value is None and _checked(2000 + year, month, day) is not None:
                raise CellInvalid(
                    "the two-digit year puts the birth after the exclusion date in either century.",
                    row=row,
                    column=column,
                )
        if value is not None:
            return value
    raise CellInvalid("not a date in YYYYMMDD or MM/DD/YY form.", row=row, column=column)


def _checked(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def two_digit_birth(two_digits: int, month: int, day: int, *, excluded: date) -> date | None:
    """The birth date ``MM/DD/YY`` means: the latest of 20YY and 19YY not after ``excluded``.

    None when neither century gives a real date on or before the exclusion.
    """
    for year in (2000 + two_digits, 1900 + two_digits):
        value = _checked(year, month, day)
        if value is not None and value <= excluded:
            return value
    return None
