"""Write 999 implementation acknowledgments (005010X231A1) and TA1 notes.

``acknowledge`` turns what a ``Reading`` found into ``Acknowledgment``
records, one per functional group received; ``write_999`` writes records
(those, or ones read with ``read_999``) as an interchange of 999 sets.
``write_ta1`` writes the TA1 interchange acknowledgments (X12.5) that
report ISA/IEA problems, which a 999 cannot carry.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from claimbridge.formats.x12.envelope import GroupResult, InterchangeResult, Outcome, SetResult
from claimbridge.formats.x12.errors import X12Error
from claimbridge.formats.x12.lexer import DEFAULT_SEPARATORS, Separators
from claimbridge.formats.x12.reader import Reading
from claimbridge.formats.x12.writer import (
    Element,
    OutgoingSet,
    SegmentOut,
    encode_isa,
    write_interchange,
)
from claimbridge.formats.x12.x999 import (
    GUIDE_999,
    Acknowledgment,
    ElementNote,
    SegmentContext,
    SegmentNote,
    SetAcknowledgment,
)

__all__ = ["acknowledge", "acknowledge_group", "ta1_segment", "write_999", "write_ta1"]

_MAX_CODES = 5
_MAX_SEGMENT_NOTES = 10


def acknowledge(reading: Reading[Any]) -> list[Acknowledgment]:
    """One acknowledgment per functional group the reading went through."""
    return [acknowledge_group(group) for group in reading.groups]


def acknowledge_group(group: GroupResult) -> Acknowledgment:
    codes = _codes(error.group_code for error in group.errors)
    outcome = group.outcome
    if outcome is Outcome.REJECTED and not codes and not group.sets:
        codes = ("5",)
    return Acknowledgment(
        functional_id=group.functional_id,
        group_control_number=group.control_number,
        version=group.version,
        outcome=outcome,
        sets_included=group.declared_set_count
        if group.declared_set_count is not None
        else group.received,
        sets_received=group.received,
        sets_accepted=group.accepted_count,
        codes=codes,
        sets=tuple(_acknowledge_set(result) for result in group.sets),
    )


def _acknowledge_set(result: SetResult) -> SetAcknowledgment:
    codes = _codes(error.set_code for error in result.errors)
    segments = tuple(
        note for error in result.errors if (note := _segment_note(error, result)) is not None
    )[:_MAX_SEGMENT_NOTES]
    if result.outcome is Outcome.REJECTED and not codes:
        codes = ("5",)
    return SetAcknowledgment(
        set_id=result.set_id,
        control_number=result.control_number,
        guide=result.guide,
        outcome=result.outcome,
        codes=codes,
        segments=segments,
    )


def _segment_note(error: X12Error, result: SetResult) -> SegmentNote | None:
    position = error.position
    if not error.segment_code or position is None:
        return None
    elements: tuple[ElementNote, ...] = ()
    if error.element_code and position.element is not None:
        elements = (
            ElementNote(
                element=position.element,
                component=position.component,
                repetition=None,
                reference_number="",
                code=error.element_code,
            ),
        )
    return SegmentNote(
        segment_id=position.segment_id,
        position=max(result.segment_in_set(position), 1),
        loop_id="",
        code=error.segment_code,
        elements=elements,
    )


def _codes(codes: Iterable[str | None]) -> tuple[str, ...]:
    unique: list[str] = []
    for code in codes:
        if code and code not in unique:
            unique.append(code)
    return tuple(unique[:_MAX_CODES])


def write_999(
    acknowledgments: Iterable[Acknowledgment],
    *,
    sender: str,
    receiver: str,
    interchange_control_number: int,
    group_control_number: int,
    now: datetime,
    separators: Separators = DEFAULT_SEPARATORS,
    usage: str = "P",
) -> bytes:
    """An interchange with one 999 set per acknowledgment."""
    sets = (OutgoingSet("999", GUIDE_999, _body(ack)) for ack in acknowledgments)
    return write_interchange(
        sets,
        sender=sender,
        receiver=receiver,
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        functional_id="FA",
        now=now,
        separators=separators,
        usage=usage,
    )


def _body(ack: Acknowledgment) -> Iterator[SegmentOut]:
    yield ["AK1", ack.functional_id, ack.group_control_number, ack.version]
    for result in ack.sets:
        yield ["AK2", result.set_id, result.control_number, result.guide]
        for note in result.segments:
            yield ["IK3", note.segment_id, str(note.position), note.loop_id, note.code]
            yield from (_context(context) for context in note.contexts)
            for element in note.elements:
                place = (
                    str(element.element),
                    "" if element.component is None else str(element.component),
                    "" if element.repetition is None else str(element.repetition),
                )
                yield ["IK4", place, element.reference_number, element.code, element.bad_value]
                yield from (_context(context) for context in element.contexts)
        yield ["IK5", result.outcome.value, *result.codes]
    counts = (str(ack.sets_included), str(ack.sets_received), str(ack.sets_accepted))
    yield ["AK9", ack.outcome.value, *counts, *ack.codes]


def _context(context: SegmentContext) -> list[Element]:
    position = "" if context.segment_position is None else str(context.segment_position)
    return [
        "CTX",
        (context.name, context.reference),
        context.segment_id,
        position,
        context.loop_id,
        context.element,
        context.element_reference,
    ]


def ta1_segment(result: InterchangeResult) -> list[str]:
    """TA1: the interchange's control number, date and time, outcome and note code."""
    outcome = "R" if result.outcome is Outcome.REJECTED else result.outcome.value
    if outcome not in ("A", "E", "R"):
        outcome = "E"
    return ["TA1", result.control_number, result.date, result.time, outcome, result.note_code]


def write_ta1(
    results: Iterable[InterchangeResult],
    *,
    sender: str,
    receiver: str,
    interchange_control_number: int,
    now: datetime,
    separators: Separators = DEFAULT_SEPARATORS,
    usage: str = "P",
) -> bytes:
    """An interchange holding only TA1 segments (IEA01 is 0: no groups)."""
    terminator = separators.segment
    isa = encode_isa(
        sender=("ZZ", sender),
        receiver=("ZZ", receiver),
        control=interchange_control_number,
        now=now,
        separators=separators,
        usage=usage,
        acknowledgment_requested=False,
    )
    lines = [isa]
    lines += [separators.element.join(ta1_segment(result)) for result in results]
    lines.append(separators.element.join(["IEA", "0", f"{interchange_control_number:09d}"]))
    return (terminator.join(lines) + terminator).encode("utf-8")
