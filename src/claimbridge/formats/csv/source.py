"""Rows of a CSV file, streamed with bounds: UTF-8 text in, lists of cells out.

``read_rows(source)`` decodes the binary stream with ``io.TextIOWrapper``
(UTF-8, a leading byte-order mark dropped, CRLF, LF or CR line ends kept
for the ``csv`` module as it asks) and splits it with ``csv.reader`` in
strict mode, so a quote that does not open and close a cell is refused
instead of guessed at. Nothing is loaded whole: lines are read one at a
time, each at most ``MAX_ROW_CHARS`` characters, and a row (which may span
lines inside quotes) is refused once it passes that bound, so a hostile
file costs at most one bounded row of memory. This does not touch
``csv.field_size_limit``, which is process-wide: the row bound is smaller.

Every refusal here is a ``CsvUnreadable`` raised at once, naming the row.
The caller's stream is left open.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterator
from typing import BinaryIO

from claimbridge.formats.csv.errors import (
    BinaryContent,
    NotUTF8,
    QuotingInvalid,
    RowTooLong,
    TooManyColumns,
)
from claimbridge.formats.csv.template import MAX_COLUMNS, MAX_ROW_CHARS

__all__ = ["read_rows"]

# C0 controls other than tab, LF and CR; DEL; the C1 controls. A text file
# has none of them; a spreadsheet saved as .xlsx, a PDF or an image does.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")
_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")


class _Lines:
    """The text's lines for ``csv.reader``, refusing any row past the bounds."""

    __slots__ = ("in_row", "row", "text")

    def __init__(self, text: io.TextIOWrapper) -> None:
        self.text = text
        self.row = 1
        # Characters read since the current row began; reset per row.
        self.in_row = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        try:
            line = self.text.readline(MAX_ROW_CHARS + 1)
        except UnicodeDecodeError as exc:
            raise _not_utf8(exc, self.row) from None
        if not line:
            raise StopIteration
        self.in_row += len(line)
        if self.in_row > MAX_ROW_CHARS:
            raise RowTooLong(
                f"the row is longer than {MAX_ROW_CHARS:,} characters; "
                "a charge row is far shorter.",
                row=self.row,
            )
        if _CONTROL.search(line):
            raise BinaryContent(row=self.row)
        return line


def _not_utf8(exc: UnicodeDecodeError, row: int) -> NotUTF8:
    if row == 1 and exc.start == 0 and bytes(exc.object[:2]) in _UTF16_MARKS:
        return NotUTF8("The file is UTF-16 text; save it as CSV UTF-8.", row=row)
    # The wrapper decodes a chunk at a time and asks for one only when the
    # text it holds has no line end left, so the chunk that failed continues
    # the row being read: its line ends before the bad bytes count the rows
    # on (lines, strictly, which differ only inside a quoted multi-line cell).
    ahead = bytes(exc.object[: exc.start])
    row += ahead.count(b"\n") + ahead.count(b"\r") - ahead.count(b"\r\n")
    return NotUTF8(
        "The file is not UTF-8 text: this row holds a byte sequence that is not "
        "valid UTF-8 (save the file as CSV UTF-8).",
        row=row,
    )


def read_rows(source: bytes | BinaryIO) -> Iterator[tuple[int, list[str]]]:
    """``(row number, cells)`` for every row, the header being row 1."""
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
    try:
        yield from _rows(_Lines(text))
    finally:
        # Detached, the wrapper does not close the caller's stream when it is
        # collected.
        with contextlib.suppress(ValueError):  # the caller closed the stream already
            text.detach()


def _rows(lines: _Lines) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(lines, strict=True)
    number = 0
    while True:
        lines.row = number + 1
        lines.in_row = 0
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise QuotingInvalid(
                "the row has a quote that does not close, or text after a closing "
                "quote; double a quote inside a quoted cell.",
                row=number + 1,
            ) from None
        number += 1
        if len(row) > MAX_COLUMNS:
            raise TooManyColumns(f"the row has more than {MAX_COLUMNS} cells.", row=number)
        yield number, row
