"""ICD-10-CM, the diagnosis code set, from the ``simple-icd-10-cm`` package (``DiagnosisCodes``).

The package carries CMS's release files; this module reads only its code
list (``data/code-list-MONTH-YEAR.txt``: every chapter, block, category and
code of the release, one per line, undotted), never the package itself,
whose import parses the 10 MB tabular XML (three seconds and some 200 MB).
A code is billable when it is a leaf, when no longer code of the list
begins with it: a category or subcategory with codes below it (``E11``,
``E11.6``) is a header, and a claim must carry one of the codes under it
(``E11.65``); seventh-character codes (``S52.521A``) are the leaves of their
subcategory. This matches the package's own ``is_leaf`` for every code of
the release (checked when the package was adopted). Chapters (``4``) and
blocks (``E08-E13``) are not codes, and a diagnosis that looks like one is
not a code here.

CMS releases the code set once a fiscal year (1 October to 30 September;
FY2026 begins 2025-10-01), with occasional April updates: a code valid in
one year may be deleted or split in the next. ``fiscal_year`` is the year of
the release the package holds, read from its code list's name, so the
diagnosis rule can say when it checked a service against another year's
codes.

The list is read the first time a release is asked something (about 0.1 s,
a few MB); answers are cached.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

__all__ = ["ICD10CMRelease", "fiscal_year_of", "normalise_code"]

Status = Literal["unknown", "header", "billable"]

_CODE = re.compile(r"([A-Z][0-9][A-Z0-9])\.?([A-Z0-9]{0,4})")
_UNDOTTED = re.compile(r"[A-Z][0-9][A-Z0-9][A-Z0-9]{0,4}")
_DATA_FILE = re.compile(r"code-list-([A-Za-z]+)-([0-9]{4})\.txt")
_MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
_CACHE_SIZE = 1 << 17  # more than the ~98,000 items of a release


def normalise_code(text: str) -> str | None:
    """``e11.65``, ``E1165`` and ``" E11.65 "`` → ``E11.65``; None for what is not code-shaped."""
    match = _CODE.fullmatch(text.strip().upper())
    if match is None:
        return None
    category, rest = match.groups()
    return f"{category}.{rest}" if rest else category


def fiscal_year_of(served: date) -> int:
    """The federal fiscal year of a date: FY2026 runs from 2025-10-01 to 2026-09-30."""
    return served.year + 1 if served.month >= 10 else served.year


@functools.cache
def _code_list() -> Path:
    """The package's code list, found without importing the package."""
    spec = importlib.util.find_spec("simple_icd_10_cm")
    if spec is None or not spec.submodule_search_locations:
        raise LookupError("the simple-icd-10-cm package is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    for entry in sorted(folder.iterdir()):
        match = _DATA_FILE.fullmatch(entry.name)
        if match is not None and match.group(1).lower() in _MONTHS:
            return entry
    raise LookupError("simple-icd-10-cm holds no code list named code-list-MONTH-YEAR.txt")


@functools.cache
def _codes() -> tuple[frozenset[str], frozenset[str]]:
    """Every code of the release, undotted, and those that are leaves (billable)."""
    items = _code_list().read_text(encoding="ascii").split()
    codes = sorted(item for item in items if _UNDOTTED.fullmatch(item))
    leaves = {
        code
        for code, after in zip(codes, [*codes[1:], ""], strict=True)
        if not after.startswith(code)
    }
    return frozenset(codes), frozenset(leaves)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _status(text: str) -> Status:
    code = normalise_code(text)
    if code is None:
        return "unknown"
    undotted = code.replace(".", "")
    codes, leaves = _codes()
    if undotted not in codes:
        return "unknown"
    return "billable" if undotted in leaves else "header"


@functools.cache
def _release() -> tuple[str, int]:
    """The month and fiscal year of the release the package holds: ``("April 2026", 2026)``."""
    match = _DATA_FILE.fullmatch(_code_list().name)
    if match is None:  # pragma: no cover - _code_list only returns matching names
        raise LookupError("simple-icd-10-cm's code list has no month and year in its name")
    month, year = _MONTHS[match.group(1).lower()], int(match.group(2))
    return f"{match.group(1).capitalize()} {year}", fiscal_year_of(date(year, month, 1))


@functools.cache
def _label() -> str:
    month, fiscal_year = _release()
    version = importlib.metadata.version("simple-icd-10-cm")
    return f"ICD-10-CM FY{fiscal_year}, {month} update (simple-icd-10-cm {version})"


@dataclass(frozen=True, slots=True)
class ICD10CMRelease:
    """The ICD-10-CM release that ``simple-icd-10-cm`` holds.

    ``label`` names it in findings: ``ICD-10-CM FY2026, April 2026 update
    (simple-icd-10-cm 1.5.0)``. The first lookup reads the code list (a tenth of a second);
    ``load()`` does it up front, as a server does before its first scrub.
    """

    def load(self) -> ICD10CMRelease:
        _codes()
        return self

    @property
    def label(self) -> str:
        return _label()

    @property
    def fiscal_year(self) -> int:
        return _release()[1]

    @property
    def valid_from(self) -> date:
        """The first day of the release's fiscal year."""
        return date(self.fiscal_year - 1, 10, 1)

    @property
    def valid_to(self) -> date:
        """The last day of the release's fiscal year."""
        return date(self.fiscal_year, 9, 30)

    def exists(self, code: str) -> bool:
        """Whether ``code`` (dotted or not, any case) is a category or code of the release."""
        return _status(code) != "unknown"

    def billable(self, code: str) -> bool:
        """Whether ``code`` is a leaf: valid on a claim, no more specific code below it."""
        return _status(code) == "billable"
