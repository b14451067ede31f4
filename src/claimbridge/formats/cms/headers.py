"""Finding the header of an NCCI table below CMS's notice lines and merging its rows.

CMS's ``.TXT`` files open with a copyright line and a title line, then a
header whose text is split over several physical rows, one cell per
column each (``Effective`` above ``Date``, ``Deletion`` above ``Date`` above
``*=no data``); the ``.csv`` files put a quoted multi-line notice first and
the header in one row, its cells holding line breaks. ``find_header``
skips the rows before the header (at most ``MAX_PREAMBLE_ROWS``), takes the
row whose first cell starts the layout, joins the rows below it whose
first cell is empty into it column by column, and hands back the rest.
``match_header`` then checks the merged cells against the layout's columns
by a keyword each, so the wording CMS varies from year to year
(``Column1``/``Column 1``, ``HCPCS/⏎CPT Code``) does not matter.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from claimbridge.formats.cms.errors import HeaderInvalid, HeaderNotFound

__all__ = ["MAX_PREAMBLE_ROWS", "Column", "Header", "compact", "find_header", "match_header"]

MAX_PREAMBLE_ROWS = 20
"""Rows allowed above the header. CMS's files have two to seven."""

_MAX_HEADER_ROWS = 6

Records = Iterator[tuple[int, list[str]]]


def compact(text: str) -> str:
    """The text lower-cased without white space: ``"HCPCS/\\nCPT Code"`` → ``hcpcs/cptcode``."""
    return "".join(text.split()).lower()


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a layout: its name in errors and how its header text is recognised."""

    name: str
    recognise: Callable[[str], bool]
    """Takes the ``compact`` header text."""


@dataclass(frozen=True, slots=True)
class Header:
    row: int
    cells: tuple[str, ...]
    """Each column's header text, its rows joined by single spaces."""


def find_header(
    records: Records, *, starts: Callable[[str], bool], table: str
) -> tuple[Header, Records]:
    """The header (the first row whose first cell ``starts``) and the rows after it."""
    for row, cells in itertools.islice(records, MAX_PREAMBLE_ROWS):
        if cells and starts(compact(cells[0])):
            return _merge(row, cells, records)
    raise HeaderNotFound(
        f"no {table} header row in the first {MAX_PREAMBLE_ROWS} rows; is this the {table} table?"
    )


def _merge(row: int, cells: list[str], records: Records) -> tuple[Header, Records]:
    parts = [[cell] for cell in cells]
    for _ in range(_MAX_HEADER_ROWS - 1):
        following = next(records, None)
        if following is None:
            break
        more = following[1]
        if not more or more[0].strip() or not any(cell.strip() for cell in more):
            return _header(row, parts), itertools.chain([following], records)
        parts.extend([] for _ in range(len(more) - len(parts)))
        for part, cell in zip(parts, more, strict=False):
            part.append(cell)
    return _header(row, parts), records


def _header(row: int, parts: list[list[str]]) -> Header:
    cells = [" ".join(" ".join(part).split()) for part in parts]
    while cells and not cells[-1]:
        cells.pop()
    return Header(row, tuple(cells))


def match_header(header: Header, layout: tuple[Column, ...], *, required: int) -> int:
    """How many of ``layout``'s columns the file has (at least ``required``, in order)."""
    cells = header.cells
    for index, column in enumerate(layout[: max(required, len(cells))]):
        if index >= len(cells) or not column.recognise(compact(cells[index])):
            raise HeaderInvalid(
                f"column {index + 1} of the header should be {column.name}.",
                row=header.row,
                column=column.name,
            )
    if len(cells) > len(layout):
        raise HeaderInvalid(
            f"the header has {len(cells)} columns; the layout has {len(layout)}.",
            row=header.row,
            column=str(len(layout) + 1),
        )
    return len(cells)
