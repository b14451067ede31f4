"""Typed, path-aware access to the JSON of a FHIR resource.

An ``Element`` is one JSON object of a resource together with its path
(``Bundle.entry[3].resource.item[0]``). Its accessors return Python values
of the FHIR JSON type they expect and refuse anything else with an error
naming the path: FHIR JSON carries integers and decimals as JSON numbers
(never strings, never ``true``), strings as strings, lists as arrays. The
structure check (``validate``) is lax in places (it coerces ``"1"`` to 1),
so what is read is checked again here, where it is read.

Codings are looked up by system: ``code_in(concept, systems)`` gives the
first code of a ``CodeableConcept`` from one of ``systems``, with its path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date
from decimal import Decimal
from typing import Any, TypeAlias, TypeVar

from claimbridge.errors import ValidationFailed
from claimbridge.formats.fhir.errors import ElementInvalid, ElementMissing

__all__ = ["Element", "JSONObject", "checked", "code_in", "parse_day"]

T = TypeVar("T")

JSONObject: TypeAlias = dict[str, Any]

# FHIR date and dateTime: a full date, optionally followed by a time.
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T.*)?", re.DOTALL)


class Element:
    """One JSON object of a resource and the path that leads to it."""

    __slots__ = ("data", "path")

    def __init__(self, data: JSONObject, path: str) -> None:
        self.data = data
        self.path = path

    def at(self, name: str) -> str:
        return f"{self.path}.{name}"

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def missing(self, name: str, message: str) -> ElementMissing:
        return ElementMissing(message, path=self.at(name))

    def invalid(self, name: str, message: str) -> ElementInvalid:
        return ElementInvalid(message, path=self.at(name))

    def object(self, name: str) -> Element | None:
        """The object at ``name``, or ``None`` when absent."""
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.invalid(name, f"{name} must be a JSON object.")
        return Element(value, self.at(name))

    def need(self, name: str, message: str) -> Element:
        """The object at ``name``; ``message`` says why it is required when absent."""
        found = self.object(name)
        if found is None:
            raise self.missing(name, message)
        return found

    def objects(self, name: str) -> list[Element]:
        """The objects of the array at ``name``, in order; none when absent."""
        path = self.at(name)
        found = []
        for index, value in enumerate(self._array(name)):
            where = f"{path}[{index}]"
            if not isinstance(value, dict):
                raise ElementInvalid(f"Each entry of {name} must be a JSON object.", path=where)
            found.append(Element(value, where))
        return found

    def string(self, name: str, *, required: str = "") -> str:
        """The string at ``name``, or ``""`` when absent and not ``required``."""
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise self.missing(name, required)
            return ""
        if not isinstance(value, str):
            raise self.invalid(name, f"{name} must be a JSON string.")
        return value

    def strings(self, name: str) -> list[str]:
        path = self.at(name)
        values = self._array(name)
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise ElementInvalid(f"{name} must hold strings.", path=f"{path}[{index}]")
        return values

    def integer(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.invalid(name, f"{name} must be a whole JSON number.")
        return value

    def integers(self, name: str) -> list[int]:
        path = self.at(name)
        values = self._array(name)
        for index, value in enumerate(values):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ElementInvalid(
                    f"{name} must hold whole JSON numbers.", path=f"{path}[{index}]"
                )
        return values

    def decimal(self, name: str) -> Decimal | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.invalid(name, f"{name} must be a JSON number.")
        return Decimal(value)

    def boolean(self, name: str) -> bool | None:
        value = self.data.get(name)
        if value is not None and not isinstance(value, bool):
            raise self.invalid(name, f"{name} must be true or false.")
        return value

    def day(self, name: str) -> date | None:
        """A FHIR date or dateTime at ``name`` as the day it names; partial dates are refused."""
        text = self.string(name)
        return parse_day(text, self.at(name)) if text else None

    def need_day(self, name: str, message: str) -> date:
        """The day at ``name``; ``message`` says why it is required when absent."""
        return parse_day(self.string(name, required=message), self.at(name))

    def _array(self, name: str) -> list[Any]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.invalid(name, f"{name} must be a JSON array.")
        return value


def parse_day(text: str, path: str) -> date:
    """The day a FHIR date or dateTime names; a year or a month alone is refused."""
    match = _DAY.fullmatch(text)
    if match is None:
        raise ElementInvalid("A full date (YYYY-MM-DD) is required here.", path=path)
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise ElementInvalid("The date is not a real calendar date.", path=path) from None


def code_in(concept: Element | None, systems: Collection[str]) -> tuple[str, str] | None:
    """The first code of ``concept`` from one of ``systems``, with the path of its coding."""
    if concept is None:
        return None
    for coding in concept.objects("coding"):
        if coding.string("system") in systems:
            code = coding.string("code", required="The coding has no code.")
            return code, coding.at("code")
    return None


def checked(parse: Callable[[str], T], text: str, *, path: str, message: str) -> T:
    """``parse(text)``, its refusal turned into an ``ElementInvalid`` at ``path``.

    The shared value types quote a refused value that looks like a code; a
    diagnosis or procedure code beside a patient is PHI, so the message here
    is the caller's, and the original is not chained.
    """
    try:
        return parse(text)
    except ValidationFailed:
        raise ElementInvalid(message, path=path) from None
