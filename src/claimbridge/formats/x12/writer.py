"""Write X12 5010 interchanges: one ISA/IEA with one GS/GE and its sets.

The writers for 837P, 835 and 999 build the body segments of their sets;
this module wraps them in ST/SE, GS/GE and ISA/IEA (X12.5 interchange
control structure) with control numbers and counts filled in. Nothing is
escaped, because X12 has no escape: an element value that contains one of
the separators is refused, so a value can never split a segment.

An element is a string, or a tuple of strings for a composite (its
components). Trailing empty elements and components are dropped, as the
standard requires.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from claimbridge.formats.x12.errors import ElementInvalid, Position
from claimbridge.formats.x12.lexer import DEFAULT_SEPARATORS, Separators

__all__ = [
    "Element",
    "OutgoingSet",
    "SegmentOut",
    "encode_isa",
    "iter_interchange",
    "write_interchange",
]

Element: TypeAlias = str | tuple[str, ...]
SegmentOut: TypeAlias = Sequence[Element]

_MAX_CONTROL = 999_999_999


@dataclass(frozen=True, slots=True)
class OutgoingSet:
    """One transaction set to write: ST01, the guide (ST03) and its body."""

    set_id: str
    guide: str
    body: Iterable[SegmentOut]


def write_interchange(
    sets: Iterable[OutgoingSet],
    *,
    sender: str,
    receiver: str,
    interchange_control_number: int,
    group_control_number: int,
    functional_id: str,
    now: datetime,
    separators: Separators = DEFAULT_SEPARATORS,
    usage: str = "P",
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    acknowledgment_requested: bool = False,
    line_breaks: bool = False,
) -> bytes:
    """The whole interchange as bytes (UTF-8)."""
    return b"".join(
        iter_interchange(
            sets,
            sender=sender,
            receiver=receiver,
            interchange_control_number=interchange_control_number,
            group_control_number=group_control_number,
            functional_id=functional_id,
            now=now,
            separators=separators,
            usage=usage,
            sender_qualifier=sender_qualifier,
            receiver_qualifier=receiver_qualifier,
            acknowledgment_requested=acknowledgment_requested,
            line_breaks=line_breaks,
        )
    )


def iter_interchange(
    sets: Iterable[OutgoingSet],
    *,
    sender: str,
    receiver: str,
    interchange_control_number: int,
    group_control_number: int,
    functional_id: str,
    now: datetime,
    separators: Separators = DEFAULT_SEPARATORS,
    usage: str = "P",
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    acknowledgment_requested: bool = False,
    line_breaks: bool = False,
) -> Iterator[bytes]:
    """The interchange in pieces of about 64 KiB, for streaming to a file."""
    encoder = _Encoder(separators, line_breaks=line_breaks)
    for value in (sender, receiver, functional_id, sender_qualifier, receiver_qualifier):
        encoder.check_value(value)
    _check_header(
        sender=sender,
        receiver=receiver,
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        usage=usage,
        functional_id=functional_id,
    )
    isa = encode_isa(
        sender=(sender_qualifier, sender),
        receiver=(receiver_qualifier, receiver),
        control=interchange_control_number,
        now=now,
        separators=separators,
        usage=usage,
        acknowledgment_requested=acknowledgment_requested,
    )
    buffer: list[str] = [isa + encoder.terminator]
    size = len(buffer[0])
    count = 0
    group_open = False
    for number, outgoing in enumerate(sets, start=1):
        if not group_open:
            gs = [
                "GS",
                functional_id,
                sender,
                receiver,
                f"{now:%Y%m%d}",
                f"{now:%H%M}",
                str(group_control_number),
                "X",
                outgoing.guide,
            ]
            buffer.append(encoder.segment(gs))
            group_open = True
        for text in _set(outgoing, number, encoder):
            buffer.append(text)
            size += len(text)
            if size >= 1 << 16:
                yield "".join(buffer).encode("utf-8")
                buffer, size = [], 0
        count = number
    if group_open:
        buffer.append(encoder.segment(["GE", str(count), str(group_control_number)]))
    groups = "1" if group_open else "0"
    buffer.append(encoder.segment(["IEA", groups, f"{interchange_control_number:09d}"]))
    yield "".join(buffer).encode("utf-8")


def _set(outgoing: OutgoingSet, number: int, encoder: _Encoder) -> Iterator[str]:
    control = f"{number:04d}"
    yield encoder.segment(["ST", outgoing.set_id, control, outgoing.guide])
    count = 1
    for segment in outgoing.body:
        count += 1
        yield encoder.segment(segment, number=count)
    yield encoder.segment(["SE", str(count + 1), control])


class _Encoder:
    """Joins elements with the separators, refusing values that contain one."""

    def __init__(self, separators: Separators, *, line_breaks: bool) -> None:
        self.separators = separators
        self.terminator = separators.segment + ("\n" if line_breaks else "")
        reserved = {separators.element, separators.component, separators.segment}
        if separators.repetition is not None:
            reserved.add(separators.repetition)
        self._reserved = frozenset(reserved)

    def segment(self, elements: SegmentOut, *, number: int = 0) -> str:
        texts = [self._element(element, number, index) for index, element in enumerate(elements)]
        while len(texts) > 1 and not texts[-1]:
            texts.pop()
        return self.separators.element.join(texts) + self.terminator

    def _element(self, element: Element, number: int, index: int) -> str:
        if isinstance(element, str):
            self._check(element, number, index)
            return element
        components = list(element)
        for component in components:
            self._check(component, number, index)
        while components and not components[-1]:
            components.pop()
        return self.separators.component.join(components)

    def check_value(self, value: str) -> None:
        self._check(value, 0, 0)

    def _check(self, value: str, number: int, index: int) -> None:
        if self._reserved.isdisjoint(value) and "\n" not in value and "\r" not in value:
            return
        raise ElementInvalid(
            "An element value contains a separator or a line break; X12 cannot escape it.",
            position=Position(number, "?", index or None),
            element_code="6",
        )


def _check_header(
    *,
    sender: str,
    receiver: str,
    interchange_control_number: int,
    group_control_number: int,
    usage: str,
    functional_id: str,
) -> None:
    problems = []
    if not 0 < len(sender) <= 15 or not 0 < len(receiver) <= 15:
        problems.append("sender and receiver ids must be 1 to 15 characters")
    if not 0 < interchange_control_number <= _MAX_CONTROL:
        problems.append("the interchange control number must be 1 to 999999999")
    if not 0 < group_control_number <= _MAX_CONTROL:
        problems.append("the group control number must be 1 to 999999999")
    if usage not in ("P", "T"):
        problems.append("usage must be P (production) or T (test)")
    if len(functional_id) != 2:
        problems.append("the functional identifier code is two characters")
    if problems:
        raise ElementInvalid("Cannot write the interchange: " + "; ".join(problems) + ".")


def encode_isa(
    *,
    sender: tuple[str, str],
    receiver: tuple[str, str],
    control: int,
    now: datetime,
    separators: Separators,
    usage: str,
    acknowledgment_requested: bool,
) -> str:
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        sender[0],
        sender[1].ljust(15),
        receiver[0],
        receiver[1].ljust(15),
        f"{now:%y%m%d}",
        f"{now:%H%M}",
        separators.repetition or "U",
        "00501",
        f"{control:09d}",
        "1" if acknowledgment_requested else "0",
        usage,
        separators.component,
    ]
    return separators.element.join(fields)
