"""Read 999 implementation acknowledgments (005010X231A1).

A 999 answers one functional group: AK1 names the group, each AK2 loop
one transaction set with its IK3 segment errors (with CTX context and IK4
element errors) and its IK5 outcome, and AK9 the group's outcome. Each 999
transaction set becomes one ``Acknowledgment``.

The base guide 005010X231 (without the A1 errata) is read and flagged;
other guides are refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from claimbridge.formats.x12.envelope import Outcome, as_count, is_digits
from claimbridge.formats.x12.errors import (
    ElementInvalid,
    ElementMissing,
    GuideErrata,
    GuideUnsupported,
    MissingSegment,
    UnexpectedSegment,
    X12Error,
)
from claimbridge.formats.x12.reader import Reading, TransactionContext, read_transactions

__all__ = [
    "GUIDE_999",
    "Acknowledgment",
    "ElementNote",
    "SegmentContext",
    "SegmentNote",
    "SetAcknowledgment",
    "acknowledgments",
    "read_999",
]

GUIDE_999 = "005010X231A1"
_MOST_ELEMENTS = {"AK1": 3, "AK2": 3, "IK3": 4, "IK4": 4, "CTX": 6, "IK5": 6, "AK9": 9}
_ERRATA = frozenset({"005010X231"})

SET_OUTCOMES = frozenset({"A", "E", "M", "R", "W", "X"})
GROUP_OUTCOMES = frozenset({"A", "E", "M", "P", "R", "W", "X"})
SEGMENT_CODES = frozenset({"1", "2", "3", "4", "5", "6", "7", "8", "I4", "I6", "I7", "I8", "I9"})
ELEMENT_CODES = frozenset(
    {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "12", "13"}
    | {"I10", "I11", "I12", "I13", "I6", "I9"}
)
SET_CODES = frozenset(
    {str(code) for code in (*range(1, 14), 15, 16, 17, 18, 19, 23, 24, 25, 26, 27)} | {"I5", "I6"}
)
GROUP_CODES = frozenset(
    {str(code) for code in (1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)}
    | {"23", "24", "25", "26"}
)


@dataclass(frozen=True, slots=True)
class SegmentContext:
    """CTX: the business unit (``CLM01`` and its value) or the trigger of an error."""

    name: str
    reference: str = ""
    segment_id: str = ""
    segment_position: int | None = None
    loop_id: str = ""
    element: tuple[str, ...] = ()
    element_reference: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ElementNote:
    """IK4: an element in error, where it is and what was wrong."""

    element: int
    component: int | None
    repetition: int | None
    reference_number: str
    code: str
    bad_value: str = ""
    contexts: tuple[SegmentContext, ...] = ()


@dataclass(frozen=True, slots=True)
class SegmentNote:
    """IK3: a segment in error, by id and place in its set (ST is 1)."""

    segment_id: str
    position: int
    loop_id: str
    code: str
    contexts: tuple[SegmentContext, ...] = ()
    elements: tuple[ElementNote, ...] = ()


@dataclass(frozen=True, slots=True)
class SetAcknowledgment:
    """AK2 … IK5: what the receiver said about one transaction set."""

    set_id: str
    control_number: str
    guide: str
    outcome: Outcome
    codes: tuple[str, ...] = ()
    segments: tuple[SegmentNote, ...] = ()


@dataclass(frozen=True, slots=True)
class Acknowledgment:
    """One 999: what the receiver said about one functional group."""

    functional_id: str
    group_control_number: str
    version: str
    outcome: Outcome
    sets_included: int
    sets_received: int
    sets_accepted: int
    codes: tuple[str, ...] = ()
    sets: tuple[SetAcknowledgment, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.outcome in ("A", "E")


def read_999(source: bytes | BinaryIO) -> Reading[Acknowledgment]:
    """Read 999 acknowledgments, one per 999 transaction set."""
    return read_transactions(source, handlers={"999": acknowledgments})


def acknowledgments(
    context: TransactionContext, body: Iterator[list[str]]
) -> Iterator[Acknowledgment]:
    """The handler for ST01 = 999."""
    _check_guide(context)
    reader = _Reader999(context)
    for segment in body:
        # Each wrong segment is reported and reading goes on, so that one
        # report lists everything wrong with the acknowledgment.
        try:
            reader.take(segment)
        except X12Error as error:
            context.reject(error)
    yield reader.finish()


def _check_guide(context: TransactionContext) -> None:
    if context.guide == GUIDE_999:
        return
    where = context.position(3)
    if context.guide in _ERRATA:
        context.note(
            GuideErrata(f"The 999 names {context.guide}; read as {GUIDE_999}.", position=where)
        )
        return
    raise GuideUnsupported(
        "This 999 uses an implementation guide other than 005010X231A1.", position=where
    )


class _Reader999:
    """A small state machine over AK1, (AK2, (IK3, CTX*, IK4*)*, IK5)*, AK9."""

    def __init__(self, context: TransactionContext) -> None:
        self.context = context
        self.component = context.separators.component
        self.repetition = context.separators.repetition
        self.group: list[str] | None = None
        self.sets: list[SetAcknowledgment] = []
        self.current: list[str] | None = None
        self.segments: list[SegmentNote] = []
        self.segment: list[str] | None = None
        self.segment_contexts: list[SegmentContext] = []
        self.elements: list[ElementNote] = []
        self.trailer: list[str] | None = None
        self.closed = False

    def take(self, segment: list[str]) -> None:
        tag = segment[0]
        self._check_width(segment)
        if self.trailer is not None:
            self._unexpected()
        elif tag == "AK1":
            self._group_header(segment)
        elif self.group is None:
            raise UnexpectedSegment(
                "A segment appears before AK1, which must come first in a 999.",
                position=self.context.position(),
            )
        elif tag == "AK2":
            self._close_set()
            self.current = _padded(segment, 4)
            self.closed = False
        elif tag == "IK3" and self.current is not None:
            self._close_segment()
            self.segment = _padded(segment, 5)
            self._code(self.segment[4], SEGMENT_CODES, element=4, segment_id="IK3")
            self._count(self.segment[2], 2, segment_id="IK3")
        elif tag == "CTX" and self.segment is not None:
            self._add_context(self._context(segment))
        elif tag == "IK4" and self.segment is not None:
            self.elements.append(self._element(segment))
        elif tag == "IK5":
            self._close_set(outcome=segment)
        elif tag == "AK9":
            self._close_set()
            self.trailer = _padded(segment, 10)
        else:
            self._unexpected()

    def _group_header(self, segment: list[str]) -> None:
        if self.group is not None:
            self._unexpected()
        self.group = segment
        if len(segment) > 1 and len(segment[1]) != 2:
            self.context.reject(
                ElementInvalid(
                    "AK101 must be a two-letter functional identifier code.",
                    position=self.context.position(1),
                    element_code="5" if len(segment[1]) > 2 else "4",
                )
            )

    def _check_width(self, segment: list[str]) -> None:
        most = _MOST_ELEMENTS.get(segment[0])
        if most is not None and len(segment) - 1 > most:
            self.context.reject(
                ElementInvalid(
                    f"{segment[0]} has more elements than the 999 guide defines.",
                    position=self.context.position(most + 1),
                    element_code="3",
                )
            )

    def _add_context(self, context: SegmentContext) -> None:
        # A CTX after an IK4 describes that element; before any, the segment.
        if self.elements:
            self.elements.append(_with_context(self.elements.pop(), context))
        else:
            self.segment_contexts.append(context)

    def finish(self) -> Acknowledgment:
        if self.group is None or self.trailer is None:
            missing = "AK1" if self.group is None else "AK9"
            raise MissingSegment(f"The 999 has no {missing}.", position=self.context.position())
        group = _padded(self.group, 4)
        trailer = self.trailer
        outcome = self._code(trailer[1], GROUP_OUTCOMES, element=1, segment_id="AK9")
        codes = tuple(
            self._code(code, GROUP_CODES, element=index, segment_id="AK9")
            for index, code in enumerate(trailer[5:10], start=5)
            if code
        )
        return Acknowledgment(
            functional_id=group[1],
            group_control_number=group[2],
            version=group[3],
            outcome=_outcome(outcome),
            sets_included=self._count(trailer[2], 2),
            sets_received=self._count(trailer[3], 3),
            sets_accepted=self._count(trailer[4], 4),
            codes=codes,
            sets=tuple(self.sets),
        )

    # -- loops -------------------------------------------------------------------

    def _close_segment(self) -> None:
        if self.segment is None:
            return
        segment = self.segment
        self.segments.append(
            SegmentNote(
                segment_id=segment[1],
                position=as_count(segment[2]) or 0,
                loop_id=segment[3],
                code=segment[4],
                contexts=tuple(self.segment_contexts),
                elements=tuple(self.elements),
            )
        )
        self.segment, self.segment_contexts, self.elements = None, [], []

    def _close_set(self, outcome: list[str] | None = None) -> None:
        ak2, segments = self.current, self.segments
        if ak2 is None:
            if outcome is not None and self.closed:
                raise UnexpectedSegment(
                    "A second IK5 appears in one AK2 loop.",
                    position=self.context.position(),
                    segment_code="5",
                )
            if outcome is not None:
                self._unexpected()
            return
        # The loop ends here whatever is wrong with it, so that one bad IK5
        # does not make every later segment look out of place.
        self._close_segment()
        self.current, self.segments, self.closed = None, [], True
        if outcome is None:
            raise MissingSegment(
                "An AK2 loop of the 999 has no IK5.", position=self.context.position()
            )
        outcome = _padded(outcome, 7)
        self.sets.append(
            SetAcknowledgment(
                set_id=ak2[1],
                control_number=ak2[2],
                guide=ak2[3],
                outcome=_outcome(self._code(outcome[1], SET_OUTCOMES, element=1, segment_id="IK5")),
                codes=tuple(
                    self._code(code, SET_CODES, element=index, segment_id="IK5")
                    for index, code in enumerate(outcome[2:7], start=2)
                    if code
                ),
                segments=tuple(segments),
            )
        )

    # -- elements ----------------------------------------------------------------

    def _element(self, segment: list[str]) -> ElementNote:
        segment = _padded(segment, 5)
        place = segment[1].split(self.component)
        place += [""] * (3 - len(place))
        return ElementNote(
            element=self._count(place[0], 1, segment_id="IK4"),
            component=as_count(place[1]),
            repetition=as_count(place[2]),
            reference_number=segment[2],
            code=self._code(segment[3], ELEMENT_CODES, element=3, segment_id="IK4"),
            bad_value=segment[4],
        )

    def _context(self, segment: list[str]) -> SegmentContext:
        segment = _padded(segment, 7)
        first = segment[1]
        if self.repetition:
            first = first.split(self.repetition)[0]
        name, _, reference = first.partition(self.component)
        return SegmentContext(
            name=name,
            reference=reference,
            segment_id=segment[2],
            segment_position=as_count(segment[3]),
            loop_id=segment[4],
            element=_components(segment[5], self.component),
            element_reference=_components(segment[6], self.component),
        )

    def _code(self, code: str, allowed: frozenset[str], *, element: int, segment_id: str) -> str:
        if code in allowed:
            return code
        raise ElementInvalid(
            f"{segment_id}{element:02d} is not a code the 999 guide allows.",
            position=self.context.position(element),
        )

    def _count(self, text: str, element: int, *, segment_id: str = "AK9") -> int:
        if len(text) <= 9 and is_digits(text):
            return int(text)
        where = self.context.position(element)
        if text:
            raise ElementInvalid(
                f"{segment_id}{element:02d} must be a whole number.", position=where
            )
        raise ElementMissing(f"{segment_id}{element:02d} is required.", position=where)

    def _unexpected(self) -> None:
        raise UnexpectedSegment(
            "A segment appears where the 999 guide does not allow it.",
            position=self.context.position(),
        )


def _components(text: str, separator: str) -> tuple[str, ...]:
    return tuple(text.split(separator)) if text else ()


def _padded(segment: list[str], length: int) -> list[str]:
    return segment + [""] * (length - len(segment)) if len(segment) < length else segment


def _outcome(code: str) -> Outcome:
    return Outcome(code)


def _with_context(note: ElementNote, context: SegmentContext) -> ElementNote:
    return ElementNote(
        element=note.element,
        component=note.component,
        repetition=note.repetition,
        reference_number=note.reference_number,
        code=note.code,
        bad_value=note.bad_value,
        contexts=(*note.contexts, context),
    )
