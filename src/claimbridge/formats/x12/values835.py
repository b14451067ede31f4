"""Element values of an 835 (005010X221A1) read into Python values, or refused.

Each reader takes the segment and the element's 1-based index and gives a
string, ``Money``, ``Decimal`` or ``date``; a missing or malformed value
becomes an ``ElementMissing`` or ``ElementInvalid`` that points at the
element, never a ``ValueError``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from claimbridge.errors import ValidationFailed
from claimbridge.formats.x12.errors import ElementInvalid, ElementMissing
from claimbridge.formats.x12.reader import TransactionContext
from claimbridge.formats.x12.records835 import (
    Adjustment,
    Amount,
    Contact,
    DateOf,
    Name,
    Procedure,
    Quantity,
    RawSegment,
    Reference,
)
from claimbridge.types import Money, parse_x12_date

__all__ = ["ElementValues"]

_MAX_CAS_TRIPLES = 6
_CONVENTIONAL_COMPONENT_SEPARATORS = (":", ">")


class ElementValues:
    """Element readers that turn bad values into positioned X12 errors."""

    def __init__(self, context: TransactionContext) -> None:
        self.context = context
        self.component = context.separators.component

    def text(self, segment: list[str], index: int) -> str:
        return segment[index] if index < len(segment) else ""

    def required(self, segment: list[str], index: int) -> str:
        value = self.text(segment, index)
        if not value:
            raise ElementMissing(
                f"{segment[0]}{index:02d} is required.", position=self.context.position(index)
            )
        return value

    def money(self, segment: list[str], index: int) -> Money:
        return self._money(self.required(segment, index), index)

    def optional_money(self, segment: list[str], index: int) -> Money | None:
        value = self.text(segment, index)
        return self._money(value, index) if value else None

    def _money(self, value: str, index: int) -> Money:
        try:
            return Money.parse(value)
        except ValidationFailed as exc:
            raise ElementInvalid(
                "An amount is not a decimal with at most two places.",
                position=self.context.position(index),
            ) from exc

    def decimal(self, segment: list[str], index: int) -> Decimal | None:
        value = self.text(segment, index)
        if not value:
            return None
        digits = value.removeprefix("-").replace(".", "", 1)
        number = Decimal(value) if digits.isdigit() and digits.isascii() else Decimal("NaN")
        if not number.is_finite() or len(value) > 18:
            raise ElementInvalid(
                "A quantity is not a decimal number.", position=self.context.position(index)
            )
        return number

    def day(self, segment: list[str], index: int) -> date:
        value = self.required(segment, index)
        try:
            return parse_x12_date(value)
        except ValidationFailed as exc:
            raise ElementInvalid(
                "A date is not a real CCYYMMDD date.",
                position=self.context.position(index),
                element_code="8",
            ) from exc

    def components(self, segment: list[str], index: int) -> list[str]:
        return self.text(segment, index).split(self.component)

    def raw(self, segment: list[str]) -> RawSegment:
        component = self.component
        return tuple(
            tuple(element.split(component)) if component in element else element
            for element in segment
        )

    # -- small segments, whole --------------------------------------------------------------

    def adjustments(self, segment: list[str]) -> list[Adjustment]:
        group = self.required(segment, 1)
        found = []
        for triple in range(_MAX_CAS_TRIPLES):
            reason_at = 2 + triple * 3
            if not self.text(segment, reason_at):
                continue
            found.append(
                Adjustment(
                    group=group,
                    reason=segment[reason_at],
                    amount=self.money(segment, reason_at + 1),
                    quantity=self.decimal(segment, reason_at + 2),
                )
            )
        if not found:
            raise ElementMissing("CAS02 is required.", position=self.context.position(2))
        return found

    def procedure(self, segment: list[str], index: int) -> Procedure:
        parts = self.components(segment, index)
        if len(parts) == 1:
            parts = self.foreign_components(parts[0], index)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise ElementMissing(
                f"{segment[0]}{index:02d} must be a qualifier and a code (e.g. HC:99213).",
                position=self.context.position(index, 2),
            )
        return Procedure(
            qualifier=parts[0],
            code=parts[1],
            modifiers=tuple(part for part in parts[2:6] if part),
            description=parts[6] if len(parts) > 6 else "",
        )

    def foreign_components(self, text: str, index: int) -> list[str]:
        """A composite written with another file's component separator, flagged.

        Some published 835 examples keep ``>`` inside SVC01 after their ISA16
        was changed to ``:``; the code is still unambiguous, so it is read.
        """
        for separator in _CONVENTIONAL_COMPONENT_SEPARATORS:
            if separator != self.component and separator in text:
                self.context.note(
                    ElementInvalid(
                        "A composite uses a component separator other than ISA16's.",
                        position=self.context.position(index),
                        element_code="6",
                    )
                )
                return text.split(separator)
        return [text]

    def name(self, segment: list[str]) -> Name:
        return Name(
            role=self.required(segment, 1),
            is_person=self.text(segment, 2) == "1",
            last_or_organization=self.text(segment, 3),
            first=self.text(segment, 4),
            middle=self.text(segment, 5),
            suffix=self.text(segment, 7),
            id_qualifier=self.text(segment, 8),
            identifier=self.text(segment, 9),
        )

    def reference(self, segment: list[str]) -> Reference:
        return Reference(self.required(segment, 1), self.required(segment, 2))

    def date(self, segment: list[str]) -> DateOf:
        return DateOf(self.required(segment, 1), self.day(segment, 2))

    def amount(self, segment: list[str]) -> Amount:
        return Amount(self.required(segment, 1), self.money(segment, 2))

    def quantity(self, segment: list[str]) -> Quantity:
        value = self.decimal(segment, 2)
        if value is None:
            raise ElementMissing("QTY02 is required.", position=self.context.position(2))
        return Quantity(self.required(segment, 1), value)

    def contact(self, segment: list[str]) -> Contact:
        channels = tuple(
            (segment[index], self.text(segment, index + 1))
            for index in (3, 5, 7)
            if self.text(segment, index)
        )
        return Contact(self.required(segment, 1), self.text(segment, 2), channels)
