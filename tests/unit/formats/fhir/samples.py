"""Shared inputs for the FHIR tests: the example Bundle, the vectors, and helpers."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from claimbridge.formats.fhir import FhirReading, read_bundle
from claimbridge.formats.x12 import ProfessionalClaim

REPO_ROOT = Path(__file__).resolve().parents[4]
EXAMPLE = REPO_ROOT / "docs" / "examples" / "bundle.json"
VECTORS = REPO_ROOT / "tests" / "vectors" / "fhir"

# Entries of the example Bundle, by index.
PRACTICE, RIVERA, HADDAD, HADDAD_ROLE, PAYER = 0, 1, 2, 3, 4
MARIA, MARIA_COVERAGE, MARIA_ENCOUNTER, MARIA_CLAIM = 5, 6, 7, 8
LEO, LEO_MOTHER, LEO_COVERAGE, LEO_ENCOUNTER, LEO_CLAIM = 9, 10, 11, 12, 13

JSON = dict[str, Any]


def example() -> JSON:
    """A fresh copy of ``docs/examples/bundle.json``, to change at will."""
    return copy.deepcopy(_EXAMPLE)


def resource(bundle: JSON, entry: int) -> JSON:
    value: JSON = bundle["entry"][entry]["resource"]
    return value


def encode(bundle: Any) -> bytes:
    return json.dumps(bundle, default=_number).encode()


def read(bundle: Any, **options: Any) -> tuple[list[ProfessionalClaim], FhirReading]:
    """Read a Bundle given as Python values; the claims and the finished reading."""
    reading = read_bundle(encode(bundle), **options)
    return list(reading), reading


def plain(claim: ProfessionalClaim) -> JSON:
    """A claim as JSON values, leaving out fields at their empty defaults."""
    value: JSON = json.loads(json.dumps(_pruned(dataclasses.asdict(claim)), default=_text))
    return value


def _pruned(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _pruned(item)
            for key, item in value.items()
            if item not in ("", (), [], None, False) or key == "cents"
        }
    if isinstance(value, list | tuple):
        return [_pruned(item) for item in value]
    return value


def _text(value: Any) -> str:
    if isinstance(value, date | Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


_EXAMPLE: JSON = json.loads(EXAMPLE.read_bytes())
