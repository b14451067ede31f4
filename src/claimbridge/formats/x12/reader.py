"""The transaction driver: envelopes checked, sets handed to their readers.

``read_transactions`` walks an X12 5010 stream, checks the ISA/IEA, GS/GE
and ST/SE envelopes as they pass (``envelope.py``), and hands the body of
each transaction set (the segments between ST and SE) to the handler
registered for its ST01. Handlers yield records; the ``Reading`` yields
them on, streaming. An ``X12Error`` from a handler rejects its set only:
the driver skips to that set's SE and goes on, so one bad set does not
hide the others. After iteration the ``Reading`` holds 999-shaped results.

Errors that make the stream unreadable (not X12, a malformed ISA, no
segment terminator) are raised from the iteration itself.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping
from typing import BinaryIO, Generic, TypeAlias, TypeVar

from claimbridge.errors import ValidationFailed
from claimbridge.formats.x12.context import GroupState, InterchangeState, TransactionContext
from claimbridge.formats.x12.envelope import (
    GroupResult,
    InterchangeResult,
    Outcome,
    SetResult,
    as_count,
    check_ge,
    check_gs,
    check_iea,
    check_isa,
    check_se,
    outcome_of,
)
from claimbridge.formats.x12.errors import (
    DuplicateControlNumber,
    ElementInvalid,
    GuideUnsupported,
    Position,
    TrailerMissing,
    UnexpectedSegment,
    X12Error,
)
from claimbridge.formats.x12.lexer import Segments, tokenize

__all__ = ["Handler", "Reading", "SetBody", "TransactionContext", "read_transactions"]

T = TypeVar("T")
Segment: TypeAlias = list[str]
_ISA_ELEMENTS = 17
_ENVELOPE = frozenset({"SE", "ST", "GE", "GS", "IEA", "ISA"})


Handler: TypeAlias = Callable[[TransactionContext, Iterator[Segment]], Iterator[T]]


class Reading(Generic[T]):
    """Records streamed from an X12 source, and what the envelopes said.

    Iterate it once. Afterwards ``results`` (one ``SetResult`` per set),
    ``groups`` and ``interchanges`` say what was accepted and what was not;
    ``raise_for_errors()`` raises the first error, if any.
    """

    def __init__(
        self,
        source: bytes | BinaryIO,
        *,
        handlers: Mapping[str, Handler[T]],
        chunk_size: int | None = None,
    ) -> None:
        self._source = source
        self._handlers = handlers
        self._chunk_size = chunk_size
        self._started = False
        self._seen_interchanges: set[tuple[str, str, str]] = set()
        self.results: list[SetResult] = []
        self.groups: list[GroupResult] = []
        self.interchanges: list[InterchangeResult] = []
        self.stray: list[X12Error] = []
        self.segments: Segments | None = None

    def __iter__(self) -> Iterator[T]:
        if self._started:
            raise RuntimeError("a Reading can be iterated only once")
        self._started = True
        return self._run()

    @property
    def errors(self) -> list[X12Error]:
        """Every error found, interchange level first, then group, then set."""
        found: list[X12Error] = list(self.stray)
        for interchange in self.interchanges:
            found.extend(interchange.errors)
            for group in interchange.groups:
                found.extend(group.errors)
                for result in group.sets:
                    found.extend(result.errors)
        return found

    @property
    def accepted(self) -> bool:
        """True when every interchange, group and set was accepted without errors."""
        return bool(self.interchanges) and not self.errors

    def raise_for_errors(self) -> None:
        """Raise the first error that rejected something; notes alone do not raise."""
        for interchange in self.interchanges:
            if interchange.outcome is Outcome.REJECTED:
                raise next(e for e in interchange.errors if e.interchange_code != "017")
            for group in interchange.groups:
                if group.outcome is Outcome.REJECTED and group.errors:
                    raise group.errors[0]
                for result in group.sets:
                    if not result.accepted:
                        raise result.errors[0]
        if self.stray:
            raise self.stray[0]

    # -- the walk --------------------------------------------------------------

    def _run(self) -> Iterator[T]:
        if self._chunk_size is None:
            segments = tokenize(self._source)
        else:
            segments = tokenize(self._source, chunk_size=self._chunk_size)
        self.segments = segments
        stream = iter(segments)
        segment = next(stream, None)
        while segment is not None:
            if segment[0] == "ISA" and len(segment) == _ISA_ELEMENTS:
                segment = yield from self._interchange(segment, stream, segments)
                continue
            # An ISA the lexer did not read as a header (it did not follow an
            # IEA) has whatever shape the old separators gave it.
            self.stray.append(
                UnexpectedSegment(
                    "A segment appears outside any interchange, or an ISA inside one.",
                    position=segments.position(),
                    interchange_code="024",
                    set_code="",
                )
            )
            segment = _skip_to(stream, ("ISA",))

    def _interchange(
        self, isa: Segment, stream: Iterator[Segment], segments: Segments
    ) -> Generator[T, None, Segment | None]:
        interchange = InterchangeState(isa)
        where = segments.position()
        interchange.errors, interchange.notes = check_isa(isa, where)
        key = (isa[6], isa[8], isa[13])
        if key in self._seen_interchanges:
            interchange.errors.append(
                DuplicateControlNumber(
                    "ISA13 repeats the control number of an earlier interchange.",
                    position=where,
                    interchange_code="025",
                    set_code="",
                )
            )
        self._seen_interchanges.add(key)
        segment = next(stream, None)
        while True:
            if segment is None or segment[0] == "ISA":
                interchange.errors.append(_missing("IEA", segments, interchange_code="023"))
                break
            tag = segment[0]
            if tag == "GS":
                segment = yield from self._group(
                    segment, stream, segments=segments, interchange=interchange
                )
                continue
            if tag == "IEA":
                interchange.errors += check_iea(
                    segment,
                    isa_control=interchange.control_number,
                    groups=len(interchange.groups),
                    position=segments.position(),
                )
                segment = next(stream, None)
                break
            interchange.errors.append(
                UnexpectedSegment(
                    "A segment appears between ISA and GS, outside any functional group.",
                    position=segments.position(),
                    interchange_code="024",
                    set_code="",
                )
            )
            segment = _skip_to(stream, ("GS", "IEA", "ISA"))
        self._finish_interchange(interchange)
        return segment

    def _finish_interchange(self, interchange: InterchangeState) -> None:
        isa = interchange.isa
        self.interchanges.append(
            InterchangeResult(
                control_number=interchange.control_number,
                sender_qualifier=isa[5],
                sender=isa[6].strip(),
                receiver_qualifier=isa[7],
                receiver=isa[8].strip(),
                date=isa[9],
                time=isa[10],
                version=isa[12],
                usage=isa[15],
                acknowledgment_requested=isa[14] == "1",
                outcome=outcome_of(
                    interchange.errors + interchange.notes,
                    rejected=bool(interchange.errors),
                ),
                groups=tuple(interchange.groups),
                errors=tuple(interchange.errors + interchange.notes),
            )
        )

    def _group(
        self,
        gs: Segment,
        stream: Iterator[Segment],
        *,
        segments: Segments,
        interchange: InterchangeState,
    ) -> Generator[T, None, Segment | None]:
        group = GroupState(gs)
        group.errors = check_gs(gs, segments.position(), seen=interchange.seen_groups)
        interchange.seen_groups.add(group.control_number)
        segment = next(stream, None)
        while True:
            if segment is None or segment[0] in ("GS", "IEA", "ISA"):
                group.errors.append(_missing("GE", segments, group_code="3"))
                break
            tag = segment[0]
            if tag == "ST":
                segment = yield from self._set(
                    segment, stream, segments=segments, interchange=interchange, group=group
                )
                continue
            if tag == "GE":
                group.declared = as_count(segment[1]) if len(segment) > 1 else None
                group.errors += check_ge(
                    segment,
                    gs_control=group.control_number,
                    sets=len(group.sets),
                    position=segments.position(),
                )
                segment = next(stream, None)
                break
            group.errors.append(
                UnexpectedSegment(
                    "A segment appears between GS and ST, outside any transaction set.",
                    position=segments.position(),
                    set_code="",
                )
            )
            segment = _skip_to(stream, ("ST", "GE", "GS", "IEA", "ISA"))
        self._finish_group(group, interchange)
        return segment

    def _finish_group(self, group: GroupState, interchange: InterchangeState) -> None:
        accepted = sum(1 for result in group.sets if result.accepted)
        if group.errors or (accepted == 0 and group.sets):
            outcome = Outcome.REJECTED
        elif accepted < len(group.sets):
            outcome = Outcome.PARTIALLY_ACCEPTED
        elif any(result.errors for result in group.sets):
            outcome = Outcome.ACCEPTED_WITH_ERRORS
        else:
            outcome = Outcome.ACCEPTED
        result = GroupResult(
            functional_id=group.functional_id,
            control_number=group.control_number,
            version=group.version,
            sender=group.sender,
            receiver=group.receiver,
            outcome=outcome,
            sets=tuple(group.sets),
            errors=tuple(group.errors),
            declared_set_count=group.declared,
        )
        self.groups.append(result)
        interchange.groups.append(result)

    def _set(
        self,
        st: Segment,
        stream: Iterator[Segment],
        *,
        segments: Segments,
        interchange: InterchangeState,
        group: GroupState,
    ) -> Generator[T, None, Segment | None]:
        first = segments.number
        context = TransactionContext(st, segments=segments, group=group, interchange=interchange)
        _check_st(st, context, segments, group.seen_sets)
        body = SetBody(segments)
        handler = self._handlers.get(context.set_id)
        if handler is None:
            context.reject(
                GuideUnsupported(
                    "This reader does not read this kind of transaction set.",
                    position=Position(first, "ST", 1),
                    set_code="1",
                )
            )
        else:
            try:
                yield from handler(context, body)
            except X12Error as refused:
                context.reject(refused)
            except ValidationFailed as refusal:
                context.reject(
                    ElementInvalid(
                        refusal.message, position=segments.position(), detail=refusal.where
                    )
                )
        for _ in body:
            pass
        trailer = body.end
        if trailer is not None and trailer[0] == "SE":
            count = segments.number - first + 1
            # Positions cost a little to work out; only a mismatch needs one.
            if trailer[1:3] != [str(count), context.control_number]:
                for mismatch in check_se(
                    trailer,
                    st_control=context.control_number,
                    segments=count,
                    position=segments.position(),
                ):
                    context.reject(mismatch)
            following = next(stream, None)
        else:
            context.reject(_missing("SE", segments, set_code="2"))
            count = segments.number - first + (0 if trailer is not None else 1)
            following = trailer
        result = SetResult(
            set_id=context.set_id,
            control_number=context.control_number,
            guide=context.guide,
            outcome=outcome_of(list(context.errors), rejected=context.rejected),
            errors=context.errors,
            first_segment=first,
            segment_count=count,
            group_control_number=group.control_number,
            interchange_control_number=interchange.control_number,
        )
        group.sets.append(result)
        self.results.append(result)
        return following


def _check_st(st: Segment, context: TransactionContext, segments: Segments, seen: set[str]) -> None:
    control = context.control_number
    st03 = st[3] if len(st) > 3 else ""
    if 4 <= len(control) <= 9 and control not in seen and (not st03 or st03 == context.version):
        seen.add(control)
        return
    where = segments.position()
    if not (4 <= len(control) <= 9):
        context.reject(
            ElementInvalid(
                "ST02 must be a control number of 4 to 9 characters.",
                position=Position(where.segment_number, "ST", 2, None, where.offset),
                set_code="7",
            )
        )
    elif control in seen:
        context.reject(
            DuplicateControlNumber(
                "ST02 repeats a transaction set control number of this group.",
                position=Position(where.segment_number, "ST", 2, None, where.offset),
            )
        )
    seen.add(control)
    if st03 and context.version and st03 != context.version:
        context.note(
            ElementInvalid(
                "ST03 names a different implementation guide than GS08; ST03 is used.",
                position=Position(where.segment_number, "ST", 3, None, where.offset),
                set_code="19",
            )
        )


class SetBody:
    """The segments of one set up to (not including) SE or any envelope segment.

    An iterator, for any handler. A handler on the hot path may instead walk
    ``batches()``, the lexer's own batch iterators, and call ``stop`` with
    the first envelope segment it meets: that saves a generator step per
    segment. Either way, what the handler leaves unread the driver skips.
    """

    __slots__ = ("_generator", "_segments", "end")

    def __init__(self, segments: Segments) -> None:
        self._segments = segments
        self.end: Segment | None = None
        self._generator = self._walk()

    def __iter__(self) -> Iterator[Segment]:
        return self._generator

    def __next__(self) -> Segment:
        return next(self._generator)

    def batches(self) -> Iterator[Iterator[Segment]]:
        """The lexer's batch iterators in turn; envelope segments are in them."""
        segments = self._segments
        while self.end is None:
            yield segments.batch_iterator()
            if self.end is not None or not segments.advance():
                return

    def stop(self, segment: Segment) -> None:
        """The envelope segment that ends the set, met by a ``batches()`` reader."""
        self.end = segment

    def _walk(self) -> Iterator[Segment]:
        segments = self._segments
        envelope = _ENVELOPE
        iterator = segments.batch_iterator()
        while self.end is None:
            for segment in iterator:
                if segment[0] in envelope:
                    self.end = segment
                    return
                yield segment
            if not segments.advance():
                return
            iterator = segments.batch_iterator()


def _skip_to(stream: Iterator[Segment], tags: tuple[str, ...]) -> Segment | None:
    for segment in stream:
        if segment[0] in tags:
            return segment
    return None


def _missing(
    trailer: str,
    segments: Segments,
    *,
    interchange_code: str | None = None,
    group_code: str | None = None,
    set_code: str = "",
) -> X12Error:
    return TrailerMissing(
        f"The {trailer} trailer is missing.",
        position=segments.position(),
        interchange_code=interchange_code,
        group_code=group_code,
        set_code=set_code,
    )


def read_transactions(
    source: bytes | BinaryIO,
    *,
    handlers: Mapping[str, Handler[T]],
    chunk_size: int | None = None,
) -> Reading[T]:
    """Read an X12 stream, handing each transaction set to its ST01 handler."""
    return Reading(source, handlers=handlers, chunk_size=chunk_size)
