"""Fast readers for the element values 837 claims carry (005010X222A1, 005010X223A2).

Amounts, quantities and dates repeat a great deal within a file (the same
fee, one unit, this week's dates), and the records holding them are
immutable, so the readers keep a small cache from the element text to the
value. A cache is cleared when it fills, which bounds its memory whatever
the input. Each reader returns ``None`` for text that is not a valid value;
the caller knows the position and raises.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from claimbridge.types import Money, ServicePeriod

__all__ = [
    "composite_cache",
    "day",
    "decimal",
    "decimals",
    "format_decimal",
    "money",
    "monies",
    "period",
    "periods",
    "remember",
    "time_of_day",
]

_CACHE_LIMIT = 4096

# The caches, by element text ("D8" or "RD8" before a date): readers on a
# hot path may look a value up here before calling the function.
_MAX_DIGITS = 18

monies: dict[str, Money] = {}
periods: dict[str, ServicePeriod] = {}
decimals: dict[str, Decimal] = {}


_composite_caches: dict[tuple[str, str], dict[str, Any]] = {}


def composite_cache(name: str, separator: str) -> dict[str, Any]:
    """A cache of composites read with one component separator.

    The same text means different components under different separators
    ("HC:99213" is two components with ":", one with ">"), so each
    separator has its own cache. The number of caches is bounded too.
    """
    cache = _composite_caches.get((name, separator))
    if cache is None:
        if len(_composite_caches) >= 16:
            _composite_caches.clear()
        cache = _composite_caches[name, separator] = {}
    return cache


def remember(cache: dict[str, Any], text: str, value: Any) -> None:
    """Keep ``value`` for ``text``, emptying the cache first when it is full."""
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[text] = value


def _plain_number(text: str) -> tuple[bool, str, str] | None:
    """Split an X12 decimal (``R``) into sign, whole digits and fraction digits."""
    if not text.isascii():
        return None
    negative = text[:1] == "-"
    body = text[1:] if negative else text
    whole, dot, fraction = body.partition(".")
    if whole and not whole.isdigit():
        return None
    if dot and not fraction.isdigit():
        return None
    if not whole and not fraction:
        return None
    if len(whole) + len(fraction) > _MAX_DIGITS:
        return None
    return negative, whole, fraction


def money(text: str) -> Money | None:
    """An amount such as ``"79.04"``, ``"43"`` or ``"-9.00"``; ``None`` if not one."""
    cached = monies.get(text)
    if cached is not None:
        return cached
    parts = _plain_number(text)
    if parts is None:
        return None
    negative, whole, fraction = parts
    if fraction[2:].strip("0"):
        return None  # Fractions of a cent are never rounded away.
    cents = int(whole or "0") * 100 + int((fraction + "00")[:2])
    value = Money(-cents if negative else cents)
    if len(monies) >= _CACHE_LIMIT:
        monies.clear()
    monies[text] = value
    return value


def decimal(text: str) -> Decimal | None:
    """A quantity such as ``"1"``, ``"7.00"`` or ``"1.5"``; ``None`` if not one."""
    cached = decimals.get(text)
    if cached is not None:
        return cached
    if _plain_number(text) is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - _plain_number admits only decimals
        return None
    if len(decimals) >= _CACHE_LIMIT:
        decimals.clear()
    decimals[text] = value
    return value


def format_decimal(value: Decimal) -> str:
    """A quantity as X12 writes it: no exponent, no trailing zeros after the point."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def day(text: str) -> date | None:
    """A ``CCYYMMDD`` date; ``None`` if not a real calendar date.

    Not cached: the days read one by one are birth dates (``DMG``), one per
    person, which would only push the rest out; service dates repeat and
    are cached as periods.
    """
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return None
    try:
        # Eight ASCII digits are ISO 8601's basic form, which fromisoformat reads in C.
        return date.fromisoformat(text)
    except ValueError:
        return None


def period(qualifier: str, text: str) -> ServicePeriod | None:
    """A ``D8`` day or ``RD8`` range of days as a period; ``None`` if not valid."""
    key = qualifier + text
    cached = periods.get(key)
    if cached is not None:
        return cached
    if qualifier == "D8":
        first = last = day(text)
    elif qualifier == "RD8":
        start, hyphen, end = text.partition("-")
        first, last = day(start), day(end)
        if not hyphen:
            return None
    else:
        return None
    if first is None or last is None or last < first:
        return None
    value = ServicePeriod(first, last)
    if len(periods) >= _CACHE_LIMIT:
        periods.clear()
    periods[key] = value
    return value


def time_of_day(text: str) -> time | None:
    """An ``HHMM`` or ``HHMMSS`` time; ``None`` if not a real time."""
    if len(text) not in (4, 6) or not text.isascii() or not text.isdigit():
        return None
    seconds = int(text[4:6]) if len(text) == 6 else 0
    try:
        return time(int(text[:2]), int(text[2:4]), seconds)
    except ValueError:
        return None
