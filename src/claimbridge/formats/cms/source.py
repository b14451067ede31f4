"""Rows of a CMS or OIG table, streamed with bounds: bytes in, lists of cells out.

``read_records(source, delimiter=...)`` reads the binary stream one line
at a time (``readline`` with a bound, so a file without line ends costs
one bounded line of memory), decodes each line and hands the lines to
``csv.reader`` in strict mode, which joins the lines of a quoted cell that
spans several (the MUE file's copyright notice, its ``"HCPCS/⏎CPT Code"``
header) and refuses a quote that does not open and close a cell.

Decoding is per line: UTF-8 first (a leading byte-order mark dropped),
then Windows-1252, then Latin-1, which decodes anything. The files are
ASCII in practice; CMS's notices carry a ``©`` written by Windows tools,
and a line that is not UTF-8 must not make a screening list unreadable.
Binary files are refused by their control characters instead.

``delimiter=None`` detects it: the NCCI ``.TXT`` files are tab-delimited
and their ``.csv`` siblings comma-delimited; a header or data row of
either layout has at least three delimiters, so the first lines decide.

Every refusal here is a ``TableUnreadable`` raised at once, naming the
row. The caller's stream is left open.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections import deque
from collections.abc import Iterator
from typing import BinaryIO

from claimbridge.formats.cms.errors import TableUnreadable

__all__ = ["MAX_ROW_CHARS", "read_records"]

MAX_ROW_CHARS = 8_192
"""The longest row accepted, in characters. The longest real row is the MUE
file's copyright notice, a few hundred characters in one quoted cell."""

_SNIFF_LINES = 32
# C0 controls other than tab, LF and CR, and DEL. A text table has none;
# a workbook (.xlsx is a ZIP), a PDF or an image has them within bytes.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_BOM = "\ufeff"


def _decode_legacy(line: bytes) -> str:
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        return line.decode("latin-1")


class _Lines:
    """The decoded lines for ``csv.reader``, refusing any row past the bounds."""

    __slots__ = ("in_row", "pending", "readline", "row")

    def __init__(self, stream: BinaryIO) -> None:
        self.readline = stream.readline
        self.pending: deque[str] = deque()
        self.row = 1
        # Characters read since the current row began; reset per row.
        self.in_row = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        text = self.pending.popleft() if self.pending else self.read()
        self.in_row += len(text)
        if self.in_row > MAX_ROW_CHARS:
            raise TableUnreadable(
                f"the row is longer than {MAX_ROW_CHARS:,} characters; "
                "no row of a CMS or OIG table is that long.",
                row=self.row,
            )
        return text

    def read(self) -> str:
        line = self.readline(MAX_ROW_CHARS + 1)
        if not line:
            raise StopIteration
        if len(line.translate(None, _CONTROL_BYTES)) != len(line):
            raise TableUnreadable(
                "the row holds NUL or other control characters: "
                "this is not a text table (a workbook or a compressed file?).",
                row=self.row,
            )
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            return _decode_legacy(line)

    def start(self) -> None:
        """Read the first line ahead, without its byte-order mark."""
        with contextlib.suppress(StopIteration):
            self.pending.append(self.read().removeprefix(_BOM))

    def sniff(self) -> str:
        """The delimiter of the first lines: a tab where one holds three, else a comma."""
        for number in range(1, _SNIFF_LINES + 1):
            if len(self.pending) < number:
                # Rows and lines differ only inside quoted cells spanning lines.
                self.row = number
                try:
                    self.pending.append(self.read())
                except StopIteration:
                    break
            if self.pending[number - 1].count("\t") >= 3:
                return "\t"
        return ","


def read_records(
    source: bytes | BinaryIO, *, delimiter: str | None = None
) -> Iterator[tuple[int, list[str]]]:
    """``(row number, cells)`` for every row, the first row being 1."""
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    lines = _Lines(stream)
    lines.start()
    if delimiter is None:
        delimiter = lines.sniff()
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    number = 0
    while True:
        lines.row = number + 1
        lines.in_row = 0
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise TableUnreadable(
                "the row has a quote that does not close, or text after a closing quote.",
                row=number + 1,
            ) from None
        number += 1
        yield number, cells
