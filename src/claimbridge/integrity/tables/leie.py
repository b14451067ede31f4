"""The OIG LEIE in memory, indexed for the exclusion rule (``context.ExclusionTable``).

OIG publishes the full list (``UPDATED.csv``, active exclusions only: a
reinstated party is dropped from it) and monthly supplements of additions
(``YYMMEXCL.csv``) and reinstatements (``YYMMREIN.csv``). ``load_leie``
takes any mix of them and merges the rows into one set of exclusions:

* An exclusion is one party's exclusion that began on one date. Rows are
  matched between files by the party (last, first and business name,
  compared as ``normalise_name`` compares them, NPI and birth date) and the
  exclusion date. The exclusion type is left out of the match because OIG
  corrects its typos (``1128Aa``) between files; the address is left out
  because it is where the party lived when excluded and may be corrected.
* A reinstatement row sets the reinstatement date of the exclusion it
  matches, in whichever order the files come. A reinstatement that matches
  no exclusion row stays as a record of its own: the party was still
  excluded from the exclusion date to the reinstatement date, and a claim
  for a service in between must be caught.
* A party reinstated and later excluded again has two exclusions with two
  exclusion dates; the reinstatement ends only the first (the November 2015
  and January 2016 samples hold such a person).
* The same exclusion listed twice (in ``UPDATED.csv`` and a supplement) is
  kept once. Two reinstatement dates for one exclusion: the later wins, so
  an unclear history errs towards a finding rather than a missed one.

Lookups are by NPI, and by name for the individuals listed without an NPI
(``by_name``): names are not unique, so the rule reports those only as a
possible match. Entities and individuals with an NPI are never matched by
name: their NPI is the identity to screen on.
"""

from __future__ import annotations

import os
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import BinaryIO

from claimbridge.formats.cms import Exclusion, read_leie

__all__ = ["ExclusionIndex", "load_leie", "merge_exclusions", "normalise_name"]

Source = str | os.PathLike[str] | bytes | BinaryIO

_Party = tuple[str, str, str, str | None, date | None]
_Key = tuple[_Party, date]


def normalise_name(text: str) -> str:
    """A name as compared: accents, case, spaces and punctuation dropped.

    ``"O'Brien"``, ``"OBRIEN"`` and ``"o brien"`` compare equal, as do
    ``"De La Cruz"`` and ``"DELACRUZ"`` and ``"José"`` and ``"JOSE"``: OIG and
    the claims' NM1 segments write the same names in different ways.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if char.isalnum()).upper()


def _party(exclusion: Exclusion) -> _Party:
    return (
        normalise_name(exclusion.last_name),
        normalise_name(exclusion.first_name),
        normalise_name(exclusion.business_name),
        exclusion.npi,
        exclusion.birth_date,
    )


def merge_exclusions(rows: Iterable[Exclusion]) -> list[Exclusion]:
    """Exclusion and reinstatement rows of several files as one list of exclusions.

    The module docstring gives the matching; the first row of an exclusion
    keeps its place in the result.
    """
    merged: dict[_Key, Exclusion] = {}
    reinstated: dict[_Key, date] = {}
    for row in rows:
        key = (_party(row), row.exclusion_date)
        merged.setdefault(key, row)
        if row.reinstatement_date is not None:
            before = reinstated.get(key)
            if before is None or row.reinstatement_date > before:
                reinstated[key] = row.reinstatement_date
    for key, day in reinstated.items():
        if merged[key].reinstatement_date != day:
            merged[key] = replace(merged[key], reinstatement_date=day)
    return list(merged.values())


@dataclass(frozen=True, slots=True, eq=False)
class ExclusionIndex:
    """LEIE exclusions by NPI and, for individuals listed without one, by name.

    ``label`` names the list in reports; ``rows`` counts the rows read,
    ``len()`` the exclusions after merging.
    """

    label: str
    rows: int
    _by_npi: dict[str, tuple[Exclusion, ...]] = field(repr=False)
    _by_name: dict[tuple[str, str], tuple[Exclusion, ...]] = field(repr=False)
    _count: int = field(repr=False)

    @classmethod
    def from_exclusions(
        cls, rows: Iterable[Exclusion], *, label: str = "OIG LEIE"
    ) -> ExclusionIndex:
        counted = list(rows)
        exclusions = merge_exclusions(counted)
        by_npi: dict[str, list[Exclusion]] = defaultdict(list)
        by_name: dict[tuple[str, str], list[Exclusion]] = defaultdict(list)
        for exclusion in exclusions:
            if exclusion.npi is not None:
                by_npi[exclusion.npi].append(exclusion)
            elif not exclusion.is_entity:
                name = (
                    normalise_name(exclusion.last_name),
                    normalise_name(exclusion.first_name),
                )
                by_name[name].append(exclusion)
        return cls(
            label,
            len(counted),
            {npi: tuple(found) for npi, found in by_npi.items()},
            {name: tuple(found) for name, found in by_name.items()},
            len(exclusions),
        )

    def by_npi(self, npi: str) -> tuple[Exclusion, ...]:
        """Every exclusion listed under ``npi``, reinstated ones included; the rule dates them."""
        return self._by_npi.get(npi, ())

    def by_name(self, family: str, given: str) -> tuple[Exclusion, ...]:
        """Individuals listed without an NPI whose last and first names match, normalised."""
        return self._by_name.get((normalise_name(family), normalise_name(given)), ())

    def __len__(self) -> int:
        return self._count


def _rows(source: Source) -> list[Exclusion]:
    if isinstance(source, str | os.PathLike):
        with Path(source).open("rb") as stream:
            return list(read_leie(stream))
    return list(read_leie(source))


def _default_label(sources: tuple[Source, ...], rows: int) -> str:
    names = [Path(s).name for s in sources if isinstance(s, str | os.PathLike)]
    if not sources:
        return "OIG LEIE (empty)"
    files = ", ".join(names) if len(names) == len(sources) else f"{len(sources)} files"
    return f"OIG LEIE ({files}; {rows:,} rows)"


def load_leie(*sources: Source, label: str | None = None) -> ExclusionIndex:
    """The LEIE from ``UPDATED.csv`` and/or monthly supplements: paths, bytes or binary streams.

    ``label`` defaults to the files' names and the row count. Raises
    ``formats.cms.CmsError`` at the first bad row of any file: a screening
    list that silently dropped a row would let an excluded provider through.
    """
    rows = [row for source in sources for row in _rows(source)]
    return ExclusionIndex.from_exclusions(rows, label=label or _default_label(sources, len(rows)))
