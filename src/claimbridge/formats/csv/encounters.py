"""The encounter log a practice attests: one row per visit it documented.

A practice exports this from its EHR's appointment or visit list; it is
the source of truth the integrity rules hold claims against (a billed
service with no attested encounter is flagged). Columns, by name, in any
order (``docs/integrity.md``):

``mrn`` (optional), ``family_name``, ``given_name``, ``birth_date``
(YYYY-MM-DD), ``rendering_npi``, ``date_of_service`` (YYYY-MM-DD),
``place_of_service`` (two digits).

Errors name the row and column, never the value; the first bad row stops
the reading (an attestation is taken whole or not at all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO, TypeVar, cast

from claimbridge.formats.csv.cells import CellRefused, iso_date, npi, place_of_service, text
from claimbridge.formats.csv.errors import CsvError, HeaderMissing
from claimbridge.formats.csv.source import read_rows

__all__ = ["ENCOUNTER_COLUMNS", "AttestedEncounter", "read_encounters"]

ENCOUNTER_COLUMNS = (
    "mrn",
    "family_name",
    "given_name",
    "birth_date",
    "rendering_npi",
    "date_of_service",
    "place_of_service",
)
_REQUIRED = frozenset(ENCOUNTER_COLUMNS) - {"mrn"}
_NAME = cast(Callable[[str], str], text(60))
_MRN = cast(Callable[[str], str], text(40))
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AttestedEncounter:
    mrn: str | None = field(repr=False)
    family_name: str = field(repr=False)
    given_name: str = field(repr=False)
    birth_date: date = field(repr=False)
    rendering_npi: str
    date_of_service: date
    place_of_service: str


def read_encounters(source: bytes | BinaryIO) -> Iterator[AttestedEncounter]:
    rows = read_rows(source)
    first = next(rows, None)
    if first is None:
        raise HeaderMissing("The file is empty; it starts with a header row.", row=1)
    positions = _positions(first[1])
    for row, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        yield _encounter(row, cells, positions)


def _positions(header: list[str]) -> dict[str, int]:
    names = [cell.strip().lower() for cell in header]
    missing = sorted(_REQUIRED - set(names))
    if missing:
        expected = ", ".join(ENCOUNTER_COLUMNS)
        raise HeaderMissing(
            f"The header lacks {', '.join(missing)}; the columns are {expected}.", row=1
        )
    return {name: names.index(name) for name in ENCOUNTER_COLUMNS if name in names}


def _encounter(row: int, cells: list[str], positions: dict[str, int]) -> AttestedEncounter:
    def raw(name: str) -> str:
        at = positions.get(name)
        return cells[at].strip() if at is not None and at < len(cells) else ""

    def cell(name: str, parse: Callable[[str], T]) -> T:
        value = raw(name)
        if not value:
            raise CsvError("The cell is empty.", row=row, column=name)
        try:
            return parse(value)
        except CellRefused as refused:
            raise CsvError(str(refused), row=row, column=name) from None

    return AttestedEncounter(
        mrn=cell("mrn", _MRN) if raw("mrn") else None,
        family_name=cell("family_name", _NAME),
        given_name=cell("given_name", _NAME),
        birth_date=cell("birth_date", iso_date),
        rendering_npi=cell("rendering_npi", npi),
        date_of_service=cell("date_of_service", iso_date),
        place_of_service=cell("place_of_service", place_of_service),
    )
