"""The value types every layer shares: ids, money, provider and service codes, dates.

Each type is a frozen, slotted dataclass holding one canonical form, so two
values are equal (and hash alike) exactly when they mean the same thing.
``parse`` accepts what claims and remittances actually carry (lower case, a
dotted diagnosis, a decimal amount) and normalises it; the constructor
accepts only the canonical form, so a value that exists is a valid one.
``str()`` gives the canonical code back.

Every refusal is a ``ValidationFailed`` whose ``where`` names the field;
``parse`` takes ``where=`` so a caller (an X12 reader, a CSV import) can
point at the segment or column. Handing a ``float`` to anything that holds
money is a ``TypeError``: binary fractions cannot hold cents exactly.

Sources: the NPI check digit follows the CMS note on constructing it (Luhn
over the card-issuer prefix 80840 and the first nine digits); code shapes follow the ICD-10-CM
and HCPCS coding conventions; modifiers and places of service are the CMS
lists named beside them.

This is a core module: it imports the standard library and ``errors`` only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Context, Decimal
from types import MappingProxyType
from typing import Literal, TypeAlias

from claimbridge.errors import ValidationFailed

__all__ = [
    "ICD10CM",
    "NCCI_ASSOCIATED_MODIFIERS",
    "NPI",
    "PLACES_OF_SERVICE",
    "DateOfService",
    "Modifier",
    "Money",
    "PlaceOfService",
    "ProcedureCode",
    "ProcedureKind",
    "ServicePeriod",
    "check_digit",
    "new_id",
    "parse_x12_date",
    "parse_x12_period",
]


def new_id() -> str:
    """A fresh random identifier (UUID version 4) as a string.

    Ids are random rather than sequential so that one id says nothing about
    how many records exist or which id comes next.
    """
    return str(uuid.uuid4())


# A refused value is quoted only when it looks like a code: short, made of
# code characters, with a digit in it. A shifted CSV column or a misread X12
# element can put a patient's name or a free-text note into a code field, and
# messages reach callers and logs, so anything else is described by length.
_QUOTABLE = re.compile(r"[A-Za-z0-9.\-]{1,20}")


def _shown(text: str) -> str:
    if not text:
        return "an empty value"
    if _QUOTABLE.fullmatch(text) and any(char.isdigit() for char in text):
        return repr(text)
    return f"a {len(text)}-character value"


def _require_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} takes a str, not {type(value).__name__}")
    return value


def _upper_ascii(text: str) -> str:
    # Upper-casing non-ASCII text can produce ASCII ("ß" becomes "SS"), which
    # would turn a garbled code into a valid-looking one; such text is left
    # alone and every pattern below refuses it.
    return text.upper() if text.isascii() else text


# --- National Provider Identifier -------------------------------------------------

# The NPI is a card number under issuer prefix 80840 (ISO 7812); its Luhn sum
# covers that prefix too, which adds a constant 24 to every NPI's sum.
_NPI_PREFIX = "80840"
_NINE_DIGITS = re.compile(r"[0-9]{9}")


def _luhn_check_digit(payload: str) -> str:
    total = 0
    # Walking from the right, the first payload digit is doubled because the
    # check digit will sit to its right.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str(-total % 10)


def check_digit(nine_digits: str) -> str:
    """The NPI check digit for the first nine digits of an NPI.

    ``check_digit("123456789") == "3"``: the CMS worked example.
    """
    _require_str(nine_digits, "check_digit")
    if not _NINE_DIGITS.fullmatch(nine_digits):
        raise ValidationFailed(
            f"An NPI check digit needs exactly nine digits; got {_shown(nine_digits)}.",
            where="NPI",
        )
    return _luhn_check_digit(_NPI_PREFIX + nine_digits)


def _check_npi(text: str, where: str) -> str:
    _require_str(text, "NPI")
    shown = _shown(text)
    if len(text) != 10:
        raise ValidationFailed(f"An NPI must be 10 digits; got {shown}.", where=where)
    if not text.isascii() or not text.isdigit():
        raise ValidationFailed(f"An NPI must contain only digits; got {shown}.", where=where)
    if text[0] not in "12":
        raise ValidationFailed(f"An NPI must start with 1 or 2; got {shown}.", where=where)
    if check_digit(text[:9]) != text[9]:
        raise ValidationFailed(f"NPI {shown} fails its check digit.", where=where)
    return text


@dataclass(frozen=True, slots=True, order=True)
class NPI:
    """A National Provider Identifier: ten digits, the last a check digit."""

    number: str

    def __post_init__(self) -> None:
        _check_npi(self.number, "NPI")

    def __str__(self) -> str:
        return self.number

    @classmethod
    def parse(cls, text: str, *, where: str = "NPI") -> NPI:
        return cls(_check_npi(text, where))


# --- Money ----------------------------------------------------------------------

# "123.45", "-12.30", "100", ".5": what X12 R elements and CSV amounts carry.
# No sign but "-", no exponent, no spaces, no thousands separators.
_AMOUNT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")

# X12 allows 18 digits in an amount; two of them are cents. The bound also
# keeps a hostile amount from costing more than a few microseconds to read.
_MAX_WHOLE_DIGITS = 16
_CENT = Decimal("0.01")


def _refuse_float(value: object, what: str) -> None:
    if isinstance(value, float):
        raise TypeError(
            f"{what} does not accept a float, which cannot hold cents exactly; "
            "pass a decimal string or a Decimal"
        )


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An exact amount of US dollars, held as whole cents.

    Amounts add, subtract, negate, compare and ``sum()`` exactly, and
    multiply by whole numbers (units) only.
    """

    cents: int

    def __post_init__(self) -> None:
        _refuse_float(self.cents, "Money")
        if isinstance(self.cents, bool) or not isinstance(self.cents, int):
            raise TypeError(f"Money holds whole cents as int, not {type(self.cents).__name__}")

    @classmethod
    def parse(cls, text: str, *, where: str = "amount") -> Money:
        """Read a decimal amount such as ``"123.45"``, ``"-12.30"`` or ``".5"``.

        Places past the cents are accepted only when they are zeros: an
        amount is never rounded on the way in.
        """
        _refuse_float(text, "Money.parse")
        _require_str(text, "Money.parse")
        if not _AMOUNT.fullmatch(text):
            raise ValidationFailed(
                f"An amount must be a plain decimal such as 123.45; got {_shown(text)}.",
                where=where,
            )
        return cls.from_decimal(Decimal(text), where=where)

    @classmethod
    def from_decimal(cls, value: Decimal, *, where: str = "amount") -> Money:
        """The amount a ``Decimal`` holds, refusing fractions of a cent."""
        _refuse_float(value, "Money.from_decimal")
        if not isinstance(value, Decimal):
            raise TypeError(f"Money.from_decimal takes a Decimal, not {type(value).__name__}")
        if not value.is_finite():
            raise ValidationFailed("An amount must be a finite number.", where=where)
        if value.is_zero():
            return cls(0)
        if value.adjusted() >= _MAX_WHOLE_DIGITS:
            raise ValidationFailed(
                f"An amount may have at most {_MAX_WHOLE_DIGITS} digits before the point.",
                where=where,
            )
        # Within the bound above, 40 digits of precision keep every step exact.
        context = Context(prec=40)
        whole_cents = value.quantize(_CENT, context=context)
        if whole_cents != value:
            raise ValidationFailed(
                f"An amount may have at most 2 decimal places; got {_shown(str(value))}.",
                where=where,
            )
        return cls(int(whole_cents.scaleb(2, context=context)))

    def to_decimal(self) -> Decimal:
        return Decimal(str(self))

    def __str__(self) -> str:
        sign = "-" if self.cents < 0 else ""
        dollars, cents = divmod(abs(self.cents), 100)
        return f"{sign}{dollars}.{cents:02d}"

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.cents + other.cents)

    def __radd__(self, other: int) -> Money:
        # Only so that ``sum(amounts)`` works with its default start of 0.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.cents - other.cents)

    def __neg__(self) -> Money:
        return Money(-self.cents)

    def __mul__(self, units: int) -> Money:
        if isinstance(units, bool) or not isinstance(units, int):
            return NotImplemented
        return Money(self.cents * units)

    __rmul__ = __mul__


# --- Diagnosis codes --------------------------------------------------------------

# A category (letter, digit, letter or digit), then up to four more
# characters, with the dot after the category optional. Every letter is
# allowed first: U is reserved for emergency use and does occur (U07.1).
_ICD10CM_TEXT = re.compile(r"([A-Z][0-9][A-Z0-9])(?:\.?([A-Z0-9]{1,4}))?")
_ICD10CM_CANONICAL = re.compile(r"[A-Z][0-9][A-Z0-9]{1,5}")


def _refuse_icd10cm(text: str, where: str) -> ValidationFailed:
    return ValidationFailed(
        "An ICD-10-CM code is a letter, a digit, a letter or digit, then up to four "
        f"more letters or digits (E11.9, S72.001A); got {_shown(text)}.",
        where=where,
    )


@dataclass(frozen=True, slots=True, order=True)
class ICD10CM:
    """An ICD-10-CM diagnosis code, stored upper-case without its dot (as X12 carries it)."""

    code: str

    def __post_init__(self) -> None:
        _require_str(self.code, "ICD10CM")
        if not _ICD10CM_CANONICAL.fullmatch(self.code):
            raise _refuse_icd10cm(self.code, "ICD-10-CM code")

    def __str__(self) -> str:
        return self.code

    @property
    def dotted(self) -> str:
        """The code as people write it: ``E11.9``."""
        if len(self.code) == 3:
            return self.code
        return f"{self.code[:3]}.{self.code[3:]}"

    @classmethod
    def parse(cls, text: str, *, where: str = "ICD-10-CM code") -> ICD10CM:
        """Read ``E11.9``, ``e119`` or ``E119``; all three give the same code."""
        _require_str(text, "ICD10CM.parse")
        match = _ICD10CM_TEXT.fullmatch(_upper_ascii(text))
        if match is None:
            raise _refuse_icd10cm(text, where)
        category, rest = match.groups()
        return cls(category + (rest or ""))


# --- Procedure codes and modifiers ------------------------------------------------

ProcedureKind: TypeAlias = Literal["CPT", "CPT-II", "CPT-III", "PLA", "HCPCS"]

# CPT Category I is five digits; Categories II and III and Proprietary
# Laboratory Analyses are four digits and F, T or U. HCPCS Level II is a
# letter from A to V and four digits.
_PROCEDURE = re.compile(r"[0-9]{5}|[0-9]{4}[FTU]|[A-V][0-9]{4}")
_CPT_SUFFIX_KINDS: Mapping[str, ProcedureKind] = MappingProxyType(
    {"F": "CPT-II", "T": "CPT-III", "U": "PLA"}
)


def _refuse_procedure(text: str, where: str) -> ValidationFailed:
    return ValidationFailed(
        "A procedure code is a CPT code (five digits, or four digits and F, T or U) "
        f"or a HCPCS Level II code (a letter A-V and four digits); got {_shown(text)}.",
        where=where,
    )


@dataclass(frozen=True, slots=True, order=True)
class ProcedureCode:
    """A CPT or HCPCS Level II procedure code, upper-case."""

    code: str

    def __post_init__(self) -> None:
        _require_str(self.code, "ProcedureCode")
        if not _PROCEDURE.fullmatch(self.code):
            raise _refuse_procedure(self.code, "procedure code")

    def __str__(self) -> str:
        return self.code

    @property
    def kind(self) -> ProcedureKind:
        if self.code[0].isalpha():
            return "HCPCS"
        return _CPT_SUFFIX_KINDS.get(self.code[4], "CPT")

    @classmethod
    def parse(cls, text: str, *, where: str = "procedure code") -> ProcedureCode:
        _require_str(text, "ProcedureCode.parse")
        code = _upper_ascii(text)
        if not _PROCEDURE.fullmatch(code):
            raise _refuse_procedure(text, where)
        return cls(code)


# Modifiers that may bypass an NCCI procedure-to-procedure edit whose modifier
# indicator is 1, when the clinical circumstances justify them. Source: the
# NCCI Policy Manual for Medicare Services, Chapter I, section E ("Modifiers
# and Modifier Indicators"). Any other modifier leaves such an edit in force.
NCCI_ASSOCIATED_MODIFIERS: frozenset[str] = frozenset(
    {
        # Anatomic: eyelids, fingers, toes, sides of the body, coronary arteries.
        *("E1", "E2", "E3", "E4"),
        *("FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9"),
        *("TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9"),
        *("LT", "RT", "LC", "LD", "LM", "RC", "RI"),
        # Global surgery.
        *("24", "25", "57", "58", "78", "79"),
        # Other: separate site or session, distinct service, repeat test.
        *("27", "59", "91", "XE", "XS", "XP", "XU"),
    }
)

_MODIFIER = re.compile(r"[A-Z0-9]{2}")


def _refuse_modifier(text: str, where: str) -> ValidationFailed:
    return ValidationFailed(
        f"A modifier is two letters or digits (25, 59, XS, LT); got {_shown(text)}.",
        where=where,
    )


@dataclass(frozen=True, slots=True, order=True)
class Modifier:
    """A CPT or HCPCS procedure modifier, upper-case."""

    code: str

    def __post_init__(self) -> None:
        _require_str(self.code, "Modifier")
        if not _MODIFIER.fullmatch(self.code):
            raise _refuse_modifier(self.code, "modifier")

    def __str__(self) -> str:
        return self.code

    @property
    def is_ncci_associated(self) -> bool:
        """Whether this modifier can bypass an NCCI edit with modifier indicator 1."""
        return self.code in NCCI_ASSOCIATED_MODIFIERS

    @classmethod
    def parse(cls, text: str, *, where: str = "modifier") -> Modifier:
        _require_str(text, "Modifier.parse")
        code = _upper_ascii(text)
        if not _MODIFIER.fullmatch(code):
            raise _refuse_modifier(text, where)
        return cls(code)


# --- Places of service ------------------------------------------------------------

# The CMS Place of Service Code Set (Medicare Claims Processing Manual,
# chapter 26, section 10.5), short names as CMS gives them. Codes not listed
# are unassigned and refused. Later additions: 10 from 2022-01-01 (02
# renamed the same day), 58 from 2020-01-01, 27 from 2023-10-01.
PLACES_OF_SERVICE: Mapping[str, str] = MappingProxyType(
    {
        "01": "Pharmacy",
        "02": "Telehealth Provided Other than in Patient's Home",
        "03": "School",
        "04": "Homeless Shelter",
        "05": "Indian Health Service Free-standing Facility",
        "06": "Indian Health Service Provider-based Facility",
        "07": "Tribal 638 Free-standing Facility",
        "08": "Tribal 638 Provider-based Facility",
        "09": "Prison/Correctional Facility",
        "10": "Telehealth Provided in Patient's Home",
        "11": "Office",
        "12": "Home",
        "13": "Assisted Living Facility",
        "14": "Group Home",
        "15": "Mobile Unit",
        "16": "Temporary Lodging",
        "17": "Walk-in Retail Health Clinic",
        "18": "Place of Employment-Worksite",
        "19": "Off Campus-Outpatient Hospital",
        "20": "Urgent Care Facility",
        "21": "Inpatient Hospital",
        "22": "On Campus-Outpatient Hospital",
        "23": "Emergency Room – Hospital",
        "24": "Ambulatory Surgical Center",
        "25": "Birthing Center",
        "26": "Military Treatment Facility",
        "27": "Outreach Site/Street",
        "31": "Skilled Nursing Facility",
        "32": "Nursing Facility",
        "33": "Custodial Care Facility",
        "34": "Hospice",
        "41": "Ambulance – Land",
        "42": "Ambulance – Air or Water",
        "49": "Independent Clinic",
        "50": "Federally Qualified Health Center",
        "51": "Inpatient Psychiatric Facility",
        "52": "Psychiatric Facility-Partial Hospitalization",
        "53": "Community Mental Health Center",
        "54": "Intermediate Care Facility/Individuals with Intellectual Disabilities",
        "55": "Residential Substance Abuse Treatment Facility",
        "56": "Psychiatric Residential Treatment Center",
        "57": "Non-residential Substance Abuse Treatment Facility",
        "58": "Non-residential Opioid Treatment Facility",
        "60": "Mass Immunization Center",
        "61": "Comprehensive Inpatient Rehabilitation Facility",
        "62": "Comprehensive Outpatient Rehabilitation Facility",
        "65": "End-Stage Renal Disease Treatment Facility",
        "71": "Public Health Clinic",
        "72": "Rural Health Clinic",
        "81": "Independent Laboratory",
        "99": "Other Place of Service",
    }
)

_TWO_DIGITS = re.compile(r"[0-9]{2}")


def _check_place_of_service(text: str, where: str) -> str:
    _require_str(text, "PlaceOfService")
    if not _TWO_DIGITS.fullmatch(text):
        raise ValidationFailed(
            f"A place of service is two digits (11, 02); got {_shown(text)}.", where=where
        )
    if text not in PLACES_OF_SERVICE:
        raise ValidationFailed(
            f"Place of service {text!r} is not an assigned CMS code.", where=where
        )
    return text


@dataclass(frozen=True, slots=True, order=True)
class PlaceOfService:
    """A CMS place-of-service code, such as 11 (Office)."""

    code: str

    def __post_init__(self) -> None:
        _check_place_of_service(self.code, "place of service")

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        """The CMS short name: ``PlaceOfService("11").name == "Office"``."""
        return PLACES_OF_SERVICE[self.code]

    @classmethod
    def parse(cls, text: str, *, where: str = "place of service") -> PlaceOfService:
        return cls(_check_place_of_service(text, where))


# --- Dates of service -------------------------------------------------------------

# Dates of service are PHI under HIPAA, so no message below repeats the date
# it refuses; ``where`` says which field to look at.
_X12_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")


def parse_x12_date(text: str, *, where: str = "date") -> date:
    """Read an X12 D8 date, ``CCYYMMDD``."""
    _require_str(text, "parse_x12_date")
    match = _X12_DATE.fullmatch(text)
    if match is None:
        raise ValidationFailed("A date must be eight digits, CCYYMMDD.", where=where)
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValidationFailed("The date is not a real calendar date.", where=where) from exc


def parse_x12_period(text: str, *, where: str = "service period") -> ServicePeriod:
    """Read an X12 RD8 period, ``CCYYMMDD-CCYYMMDD``, both days included."""
    _require_str(text, "parse_x12_period")
    first, hyphen, last = text.partition("-")
    if not hyphen:
        raise ValidationFailed("A period must be CCYYMMDD-CCYYMMDD.", where=where)
    return ServicePeriod.between(
        parse_x12_date(first, where=where), parse_x12_date(last, where=where), where=where
    )


def _format_x12_date(day: date) -> str:
    # Built by hand: strftime's %Y drops leading zeros from years before 1000.
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _require_date(value: object, what: str) -> None:
    # A datetime is a date subclass, but comparing one with a date raises.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{what} must be a date, not {type(value).__name__}")


def _check_order(first: date, last: date, where: str) -> None:
    if last < first:
        raise ValidationFailed("A service period cannot end before it starts.", where=where)


@dataclass(frozen=True, slots=True, order=True)
class ServicePeriod:
    """The days a service was given, ``first`` to ``last`` inclusive.

    A service on one day is a period whose first and last days are the same.
    """

    first: date
    last: date

    def __post_init__(self) -> None:
        _require_date(self.first, "ServicePeriod.first")
        _require_date(self.last, "ServicePeriod.last")
        _check_order(self.first, self.last, "service period")

    @classmethod
    def on(cls, day: date) -> ServicePeriod:
        return cls(day, day)

    @classmethod
    def between(cls, first: date, last: date, *, where: str = "service period") -> ServicePeriod:
        _check_order(first, last, where)
        return cls(first, last)

    @classmethod
    def parse(cls, text: str, *, where: str = "service period") -> ServicePeriod:
        """Read a D8 date (one day) or an RD8 period."""
        _require_str(text, "ServicePeriod.parse")
        if "-" in text:
            return parse_x12_period(text, where=where)
        return cls.on(parse_x12_date(text, where=where))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last

    def __str__(self) -> str:
        if self.first == self.last:
            return _format_x12_date(self.first)
        return f"{_format_x12_date(self.first)}-{_format_x12_date(self.last)}"


# A line's date of service is a period; a single day is a period of one day.
DateOfService: TypeAlias = ServicePeriod
