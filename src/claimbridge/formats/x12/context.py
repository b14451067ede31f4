"""What the transaction driver knows while it reads: the envelopes open around a set.

``TransactionContext`` is what a transaction-set reader (a handler) is
given: the ST, GS and ISA it is inside, the separators, the lexer for
positions, and two ways to report (``note`` and ``reject``).
``GroupState`` and ``InterchangeState`` are the driver's own bookkeeping.
"""

from __future__ import annotations

from typing import TypeAlias

from claimbridge.formats.x12.envelope import GroupResult, SetResult
from claimbridge.formats.x12.errors import Position, X12Error
from claimbridge.formats.x12.lexer import Segments, Separators

__all__ = ["GroupState", "InterchangeState", "TransactionContext"]

Segment: TypeAlias = list[str]


class TransactionContext:
    """What a handler knows about the set it reads, and where it reports."""

    __slots__ = (
        "_errors",
        "_rejected",
        "control_number",
        "functional_id",
        "group_control_number",
        "guide",
        "interchange_control_number",
        "interchange_receiver",
        "interchange_sender",
        "receiver",
        "segments",
        "sender",
        "separators",
        "set_id",
        "usage",
        "version",
    )

    def __init__(
        self,
        st: Segment,
        *,
        segments: Segments,
        group: GroupState,
        interchange: InterchangeState,
    ) -> None:
        self.set_id = st[1] if len(st) > 1 else ""
        self.control_number = st[2] if len(st) > 2 else ""
        self.version = group.version
        self.guide = st[3] if len(st) > 3 and st[3] else group.version
        self.functional_id = group.functional_id
        self.sender = group.sender
        self.receiver = group.receiver
        self.group_control_number = group.control_number
        self.interchange_sender = interchange.isa[6].strip()
        self.interchange_receiver = interchange.isa[8].strip()
        self.interchange_control_number = interchange.control_number
        self.usage = interchange.isa[15]
        self.separators: Separators = segments.separators
        self.segments = segments
        self._errors: list[X12Error] = []
        self._rejected = False

    def position(self, element: int | None = None, component: int | None = None) -> Position:
        """Where the segment read last is."""
        return self.segments.position(element, component)

    def note(self, error: X12Error) -> None:
        """Record an error that leaves the set accepted, with errors noted (E)."""
        self._errors.append(error)

    def reject(self, error: X12Error) -> None:
        """Record an error that rejects the set (R), and go on reading it."""
        self._errors.append(error)
        self._rejected = True

    @property
    def errors(self) -> tuple[X12Error, ...]:
        return tuple(self._errors)

    @property
    def rejected(self) -> bool:
        return self._rejected


class GroupState:
    __slots__ = (
        "control_number",
        "declared",
        "errors",
        "functional_id",
        "gs",
        "receiver",
        "seen_sets",
        "sender",
        "sets",
        "version",
    )

    def __init__(self, gs: Segment) -> None:
        gs = gs + [""] * (9 - len(gs))
        self.gs = gs
        self.functional_id = gs[1]
        self.sender = gs[2]
        self.receiver = gs[3]
        self.control_number = gs[6]
        self.version = gs[8]
        self.errors: list[X12Error] = []
        self.sets: list[SetResult] = []
        self.declared: int | None = None
        self.seen_sets: set[str] = set()


class InterchangeState:
    __slots__ = ("control_number", "errors", "groups", "isa", "notes", "seen_groups")

    def __init__(self, isa: Segment) -> None:
        self.isa = isa
        self.control_number = isa[13]
        self.errors: list[X12Error] = []
        self.notes: list[X12Error] = []
        self.groups: list[GroupResult] = []
        self.seen_groups: set[str] = set()
