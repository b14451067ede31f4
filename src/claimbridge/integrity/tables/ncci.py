"""NCCI PTP and MUE tables in memory, indexed for the rules (``context.PtpTable``, ``MueTable``).

A practitioner PTP table holds about two million edits, and a scrub asks
it about every pair of codes billed on one patient's day, so the index is
built for size and for one lookup per pair:

* Edits are grouped by column 1 code, then keyed by column 2 code: two
  dictionary lookups, whatever the table's size. Each code string is kept
  once (``_Codes``), so a pair costs one dictionary slot, not a key object.
* An edit row is packed into one integer (effective and deletion dates as
  ordinals, modifier indicator, the pre-1996 mark, an id for its rationale
  text) and a pair's rows into a tuple. CMS's edits share a few thousand
  distinct (dates, indicator, rationale) combinations, so equal tuples are
  kept once and most pairs point at a shared value.
* ``PtpEdit`` records are built only when a pair is asked for and found;
  ``pairs_among(codes)`` tells the rule which of a day's pairs to ask for,
  one lookup per code, so a day without a listed pair builds nothing.

A pair may have several rows (an edit deleted and later added again):
all are kept, in file order; the rules pick the one in force on the date.
The MUE table is small (about 15,000 codes) and kept as its records.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

from claimbridge.formats.cms import MueEdit, MueServices, PtpEdit, read_mue, read_ptp

__all__ = ["MueIndex", "PtpIndex", "load_mue", "load_ptp"]

Source = str | os.PathLike[str] | bytes | BinaryIO

# IMPORTANT: the packed layout of one edit row. Ordinals of real dates fit
# 20 bits until the year 2870; changing widths means rebuilding every index.
_DATE_BITS = 20
_DATE_MASK = (1 << _DATE_BITS) - 1
_DELETED_SHIFT = _DATE_BITS
_INDICATOR_SHIFT = 2 * _DATE_BITS
_PRIOR_SHIFT = _INDICATOR_SHIFT + 4
_RATIONALE_SHIFT = _PRIOR_SHIFT + 1

Packed = tuple[int, ...]


def _pack(edit: PtpEdit, rationale: int) -> int:
    deleted = 0 if edit.deleted is None else edit.deleted.toordinal()
    return (
        edit.effective.toordinal()
        | deleted << _DELETED_SHIFT
        | edit.modifier_indicator << _INDICATOR_SHIFT
        | int(edit.exists_before_1996) << _PRIOR_SHIFT
        | rationale << _RATIONALE_SHIFT
    )


def _unpack(column1: str, column2: str, packed: int, rationales: tuple[str, ...]) -> PtpEdit:
    deleted = packed >> _DELETED_SHIFT & _DATE_MASK
    return PtpEdit(
        column1=column1,
        column2=column2,
        exists_before_1996=bool(packed >> _PRIOR_SHIFT & 1),
        effective=date.fromordinal(packed & _DATE_MASK),
        deleted=date.fromordinal(deleted) if deleted else None,
        modifier_indicator=packed >> _INDICATOR_SHIFT & 0xF,
        rationale=rationales[packed >> _RATIONALE_SHIFT],
    )


class _Builder:
    """The state of one build: the pairs, and the values and texts seen so far, kept once."""

    __slots__ = ("codes", "pairs", "rationales", "rows", "values")

    def __init__(self) -> None:
        self.pairs: dict[str, dict[str, Packed]] = {}
        self.codes: dict[str, str] = {}
        self.values: dict[Packed, Packed] = {}
        self.rationales: dict[str, int] = {}
        self.rows = 0

    def add(self, edit: PtpEdit) -> None:
        rationale = self.rationales.setdefault(edit.rationale, len(self.rationales))
        packed = _pack(edit, rationale)
        inner = self.pairs.get(edit.column1)
        if inner is None:
            inner = self.pairs[self.code(edit.column1)] = {}
        column2 = self.code(edit.column2)
        before = inner.get(column2)
        value = (packed,) if before is None else (*before, packed)
        inner[column2] = self.values.setdefault(value, value)
        self.rows += 1

    def code(self, code: str) -> str:
        return self.codes.setdefault(code, code)


@dataclass(frozen=True, slots=True)
class PtpIndex:
    """NCCI PTP edits by (column 1, column 2): ``edits`` is two dictionary lookups.

    ``label`` names the table in findings (``ccipra-v321r0-f1``, a quarter).
    ``rows`` counts the edit rows loaded; ``len()`` the distinct pairs.
    """

    label: str
    rows: int
    _pairs: dict[str, dict[str, Packed]] = field(repr=False)
    _rationales: tuple[str, ...] = field(repr=False)

    @classmethod
    def from_edits(cls, edits: Iterable[PtpEdit], *, label: str = "NCCI PTP") -> PtpIndex:
        builder = _Builder()
        for edit in edits:
            builder.add(edit)
        return cls(label, builder.rows, builder.pairs, tuple(builder.rationales))

    def edits(self, column1: str, column2: str) -> tuple[PtpEdit, ...]:
        """Every row for the directional pair, in file order; () when there is none."""
        inner = self._pairs.get(column1)
        if inner is None:
            return ()
        found = inner.get(column2)
        if found is None:
            return ()
        return tuple(_unpack(column1, column2, packed, self._rationales) for packed in found)

    def pairs_among(self, codes: Collection[str]) -> list[tuple[str, str]]:
        """The ordered pairs of distinct ``codes`` that have rows, in the order of ``codes``.

        One lookup per code and a membership test per pair, so a day's
        lines are checked without building anything unless a pair is listed.
        """
        found: list[tuple[str, str]] = []
        pairs = self._pairs
        for column1 in codes:
            inner = pairs.get(column1)
            if inner is not None:
                found.extend((column1, c2) for c2 in codes if c2 in inner and c2 != column1)
        return found

    def __len__(self) -> int:
        return sum(len(inner) for inner in self._pairs.values())


@dataclass(frozen=True, slots=True)
class MueIndex:
    """Medically unlikely edits by code. ``label`` names the table in findings."""

    label: str
    _edits: dict[str, MueEdit] = field(repr=False)

    @classmethod
    def from_edits(cls, edits: Iterable[MueEdit], *, label: str = "NCCI MUE") -> MueIndex:
        """The last row for a code wins: CMS lists each code once."""
        return cls(label, {edit.code: edit for edit in edits})

    def get(self, code: str) -> MueEdit | None:
        return self._edits.get(code)

    def __len__(self) -> int:
        return len(self._edits)


def load_ptp(source: Source, label: str | None = None) -> PtpIndex:
    """A PTP table from a path, bytes or a binary stream in CMS's layout (``.TXT`` or CSV).

    ``label`` defaults to the file's name without its suffix, or ``NCCI PTP``.
    Raises ``formats.cms.CmsError`` at the first bad row: a table loads whole or not at all.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        with path.open("rb") as stream:
            return PtpIndex.from_edits(read_ptp(stream), label=label or path.stem)
    return PtpIndex.from_edits(read_ptp(source), label=label or "NCCI PTP")


def load_mue(
    source: Source, label: str | None = None, *, services: MueServices = "practitioner"
) -> MueIndex:
    """An MUE table from a path, bytes or a binary stream; the practitioner table by default.

    ``read_mue`` refuses a file whose header names another table than ``services``.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        with path.open("rb") as stream:
            edits = read_mue(stream, services=services)
            return MueIndex.from_edits(edits, label=label or path.stem)
    return MueIndex.from_edits(
        read_mue(source, services=services), label=label or f"NCCI MUE ({services})"
    )
