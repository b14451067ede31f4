"""Cells the three tables share: dates in either of OIG's forms, codes, bounded caches.

Each parser returns ``None`` for a cell it cannot read, and the row reader
raises the error naming the row and column, so these stay small and fast.
A PTP table of two million rows repeats a few thousand dates, codes and
rationales: ``Memo`` keeps what was read once (bounded, so a hostile file
of distinct values costs a fixed amount) and hands back the same objects,
which also keeps one copy of each string in memory.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Generic, TypeVar

__all__ = [
    "MEMO_LIMIT",
    "Memo",
    "SlashDate",
    "compact_date",
    "event_year",
    "procedure_code",
    "slash_date",
]

MEMO_LIMIT = 200_000
"""Distinct values a ``Memo`` keeps. CMS's tables hold about 15,000 codes."""

K = TypeVar("K")
V = TypeVar("V")


class Memo(Generic[K, V]):
    """A dictionary that stops growing at ``MEMO_LIMIT`` entries."""

    __slots__ = ("get", "values")

    def __init__(self) -> None:
        self.values: dict[K, V] = {}
        self.get = self.values.get

    def keep(self, key: K, value: V) -> V:
        if len(self.values) < MEMO_LIMIT:
            self.values[key] = value
        return value


def compact_date(text: str) -> date | None:
    """``YYYYMMDD`` as a date, or None when it is not one (``00000000`` included)."""
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


SlashDate = tuple[int, int, int, bool]
"""Month, day, year, and whether the year was written with two digits."""

_SLASH = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{2}|[0-9]{4})", re.ASCII)


def slash_date(text: str) -> SlashDate | None:
    """``MM/DD/YY`` or ``MM/DD/YYYY`` (one-digit months and days too), not yet checked."""
    match = _SLASH.fullmatch(text)
    if match is None:
        return None
    month, day, year = match.groups()
    return int(month), int(day), int(year), len(year) == 2


def event_year(two_digits: int) -> int:
    """The year of an event (an exclusion, a reinstatement) written ``YY``.

    The POSIX pivot: 69 to 99 are 1969 to 1999, 00 to 68 are 2000 to 2068.
    OIG's exclusions begin in the late 1970s and the two-digit files are of
    2015 and 2016, so every real value lands in its own century.
    """
    return 1900 + two_digits if two_digits >= 69 else 2000 + two_digits


_CODE = re.compile(r"[A-Z0-9]{5}")


def procedure_code(text: str) -> str | None:
    """A HCPCS/CPT code: five letters or digits, upper-cased, spaces around it dropped.

    Only the shape is checked; whether the code exists is the code sets'
    business, and the tables hold codes a claim's checker may not know yet.
    """
    code = text.strip()
    if code.isascii():
        code = code.upper()
    return code if _CODE.fullmatch(code) else None
