"""The ISA interchange header (X12.5): fixed width, and the separators it names.

The ISA is the one segment read by position rather than by separator: 106
characters, each element padded to its width, so that its fourth character
is the element separator, ISA11 the repetition separator, ISA16 the
component separator and the character after ISA16 the segment terminator.
"""

from __future__ import annotations

from dataclasses import dataclass

from claimbridge.formats.x12.errors import ISAMalformed, Position

__all__ = ["DEFAULT_SEPARATORS", "ISA_LENGTH", "Separators", "parse_isa"]

ISA_LENGTH = 106

# Widths of ISA01..ISA16 in the fixed-width header.
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


def _is_delimiter(char: str) -> bool:
    return not char.isalnum() and char != " "


@dataclass(frozen=True, slots=True)
class Separators:
    """The four delimiters of an interchange."""

    element: str
    component: str
    repetition: str | None
    segment: str

    def __post_init__(self) -> None:
        chosen = [self.element, self.component, self.segment]
        if self.repetition is not None:
            chosen.append(self.repetition)
        if any(len(char) != 1 or not _is_delimiter(char) for char in chosen):
            raise ValueError("each separator must be one character, not a letter, digit or space")
        if len(set(chosen)) != len(chosen):
            raise ValueError("the separators must differ from each other")


DEFAULT_SEPARATORS = Separators(element="*", component=":", repetition="^", segment="~")


def parse_isa(header: str, *, segment_number: int = 1, offset: int = 0) -> Separators:
    """The separators an ISA header names, checking its fixed-width form.

    ``header`` holds at least the 106 characters of the ISA, terminator
    included.
    """
    where = Position(segment_number, "ISA", offset=offset)
    if len(header) < ISA_LENGTH:
        raise ISAMalformed(
            "The input ends inside the ISA header, which is 106 characters long.",
            position=where,
            interchange_code="023",
        )
    element = header[3]
    fields = header[4:ISA_LENGTH].split(element, 15)
    for index, width in enumerate(_ISA_WIDTHS[:15]):
        if index >= len(fields) - 1 or len(fields[index]) != width:
            raise ISAMalformed(
                f"ISA{index + 1:02d} must be {width} characters wide; the ISA header "
                "is fixed-width, so its separators cannot be read.",
                position=Position(segment_number, "ISA", element=index + 1, offset=offset),
            )
    component, terminator = header[104], header[105]
    repetition: str | None = header[82]
    if repetition in (element, component, terminator) or not _is_delimiter(header[82]):
        # 4010 kept a "U" here; some 5010 files repeat the component
        # separator. Either way the interchange has no repetition separator.
        repetition = None
    try:
        return Separators(element, component, repetition, terminator)
    except ValueError as exc:
        raise ISAMalformed(
            "The ISA header names a separator that is a letter, digit or space, "
            "or the same separator twice.",
            position=where,
            interchange_code="026" if element.isalnum() else "004",
        ) from exc
