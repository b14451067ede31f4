"""Peer E/M level mixes by specialty: what the upcoding rule compares a provider with.

A mix is the share of a family's office/outpatient visits billed at each
level: established patients 99211-99215, new patients 99202-99205 (99201
was deleted in 2021). Mixes are kept per specialty, a specialty is found
from the provider's taxonomy code, and a specialty without a mix for a
family falls back to the ``all`` mix, which every file must have.

The default (``data/em_peers.json``) and its provenance, also in the file's
``provenance`` field:

* new patients, cardiology, pulmonary disease, infectious disease: CMS's
  2023 E/M frequency data by specialty, released late 2024, as tabulated by
  CodingIntel ("E/M frequency data for infectious disease, pulmonary
  medicine and cardiology", table "Office services, New OV");
* new patients, family and internal medicine: CMS's Medicare E/M frequency
  data (year not stated) as listed by billingfreedom.com ("E/M frequency
  data for family medicine and internal medicine");
* established patients: no current public mix by specialty was found in
  the public material searched, so every specialty falls back to ``all``.
  Family physicians' figures from the 2017 E/M Bell Curve sourcebook
  (quoted by AAFP's FPM blog) predate the 2021 redefinition of the levels
  and are not used;
* ``all``, both families: SYNTHETIC defaults, labelled so in the file;
  the established mix keeps the national 99214:99213 volume ratio of
  about 1.5 quoted publicly from CMS's Medicare Physician & Other
  Practitioners data.

Deployments should replace the file with current CMS figures:
``load_peers(path)`` reads a file of the same shape and refuses one whose
shares do not sum to 1 (± 0.01) or that names a code outside the family,
with a ``ValidationFailed`` naming the specialty, family and code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

from claimbridge.errors import ValidationFailed

__all__ = [
    "ALL",
    "ESTABLISHED_CODES",
    "FAMILY_CODES",
    "NEW_CODES",
    "EMFamily",
    "PeerDistributions",
    "PeerMix",
    "default_peers",
    "family_of",
    "load_peers",
    "parse_peers",
]

EMFamily = Literal["established", "new"]
ESTABLISHED_CODES = ("99211", "99212", "99213", "99214", "99215")
NEW_CODES = ("99202", "99203", "99204", "99205")
FAMILY_CODES: Mapping[EMFamily, tuple[str, ...]] = {
    "established": ESTABLISHED_CODES,
    "new": NEW_CODES,
}
ALL = "all"

_FAMILY_OF: Mapping[str, EMFamily] = {
    code: family for family, codes in FAMILY_CODES.items() for code in codes
}
_FAMILY_NAMES: Mapping[EMFamily, str] = {
    "established": "established-patient E/M code (99211-99215)",
    "new": "new-patient E/M code (99202-99205)",
}
_SUM_TOLERANCE = 0.01
_SPECIALTY_KEYS = frozenset({"established", "new", "note"})
_DEFAULT_PACKAGE = "claimbridge.integrity"
_DEFAULT_FILE = "em_peers.json"


def family_of(code: str) -> EMFamily | None:
    """The office/outpatient E/M family of a procedure code, None for any other code."""
    return _FAMILY_OF.get(code)


@dataclass(frozen=True, slots=True)
class PeerMix:
    """One specialty's shares of a family's levels, in level order, summing to 1."""

    specialty: str
    family: EMFamily
    shares: tuple[float, ...]
    source: str

    @property
    def codes(self) -> tuple[str, ...]:
        return FAMILY_CODES[self.family]

    @property
    def top_two(self) -> float:
        """The share of the two highest levels (99214-99215, 99204-99205)."""
        return self.shares[-2] + self.shares[-1]


@dataclass(frozen=True, slots=True)
class PeerDistributions:
    """Every specialty's mixes, the taxonomy codes naming each specialty, and their source."""

    label: str
    provenance: str
    mixes: Mapping[tuple[str, EMFamily], PeerMix]
    taxonomies: Mapping[str, str]

    def specialty_of(self, taxonomy: str) -> str:
        return self.taxonomies.get(taxonomy.strip().upper(), ALL)

    def mix_for(self, taxonomy: str, family: EMFamily) -> PeerMix:
        """The taxonomy's specialty mix for ``family``, else the ``all`` mix."""
        mix = self.mixes.get((self.specialty_of(taxonomy), family))
        return mix if mix is not None else self.mixes[(ALL, family)]


@cache
def default_peers() -> PeerDistributions:
    """The shipped mixes (see the module docstring for their provenance), read once."""
    text = (files(_DEFAULT_PACKAGE) / "data" / _DEFAULT_FILE).read_text(encoding="utf-8")
    return parse_peers(json.loads(text), origin=_DEFAULT_FILE)


def load_peers(path: str | Path) -> PeerDistributions:
    """Read a peer file of the shipped shape; ``ValidationFailed`` says what is wrong, and where."""
    origin = Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "The peer distribution file cannot be read as UTF-8 text.",
            where=origin,
            detail=str(exc),
        ) from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"The peer distribution file is not valid JSON: {exc.msg}.",
            where=f"{origin}: line {exc.lineno}, column {exc.colno}",
        ) from exc
    return parse_peers(document, origin=origin)


def parse_peers(document: object, *, origin: str) -> PeerDistributions:
    """Check a decoded peer file and build its mixes; ``origin`` names it in errors."""
    top = _object(document, origin, "the peer distribution file")
    provenance = top.get("provenance")
    if not isinstance(provenance, str) or not provenance.strip():
        raise ValidationFailed(
            "The peer distribution file must say where its figures come from in 'provenance'.",
            where=f"{origin}: provenance",
        )
    label = top.get("label", origin)
    if not isinstance(label, str) or not label.strip():
        raise ValidationFailed("'label' must be a non-empty string.", where=f"{origin}: label")
    mixes = _parse_specialties(top.get("specialties"), origin, default_source=label)
    taxonomies = _parse_taxonomies(top.get("taxonomies", {}), origin, mixes)
    return PeerDistributions(label, provenance, mixes, taxonomies)


def _object(value: object, where: str, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ValidationFailed(f"{what[0].upper()}{what[1:]} must be a JSON object.", where=where)
    return value


def _parse_specialties(
    value: object, origin: str, *, default_source: str
) -> dict[tuple[str, EMFamily], PeerMix]:
    specialties = _object(value, f"{origin}: specialties", "'specialties'")
    mixes: dict[tuple[str, EMFamily], PeerMix] = {}
    for name, entry in specialties.items():
        where = f"{origin}: specialties.{name}"
        fields = _object(entry, where, f"specialty '{name}'")
        unknown = sorted(set(fields) - _SPECIALTY_KEYS)
        if unknown:
            raise ValidationFailed(
                f"Specialty '{name}' has an unknown key '{unknown[0]}'; "
                "expected 'established', 'new' or 'note'.",
                where=f"{where}.{unknown[0]}",
            )
        for family in FAMILY_CODES:
            if family in fields:
                mixes[(name, family)] = _parse_mix(
                    fields[family], name, family, where, default_source=default_source
                )
    for family in FAMILY_CODES:
        if (ALL, family) not in mixes:
            raise ValidationFailed(
                f"The '{ALL}' specialty must have a {family}-patient mix: "
                "it is what a specialty without one falls back to.",
                where=f"{origin}: specialties.{ALL}.{family}",
            )
    return mixes


def _parse_mix(
    value: object, specialty: str, family: EMFamily, where: str, *, default_source: str
) -> PeerMix:
    where = f"{where}.{family}"
    fields = _object(value, where, f"the {family}-patient mix of '{specialty}'")
    source = fields.get("source", default_source)
    if not isinstance(source, str) or not source.strip():
        raise ValidationFailed(
            f"The {family}-patient mix of '{specialty}' has an empty 'source'.",
            where=f"{where}.source",
        )
    given = _object(fields.get("shares"), f"{where}.shares", "'shares'")
    shares = {
        code: _share(code, share, specialty, family, f"{where}.shares")
        for code, share in given.items()
    }
    total = sum(shares.values())
    if not math.isclose(total, 1.0, abs_tol=_SUM_TOLERANCE):
        raise ValidationFailed(
            f"The {family}-patient shares of '{specialty}' sum to {total:.4f}, "
            f"not 1 (± {_SUM_TOLERANCE}).",
            where=f"{where}.shares",
        )
    ordered = tuple(shares.get(code, 0.0) / total for code in FAMILY_CODES[family])
    return PeerMix(specialty, family, ordered, source.strip())


def _share(code: str, value: object, specialty: str, family: EMFamily, where: str) -> float:
    where = f"{where}.{code}"
    if family_of(code) != family:
        deleted = " (99201 was deleted in 2021)" if code == "99201" else ""
        raise ValidationFailed(
            f"'{specialty}' lists {code} among its {family}-patient shares, "
            f"but it is not an {_FAMILY_NAMES[family]}{deleted}.",
            where=where,
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValidationFailed(
            f"The share of {code} for '{specialty}' must be a number from 0 to 1.", where=where
        )
    return float(value)


def _parse_taxonomies(
    value: object, origin: str, mixes: Mapping[tuple[str, EMFamily], PeerMix]
) -> dict[str, str]:
    given = _object(value, f"{origin}: taxonomies", "'taxonomies'")
    known = {specialty for specialty, _ in mixes}
    taxonomies: dict[str, str] = {}
    for taxonomy, specialty in given.items():
        if not isinstance(specialty, str) or specialty not in known:
            raise ValidationFailed(
                f"Taxonomy {taxonomy} names specialty {specialty!r}, "
                "which the file does not define.",
                where=f"{origin}: taxonomies.{taxonomy}",
            )
        taxonomies[taxonomy.strip().upper()] = specialty
    return taxonomies
