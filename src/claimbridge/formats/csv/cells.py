"""One cell of the charge template: its text in, the value the records hold out.

Each parser takes a cell's text, already stripped of surrounding spaces and
not empty, and returns the value a ``ProfessionalClaim`` holds (an 837P
code or a ``date``, ``Decimal`` or ``Money``), or raises ``CellRefused``.
A refusal's message says what the column needs and never repeats the text,
which may be PHI; the row reader adds the row and the column.

Shapes follow the code sets' own conventions, as ``claimbridge.types`` does:
NPIs carry their Luhn check digit over the prefix 80840, ICD-10-CM codes
are stored without their dot, places of service are the assigned CMS
codes. Free text refuses what an 837P cannot carry: line breaks, control
characters and the X12 separators ``* ~ : ^``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from claimbridge.errors import ValidationFailed
from claimbridge.types import ICD10CM, PLACES_OF_SERVICE, Money, check_digit

__all__ = [
    "NDC_UNITS",
    "RELATIONSHIPS",
    "CellRefused",
    "Parser",
    "amount",
    "diagnosis",
    "diagnosis_pointers",
    "iso_date",
    "modifier",
    "ndc",
    "ndc_unit",
    "npi",
    "place_of_service",
    "postal_code",
    "procedure",
    "quantity",
    "relationship",
    "sex",
    "state",
    "tax_id",
    "text",
]

Parser = Callable[[str], object]


class CellRefused(ValueError):
    """A cell's text does not have its column's form; ``str()`` says what is wrong."""


# Patient relationship to the subscriber: words people write, and the 837P
# codes (SBR02 18 for self, PAT01 for the others) they stand for.
RELATIONSHIPS = {
    "self": "18",
    "spouse": "01",
    "child": "19",
    "employee": "20",
    "unknown": "21",
    "organ_donor": "39",
    "cadaver_donor": "40",
    "life_partner": "53",
    "other": "G8",
}
_RELATIONSHIP_CODES = frozenset(RELATIONSHIPS.values())

# CTP05-1, the unit a drug quantity counts: international unit, gram,
# milligram, milliliter, unit.
NDC_UNITS = frozenset({"F2", "GR", "ME", "ML", "UN"})

_UNSAFE_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f*~:^]")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TEN_DIGITS = re.compile(r"[0-9]{10}")
_AMOUNT = re.compile(r"([0-9]{1,10})(?:\.([0-9]{1,2}))?|\.([0-9]{1,2})")
_QUANTITY = re.compile(r"[0-9]{1,8}(?:\.[0-9]{1,3})?|\.[0-9]{1,3}")
_PROCEDURE = re.compile(r"[A-Z0-9]{5}")
_MODIFIER = re.compile(r"[A-Z0-9]{2}")
_POINTER_SEPARATOR = re.compile(r"\s*[,:]\s*")
_NDC = re.compile(r"[0-9]{11}|([0-9]{5})-([0-9]{4})-([0-9]{2})")
_STATE = re.compile(r"[A-Z]{2}")
_POSTAL_CODE = re.compile(r"([0-9]{5})(?:-?([0-9]{4}))?")
_TAX_ID = re.compile(r"[0-9]{9}|([0-9]{2})-([0-9]{7})")

_MAX_POINTERS = 4
_MAX_DIAGNOSES = 12


def _upper(value: str) -> str:
    # Non-ASCII text is left alone, so "ß" cannot become a valid-looking "SS".
    return value.upper() if value.isascii() else value


def text(max_length: int) -> Parser:
    """Free text of at most ``max_length`` characters that an 837P element can carry."""

    def parse(value: str) -> str:
        if len(value) > max_length:
            raise CellRefused(f"longer than {max_length} characters.")
        if _UNSAFE_TEXT.search(value):
            raise CellRefused(
                "holds a line break, a control character or one of * ~ : ^, "
                "which an 837P cannot carry."
            )
        return value

    return parse


def iso_date(value: str) -> date:
    match = _DATE.fullmatch(value)
    if match is None:
        raise CellRefused("not a date in YYYY-MM-DD form.")
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise CellRefused("not a real calendar date.") from None


def sex(value: str) -> str:
    code = _upper(value)
    if code not in ("M", "F", "U"):
        raise CellRefused("not M, F or U.")
    return code


def npi(value: str) -> str:
    """A National Provider Identifier, check digit included."""
    if not _TEN_DIGITS.fullmatch(value):
        raise CellRefused("not an NPI: an NPI is 10 digits.")
    if value[0] not in "12":
        raise CellRefused("not an NPI: an NPI starts with 1 or 2.")
    if check_digit(value[:9]) != value[9]:
        raise CellRefused("fails the NPI check digit (Luhn over the prefix 80840).")
    return value


def amount(value: str) -> Money:
    """A charge in dollars: digits with at most two decimal places, not negative."""
    match = _AMOUNT.fullmatch(value)
    if match is None:
        if value.startswith("-"):
            raise CellRefused("a charge cannot be negative.")
        raise CellRefused(
            "not an amount: digits with at most 2 decimal places, "
            "without a currency sign or thousands separators."
        )
    whole, cents, only_cents = match.groups()
    fraction = cents if whole is not None else only_cents
    return Money(int(whole or "0") * 100 + int(fraction.ljust(2, "0") if fraction else "0"))


def quantity(value: str) -> Decimal:
    """Units or a drug quantity: a decimal number greater than 0."""
    if not _QUANTITY.fullmatch(value):
        raise CellRefused("not a number: digits with at most 3 decimal places.")
    number = Decimal(value)
    if not number:
        raise CellRefused("must be greater than 0.")
    return number


def diagnosis(value: str) -> str:
    """An ICD-10-CM code, with or without its dot; returned without it."""
    try:
        return ICD10CM.parse(value).code
    except ValidationFailed:
        raise CellRefused(
            "not an ICD-10-CM code: a letter, a digit, a letter or digit, "
            "then up to four letters or digits (E11.9, S72.001A)."
        ) from None


def procedure(value: str) -> str:
    code = _upper(value)
    if not _PROCEDURE.fullmatch(code):
        raise CellRefused("not a CPT or HCPCS code: five letters or digits.")
    return code


def modifier(value: str) -> str:
    code = _upper(value)
    if not _MODIFIER.fullmatch(code):
        raise CellRefused("not a procedure modifier: two letters or digits.")
    return code


def diagnosis_pointers(value: str) -> tuple[int, ...]:
    """One to four numbers 1 to 12, separated by commas or colons: ``1,2`` or ``1:2``."""
    parts = _POINTER_SEPARATOR.split(value)
    if len(parts) > _MAX_POINTERS or not all(
        part.isascii() and part.isdigit() and len(part) <= 2 for part in parts
    ):
        raise CellRefused(
            "not diagnosis pointers: one to four numbers from 1 to 12, "
            "separated by commas or colons."
        )
    pointers = tuple(int(part) for part in parts)
    if not all(0 < pointer <= _MAX_DIAGNOSES for pointer in pointers):
        raise CellRefused("a diagnosis pointer must be a number from 1 to 12.")
    if len(set(pointers)) != len(pointers):
        raise CellRefused("names the same diagnosis pointer twice.")
    return pointers


def ndc(value: str) -> str:
    """A National Drug Code in its 11-digit form, or 5-4-2 with hyphens."""
    match = _NDC.fullmatch(value)
    if match is None:
        raise CellRefused("not a National Drug Code: 11 digits, or 5-4-2 digits with hyphens.")
    return value if match.group(1) is None else "".join(match.groups())


def ndc_unit(value: str) -> str:
    code = _upper(value)
    if code not in NDC_UNITS:
        raise CellRefused("not a drug unit: one of F2, GR, ME, ML, UN.")
    return code


def place_of_service(value: str) -> str:
    if len(value) != 2 or not value.isascii() or not value.isdigit():
        raise CellRefused("not a place of service: two digits, such as 11.")
    if value not in PLACES_OF_SERVICE:
        raise CellRefused("not an assigned CMS place-of-service code.")
    return value


def relationship(value: str) -> str:
    """The patient's relationship to the subscriber, as its 837P code."""
    word = value.lower().replace(" ", "_").replace("-", "_")
    code = RELATIONSHIPS.get(word)
    if code is not None:
        return code
    if _upper(value) in _RELATIONSHIP_CODES:
        return _upper(value)
    raise CellRefused(
        "not a relationship: self, spouse, child, employee, life_partner, "
        "organ_donor, cadaver_donor, unknown or other (or its 837P code)."
    )


def state(value: str) -> str:
    code = _upper(value)
    if not _STATE.fullmatch(code):
        raise CellRefused("not a state: two letters, such as PA.")
    return code


def postal_code(value: str) -> str:
    match = _POSTAL_CODE.fullmatch(value)
    if match is None:
        raise CellRefused("not a ZIP code: 5 digits, or 9 with an optional hyphen.")
    return "".join(part for part in match.groups() if part)


def tax_id(value: str) -> str:
    match = _TAX_ID.fullmatch(value)
    if match is None:
        raise CellRefused("not an employer id: 9 digits, or 2-7 digits with a hyphen.")
    return value if match.group(1) is None else "".join(match.groups())
