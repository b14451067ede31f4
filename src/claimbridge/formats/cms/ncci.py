"""NCCI edit tables: procedure-to-procedure (PTP) pairs and medically unlikely edits (MUE).

``read_ptp(source)`` reads the practitioner (or outpatient hospital) PTP
table as CMS publishes it, tab-delimited ``.TXT`` or comma-delimited CSV
(the delimiter is detected), into ``PtpEdit`` records; ``read_mue(source)``
reads an MUE table (``.csv``, or a tab-delimited export) into ``MueEdit``
records. Both skip CMS's notice and title rows, merge a header split over
several rows (``headers``), and check it against the layout:

* PTP: ``Column 1``, ``Column 2``, ``*=in existence prior to 1996``
  (``*`` or empty), ``Effective Date`` (``YYYYMMDD``), ``Deletion Date
  *=no data`` (``YYYYMMDD``, or ``*`` or empty while the edit is in force),
  ``Modifier 0=not allowed 1=allowed 9=not applicable``, ``PTP Edit
  Rationale`` (absent from older files: read as ``""``).
* MUE: ``HCPCS/CPT Code``, ``Practitioner Services MUE Values`` (or the
  outpatient hospital or DME supplier table's), ``MUE Adjudication
  Indicator`` (``2 Date of Service Edit: Policy``: the leading digit, 1 to
  3, is kept), ``MUE Rationale`` (may be absent).

Codes are five letters or digits (upper-cased); their existence is not
checked here. Trailing empty cells (spreadsheet exports pad rows) and
blank rows are ignored; a missing trailing cell reads as empty. Rows are
streamed; nothing is held but bounded caches of repeated values (``cells.Memo``),
which also make equal codes, dates and rationales the same objects.
Errors name the row and the column. Layout sources: SOURCES.md, "NCCI
procedure-to-procedure (PTP) edits" and "NCCI medically unlikely edits".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO, Literal

from claimbridge.formats.cms.cells import Memo, compact_date, procedure_code
from claimbridge.formats.cms.errors import (
    CellInvalid,
    CellMissing,
    HeaderInvalid,
    RowLengthMismatch,
)
from claimbridge.formats.cms.headers import Column, Header, find_header, match_header
from claimbridge.formats.cms.source import read_records

__all__ = [
    "MUE_COLUMNS",
    "PTP_COLUMNS",
    "MueEdit",
    "MueServices",
    "PtpEdit",
    "read_mue",
    "read_ptp",
]

MueServices = Literal["practitioner", "outpatient hospital", "DME supplier"]


@dataclass(frozen=True, slots=True)
class PtpEdit:
    """A column 1 / column 2 pair: the column 2 code is not payable with the column 1 code.

    Same patient, provider and date of service. ``modifier_indicator`` 0: the
    edit can never be bypassed; 1: an NCCI-associated modifier bypasses it; 9:
    the edit does not apply. ``deleted`` is None while the edit is in force.
    Edits are directional: (A, B) says nothing of (B, A).
    """

    column1: str
    column2: str
    exists_before_1996: bool
    effective: date
    deleted: date | None
    modifier_indicator: int
    rationale: str


@dataclass(frozen=True, slots=True)
class MueEdit:
    """The most units of ``code`` one beneficiary gets from one provider.

    ``adjudication_indicator`` 1: per claim line; 2: per date of service, an
    absolute limit set by policy; 3: per date of service, set from clinical
    data (appealable).
    """

    code: str
    max_units: int
    adjudication_indicator: int
    rationale: str


PTP_COLUMNS = (
    Column("Column 1", lambda text: text == "column1"),
    Column("Column 2", lambda text: text == "column2"),
    Column("*=in existence prior to 1996", lambda text: "1996" in text),
    Column("Effective Date", lambda text: text.startswith("effective")),
    Column("Deletion Date", lambda text: text.startswith("deletion")),
    Column("Modifier", lambda text: text.startswith("modifier")),
    Column("PTP Edit Rationale", lambda text: "rationale" in text),
)
MUE_COLUMNS = (
    Column("HCPCS/CPT Code", lambda text: text.startswith("hcpcs")),
    Column("MUE Values", lambda text: "muevalue" in text),
    Column("MUE Adjudication Indicator", lambda text: "adjudication" in text),
    Column("MUE Rationale", lambda text: "rationale" in text),
)
_PRIOR = {"*": True, "": False}
_MODIFIERS = {"0": 0, "1": 1, "9": 9}
_IN_FORCE = frozenset({"*", ""})
_MAX_UNITS_DIGITS = 9
_SERVICES: tuple[tuple[str, MueServices], ...] = (
    ("practitioner", "practitioner"),
    ("outpatienthospital", "outpatient hospital"),
    ("dme", "DME supplier"),
)


class _Memos:
    """The caches of one reading: codes, dates and texts seen before."""

    __slots__ = ("codes", "dates", "indicators", "texts", "units")

    def __init__(self) -> None:
        self.codes: Memo[str, str] = Memo()
        self.dates: Memo[str, date] = Memo()
        self.texts: Memo[str, str] = Memo()
        self.units: Memo[str, int] = Memo()
        # Apart from the units: "12" is a number of units but no indicator.
        self.indicators: Memo[str, int] = Memo()


def read_ptp(source: bytes | BinaryIO) -> Iterator[PtpEdit]:
    """Every edit of an NCCI PTP table; raises ``CmsError`` at the first bad row."""
    header, records = find_header(
        read_records(source), starts=lambda text: text == "column1", table="NCCI PTP"
    )
    width = match_header(header, PTP_COLUMNS, required=6)
    memos = _Memos()
    for row, cells in records:
        fitted = cells if len(cells) == width and cells[0] else _fitted(cells, width, row)
        if fitted is not None:
            yield _ptp_edit(fitted, row, memos)


def read_mue(
    source: bytes | BinaryIO, *, services: MueServices | None = "practitioner"
) -> Iterator[MueEdit]:
    """Every edit of an MUE table; raises ``CmsError`` at the first bad row.

    ``services`` names the table expected; a header naming another (the DME
    supplier table given for the practitioner one) is refused. None takes any.
    """
    header, records = find_header(
        read_records(source), starts=lambda text: text.startswith("hcpcs"), table="MUE"
    )
    width = match_header(header, MUE_COLUMNS, required=3)
    _check_services(header, services)
    memos = _Memos()
    for row, cells in records:
        fitted = cells if len(cells) == width and cells[0] else _fitted(cells, width, row)
        if fitted is not None:
            yield _mue_edit(fitted, row, memos)


def _check_services(header: Header, services: MueServices | None) -> None:
    text = header.cells[1].replace(" ", "").lower()
    found = next((name for key, name in _SERVICES if key in text), None)
    if services is not None and found is not None and found != services:
        raise HeaderInvalid(
            f"this is the {found} services MUE table; the {services} services table was asked for.",
            row=header.row,
            column=MUE_COLUMNS[1].name,
        )


def _fitted(cells: list[str], width: int, row: int) -> list[str] | None:
    """The row cut or padded to ``width`` cells; None for a blank row (padding included)."""
    if not any(cell.strip() for cell in cells):
        return None
    if len(cells) < width:
        return cells + [""] * (width - len(cells))
    if any(cell.strip() for cell in cells[width:]):
        raise RowLengthMismatch(
            f"the row has cells past the table's {width} columns.", row=row, column=str(width + 1)
        )
    return cells[:width]


def _ptp_edit(cells: list[str], row: int, memos: _Memos) -> PtpEdit:
    column1 = memos.codes.get(cells[0]) or _code(cells[0], row, PTP_COLUMNS[0], memos)
    column2 = memos.codes.get(cells[1]) or _code(cells[1], row, PTP_COLUMNS[1], memos)
    prior = _PRIOR.get(cells[2])
    if prior is None:
        prior = _prior(cells[2], row)
    effective = memos.dates.get(cells[3]) or _date(cells[3], row, PTP_COLUMNS[3], memos)
    deleted = None
    if cells[4] not in _IN_FORCE and cells[4].strip() not in _IN_FORCE:
        deleted = memos.dates.get(cells[4]) or _date(cells[4], row, PTP_COLUMNS[4], memos)
    modifier = _MODIFIERS.get(cells[5])
    if modifier is None:
        modifier = _modifier(cells[5], row)
    rationale = memos.texts.get(cells[6]) if len(cells) > 6 else ""
    if rationale is None:
        rationale = _text(cells[6], memos)
    return PtpEdit(column1, column2, prior, effective, deleted, modifier, rationale)


def _mue_edit(cells: list[str], row: int, memos: _Memos) -> MueEdit:
    code = memos.codes.get(cells[0]) or _code(cells[0], row, MUE_COLUMNS[0], memos)
    units = memos.units.get(cells[1])
    if units is None:
        units = _units(cells[1], row, memos)
    indicator = memos.indicators.get(cells[2])
    if indicator is None:
        indicator = _indicator(cells[2], row, memos)
    rationale = memos.texts.get(cells[3]) if len(cells) > 3 else ""
    if rationale is None:
        rationale = _text(cells[3], memos)
    return MueEdit(code, units, indicator, rationale)


def _code(text: str, row: int, column: Column, memos: _Memos) -> str:
    if not text.strip():
        raise CellMissing("the code is empty.", row=row, column=column.name)
    code = procedure_code(text)
    if code is None:
        raise CellInvalid(
            "not a HCPCS/CPT code: five letters or digits.", row=row, column=column.name
        )
    return memos.codes.keep(text, code)


def _date(text: str, row: int, column: Column, memos: _Memos) -> date:
    if not text.strip():
        raise CellMissing("the date is empty.", row=row, column=column.name)
    value = compact_date(text.strip())
    if value is None:
        raise CellInvalid("not a date in YYYYMMDD form.", row=row, column=column.name)
    return memos.dates.keep(text, value)


def _prior(text: str, row: int) -> bool:
    value = _PRIOR.get(text.strip())
    if value is None:
        raise CellInvalid("not * or empty.", row=row, column=PTP_COLUMNS[2].name)
    return value


def _modifier(text: str, row: int) -> int:
    value = _MODIFIERS.get(text.strip())
    if value is None:
        raise CellInvalid("not 0, 1 or 9.", row=row, column=PTP_COLUMNS[5].name)
    return value


def _text(text: str, memos: _Memos) -> str:
    return memos.texts.keep(text, " ".join(text.split()))


def _units(text: str, row: int, memos: _Memos) -> int:
    digits = text.strip()
    if not digits:
        raise CellMissing("the MUE value is empty.", row=row, column=MUE_COLUMNS[1].name)
    if len(digits) > _MAX_UNITS_DIGITS or not digits.isascii() or not digits.isdigit():
        raise CellInvalid(
            "an MUE value is a whole number of units.", row=row, column=MUE_COLUMNS[1].name
        )
    return memos.units.keep(text, int(digits))


def _indicator(text: str, row: int, memos: _Memos) -> int:
    """The leading digit of ``2 Date of Service Edit: Policy``, or of a bare ``2``."""
    words = text.strip()
    column = MUE_COLUMNS[2].name
    if not words:
        raise CellMissing("the MUE adjudication indicator is empty.", row=row, column=column)
    if words[0] not in "123" or words[1:2].isdigit():
        raise CellInvalid(
            "an MUE adjudication indicator starts with 1, 2 or 3 "
            "(1 Line Edit, 2 Date of Service Edit: Policy, 3 Date of Service Edit: Clinical).",
            row=row,
            column=column,
        )
    return memos.indicators.keep(text, int(words[0]))
