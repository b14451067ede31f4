"""Where the header put each column, and what a file's cells have read as.

``Layout.of(header)`` is worked out once per file: the place of every
column in a row, and the caches of what cells have read as. Cells repeat
(the same NPI, codes, dates and amounts row after row), so a coded column
keeps the values of up to ``VALUES_LIMIT`` distinct texts it has read (free
text and birth dates, rarely repeated, are not kept), and the file keeps
the claim-level records of its last ``HEADS_LIMIT`` distinct first rows,
so claims of one patient share their records as the 837P reader's claims
do. Only what was accepted is kept, and each cache is emptied when full,
so a file's caches are bounded whatever it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from claimbridge.formats.csv.parties import ClaimParts, Values
from claimbridge.formats.csv.template import COLUMNS, Column, Header

__all__ = ["HEADS_LIMIT", "VALUES_LIMIT", "Head", "Layout", "remember"]

VALUES_LIMIT = 256
HEADS_LIMIT = 16


@dataclass(frozen=True, slots=True)
class Head:
    """A claim's first row, read: its claim-level values and the records they make."""

    values: Values
    parts: ClaimParts | None
    birth_date: date | None
    diagnosis_count: int


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the header put each column, and what this file's cells have read as."""

    width: int
    claim_id: int
    claim: tuple[tuple[Column, int], ...]
    line: tuple[tuple[Column, int], ...]
    claim_cells: Callable[[list[str]], tuple[str, ...]]
    values: dict[str, dict[str, object]] = field(default_factory=dict)
    heads: dict[tuple[str, ...], Head] = field(default_factory=dict)

    @classmethod
    def of(cls, header: Header) -> Layout:
        index = header.index
        claim = tuple((c, index[c.name]) for c in header.claim_columns if c.name != "claim_id")
        # Never fewer than two: the header has every required claim-level column.
        cells = itemgetter(*(place for _, place in claim))
        return cls(
            header.width,
            index["claim_id"],
            claim,
            tuple((c, index[c.name]) for c in header.line_columns),
            cells,
            {c.name: {} for c in COLUMNS if c.cached and c.name in index},
        )


def remember(cache: dict[Any, Any], key: Any, value: Any, *, limit: int) -> None:
    """Keep ``value`` under ``key``, emptying the cache first when it is full."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
