"""Write PTP, MUE and LEIE records in the layouts CMS and OIG publish, for tests and benchmarks.

``write_ptp(edits, out)`` writes the practitioner PTP ``.TXT`` layout: a
notice line and a title line padded with tabs, the header split over four
rows as CMS splits it, then one tab-delimited row per edit, CRLF line
ends; ``delimiter=","`` gives the CSV variant, its header cells holding the
same line breaks inside quotes. ``write_mue(edits, out)`` writes the MUE
CSV: a quoted multi-line notice, the ``"HCPCS/⏎CPT Code"`` header, then
``2 Date of Service Edit: Policy``-style indicators. ``write_leie(rows,
out)`` writes the LEIE CSV as OIG does: every non-empty cell quoted, empty
cells bare, MIDNAME a single space when empty, ``0000000000`` for no NPI,
``00000000`` for no date, EXCLTYPE as ``exclusion_type_raw`` (padding
kept), LF line ends; ``dates="MM/DD/YY"`` writes birth dates as the 2015-2016
supplements did.

The notices say the tables are synthetic: they carry no CPT content and
no AMA copyright. Reading a written table back gives equal records; a
record the layout cannot carry so (a rationale with a tab or a line break,
a code not five letters or digits, a birth date a two-digit year would
move to another century) is refused with a ``CellInvalid`` naming the row
and column it would have had. Writers stream: rows are encoded and
written in blocks, so a table of any size takes bounded memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date
from typing import BinaryIO, Literal

from claimbridge.formats.cms.cells import procedure_code
from claimbridge.formats.cms.errors import CellInvalid
from claimbridge.formats.cms.leie import LEIE_COLUMNS, Exclusion, two_digit_birth
from claimbridge.formats.cms.ncci import MUE_COLUMNS, PTP_COLUMNS, MueEdit, MueServices, PtpEdit

__all__ = ["write_leie", "write_mue", "write_ptp"]

_BLOCK = 10_000
PTP_NOTICE = (
    "Synthetic NCCI PTP table in the CMS layout, written by claimbridge: "
    "made-up codes and edits, no CPT content. Not for billing."
)
MUE_NOTICE = (
    "Synthetic NCCI MUE table in the CMS layout, written by claimbridge.\n"
    "Made-up codes and limits, no CPT content. Not for billing."
)
# The header rows of CMS's .TXT files, one list per physical row.
_PTP_HEADER_ROWS = (
    (
        "Column 1",
        "Column 2",
        "*=in existence",
        "Effective",
        "Deletion",
        "Modifier",
        "PTP Edit Rationale",
    ),
    ("", "", "prior to 1996", "Date", "Date", "0=not allowed", ""),
    ("", "", "", "", "*=no data", "1=allowed", ""),
    ("", "", "", "", "", "9=not applicable", ""),
)
_MUE_HEADER = {
    "practitioner": "Practitioner Services MUE Values",
    "outpatient hospital": "Outpatient Hospital Services MUE Values",
    "DME supplier": "DME Supplier Services MUE Values",
}
_INDICATORS = {
    1: "1 Line Edit",
    2: "2 Date of Service Edit: Policy",
    3: "3 Date of Service Edit: Clinical",
}


class _Out:
    """Rows gathered into blocks, each encoded and written at once."""

    __slots__ = ("lines", "out")

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)
        if len(self.lines) >= _BLOCK:
            self.flush()

    def flush(self) -> None:
        self.out.write("".join(self.lines).encode("utf-8"))
        self.lines.clear()


class _Checked:
    """Values already found writable, so each distinct one is checked once."""

    __slots__ = ("codes", "texts")

    def __init__(self) -> None:
        self.codes: set[str] = set()
        self.texts: set[str] = set()

    def code(self, code: str, row: int, column: str) -> str:
        if code not in self.codes:
            if procedure_code(code) != code:
                raise CellInvalid(
                    "not a code of five upper-case letters or digits.", row=row, column=column
                )
            self.codes.add(code)
        return code

    def text(self, text: str, row: int, column: str) -> str:
        if text not in self.texts:
            if text != " ".join(text.split()) or not _writable(text):
                raise CellInvalid(
                    "the text has a tab, a quote, a line break or spaces the table would not keep.",
                    row=row,
                    column=column,
                )
            self.texts.add(text)
        return text


def write_ptp(
    edits: Iterable[PtpEdit], out: BinaryIO, *, delimiter: Literal["\t", ","] = "\t"
) -> int:
    """Write a PTP table of ``edits`` to ``out``; the number of edits written."""
    sink = _Out(out)
    line = _line_writer(delimiter)
    sink.add(line([PTP_NOTICE] + [""] * 6))
    sink.add(line(["Column1/Column2 Edits"] + [""] * 6))
    if delimiter == "\t":
        for cells in _PTP_HEADER_ROWS:
            sink.add(line(list(cells)))
    else:
        sink.add(
            line(
                ["\n".join(filter(None, column)) for column in zip(*_PTP_HEADER_ROWS, strict=True)]
            )
        )
    checked = _Checked()
    dates: dict[date, str] = {}
    count = 0
    for count, edit in enumerate(edits, start=1):
        row = count + (6 if delimiter == "\t" else 3)
        sink.add(line(_ptp_cells(edit, row, checked, dates)))
    sink.flush()
    return count


def _ptp_cells(edit: PtpEdit, row: int, checked: _Checked, dates: dict[date, str]) -> list[str]:
    if edit.modifier_indicator not in (0, 1, 9):
        raise CellInvalid("a modifier indicator is 0, 1 or 9.", row=row, column=PTP_COLUMNS[5].name)
    return [
        checked.code(edit.column1, row, PTP_COLUMNS[0].name),
        checked.code(edit.column2, row, PTP_COLUMNS[1].name),
        "*" if edit.exists_before_1996 else "",
        _compact(edit.effective, dates),
        "*" if edit.deleted is None else _compact(edit.deleted, dates),
        str(edit.modifier_indicator),
        checked.text(edit.rationale, row, PTP_COLUMNS[6].name),
    ]


def write_mue(
    edits: Iterable[MueEdit],
    out: BinaryIO,
    *,
    delimiter: Literal["\t", ","] = ",",
    services: MueServices = "practitioner",
) -> int:
    """Write an MUE table of ``edits`` to ``out``; the number of edits written."""
    sink = _Out(out)
    line = _line_writer(delimiter)
    # A tab-delimited line has no quoting to hold line breaks in a cell.
    breaks = "\n" if delimiter == "," else " "
    sink.add(line([MUE_NOTICE.replace("\n", breaks), "", "", ""]))
    code_header = f"HCPCS/{breaks}CPT Code"
    sink.add(
        line([code_header, _MUE_HEADER[services], "MUE Adjudication Indicator", "MUE Rationale"])
    )
    checked = _Checked()
    count = 0
    for count, edit in enumerate(edits, start=1):
        row = count + 2
        indicator = _INDICATORS.get(edit.adjudication_indicator)
        if indicator is None:
            raise CellInvalid(
                "an adjudication indicator is 1, 2 or 3.", row=row, column=MUE_COLUMNS[2].name
            )
        if edit.max_units < 0:
            raise CellInvalid(
                "a number of units is not negative.", row=row, column=MUE_COLUMNS[1].name
            )
        code = checked.code(edit.code, row, MUE_COLUMNS[0].name)
        rationale = checked.text(edit.rationale, row, MUE_COLUMNS[3].name)
        sink.add(line([code, str(edit.max_units), indicator, rationale]))
    sink.flush()
    return count


def write_leie(
    exclusions: Iterable[Exclusion],
    out: BinaryIO,
    *,
    dates: Literal["YYYYMMDD", "MM/DD/YY"] = "YYYYMMDD",
) -> int:
    """Write an LEIE file of ``exclusions`` to ``out``; the number of rows written."""
    sink = _Out(out)
    sink.add(",".join(f'"{name}"' for name in LEIE_COLUMNS) + "\n")
    count = 0
    for count, exclusion in enumerate(exclusions, start=1):
        cells = _leie_cells(exclusion, count + 1, dates)
        sink.add(",".join(f'"{cell}"' if cell else "" for cell in cells) + "\n")
    sink.flush()
    return count


def _leie_cells(exclusion: Exclusion, row: int, dates: str) -> list[str]:
    cells = [
        exclusion.last_name,
        exclusion.first_name,
        exclusion.middle_name or " ",
        exclusion.business_name,
        exclusion.general,
        exclusion.specialty,
        exclusion.upin or "",
        exclusion.npi or "0000000000",
        _birth(exclusion, row) if dates == "MM/DD/YY" else _compact_or(exclusion.birth_date, ""),
        exclusion.address,
        exclusion.city,
        exclusion.state,
        exclusion.zip_code,
        exclusion.exclusion_type_raw or exclusion.exclusion_type,
        _compact_or(exclusion.exclusion_date, "00000000"),
        _compact_or(exclusion.reinstatement_date, "00000000"),
        _compact_or(exclusion.waiver_date, "00000000"),
        exclusion.waiver_state or "",
    ]
    for name, cell in zip(LEIE_COLUMNS, cells, strict=True):
        if not _writable(cell, keep_spaces=name in _SPACED):
            raise CellInvalid(
                "the text has a quote, a control character or spaces the file would not keep.",
                row=row,
                column=name,
            )
    return cells


_SPACED = frozenset({"MIDNAME", "EXCLTYPE"})
"""Cells whose spaces the file keeps: a blank MIDNAME, a padded EXCLTYPE."""


def _writable(text: str, *, keep_spaces: bool = False) -> bool:
    if not text.isprintable() or '"' in text:
        return False
    return keep_spaces or text == text.strip()


def _birth(exclusion: Exclusion, row: int) -> str:
    born = exclusion.birth_date
    if born is None:
        return ""
    year = born.year % 100
    if two_digit_birth(year, born.month, born.day, excluded=exclusion.exclusion_date) != born:
        raise CellInvalid(
            "the birth date would read back in another century with a two-digit year.",
            row=row,
            column="DOB",
        )
    return f"{born.month:02d}/{born.day:02d}/{year:02d}"


def _compact(value: date, cache: dict[date, str]) -> str:
    text = cache.get(value)
    if text is None:
        text = cache[value] = f"{value.year:04d}{value.month:02d}{value.day:02d}"
    return text


def _compact_or(value: date | None, none: str) -> str:
    return none if value is None else f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _line_writer(delimiter: str) -> Callable[[list[str]], str]:
    """One row as text: tab-joined, or quoted as CSV needs, with CRLF."""
    if delimiter == "\t":
        return lambda cells: "\t".join(cells) + "\r\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    return line
