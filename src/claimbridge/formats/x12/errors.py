"""The X12 error tree, with the acknowledgment codes each error maps to.

Every error the X12 package raises on purpose is an ``X12Error``. Each one
carries the ``Position`` it was found at and the codes an acknowledgment
uses to report it: the TA1 interchange note code (TA105), the 999
functional-group code (AK905), the 999 transaction-set code (IK502), the
segment code (IK304) and the element code (IK403), all from ASC X12
005010X231A1 (999) and the X12.5 interchange control structure (TA1).
A subclass fixes the usual codes; a raise site may override one with a
keyword when the condition is more specific (an invalid date is IK403 8,
not the generic 7).

Messages are public and never quote element values, which may be PHI
(names, member ids); they name segments, elements and counts only.

::

    X12Error
    ├── InterchangeError             the interchange cannot be read at all (TA1)
    │   ├── NotX12                   the input does not begin with an ISA header
    │   ├── EncodingUnsupported      UTF-16 and other non-byte encodings
    │   ├── ISAMalformed             the fixed-width ISA header is wrong
    │   ├── SegmentTerminatorMissing no terminator, or a segment over the limit
    │   └── InterchangeInvalid       IEA missing/mismatched, duplicate ISA13 ...
    ├── ControlNumberMismatch        ISA13/IEA02, GS06/GE02, ST02/SE02 differ
    ├── SegmentCountMismatch         SE01 is not the number of segments
    ├── SetCountMismatch             GE01 is not the number of sets
    ├── GroupCountMismatch           IEA01 is not the number of groups
    ├── TrailerMissing               SE, GE or IEA never came
    ├── DuplicateControlNumber       a control number repeats where it must not
    ├── GuideUnsupported             another guide (837D, 4010) or set type
    ├── GuideErrata                  a later errata of the guide (read, flagged)
    ├── UnexpectedSegment            a segment where the guide allows none
    ├── UnrecognizedSegment          a segment id that is not an X12 segment
    ├── MissingSegment               a required segment is absent
    ├── ElementMissing               a required element is empty
    ├── ElementInvalid               an element has the wrong form or code
    ├── HierarchyInvalid             HL parent, level or cycle errors
    └── BalanceMismatch              amounts that must balance do not
"""

from __future__ import annotations

from dataclasses import dataclass

from claimbridge.errors import InputError

__all__ = [
    "BalanceMismatch",
    "ControlNumberMismatch",
    "DuplicateControlNumber",
    "ElementInvalid",
    "ElementMissing",
    "EncodingUnsupported",
    "GroupCountMismatch",
    "GuideErrata",
    "GuideUnsupported",
    "HierarchyInvalid",
    "ISAMalformed",
    "InterchangeError",
    "InterchangeInvalid",
    "MissingSegment",
    "NotX12",
    "Position",
    "SegmentCountMismatch",
    "SegmentTerminatorMissing",
    "SetCountMismatch",
    "TrailerMissing",
    "UnexpectedSegment",
    "UnrecognizedSegment",
    "X12Error",
]


@dataclass(frozen=True, slots=True)
class Position:
    """Where in a stream something was found.

    ``segment_number`` counts segments from 1 at the start of the stream
    (not of the transaction set); ``element`` and ``component`` are 1-based
    like X12 references (CLM05-1 is element 5, component 1); ``offset`` is
    the byte offset where the segment begins.
    """

    segment_number: int
    segment_id: str
    element: int | None = None
    component: int | None = None
    offset: int | None = None

    def __str__(self) -> str:
        parts = [f"segment {self.segment_number} ({self.segment_id})"]
        if self.element is not None:
            parts.append(f"element {self.element}")
        if self.component is not None:
            parts.append(f"component {self.component}")
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        return ", ".join(parts)


class X12Error(InputError):
    """An X12 document, or part of one, is not acceptable.

    Class attributes give the acknowledgment codes; keywords override them
    for one instance. ``None`` means the error is not reported at that level.
    """

    code = "x12_invalid"
    public_message = "The X12 document is not valid."
    interchange_code: str | None = None
    group_code: str | None = None
    set_code: str | None = "5"
    segment_code: str | None = None
    element_code: str | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        position: Position | None = None,
        detail: str | None = None,
        interchange_code: str | None = None,
        group_code: str | None = None,
        set_code: str | None = None,
        segment_code: str | None = None,
        element_code: str | None = None,
    ) -> None:
        super().__init__(
            message,
            where=str(position) if position is not None else None,
            detail=detail,
        )
        self.position = position
        # Instance attributes shadow the class defaults only when given, so
        # subclasses keep their codes and callers can sharpen one.
        if interchange_code is not None:
            self.interchange_code = interchange_code
        if group_code is not None:
            self.group_code = group_code
        if set_code is not None:
            self.set_code = set_code
        if segment_code is not None:
            self.segment_code = segment_code
        if element_code is not None:
            self.element_code = element_code


class InterchangeError(X12Error):
    code = "x12_interchange_unreadable"
    public_message = "The X12 interchange cannot be read."
    interchange_code = "022"  # Invalid control structure.
    set_code = None


class NotX12(InterchangeError):
    code = "x12_not_x12"
    public_message = "The input is not an X12 interchange: it does not begin with an ISA segment."


class EncodingUnsupported(InterchangeError):
    code = "x12_encoding_unsupported"
    public_message = (
        "The input is not in a single-byte encoding (UTF-16?); "
        "X12 must be ASCII, UTF-8 or ISO 8859-1."
    )


class ISAMalformed(InterchangeError):
    code = "x12_isa_malformed"
    public_message = "The ISA interchange header is not the fixed 106-character form."


class SegmentTerminatorMissing(InterchangeError):
    code = "x12_segment_terminator_missing"
    public_message = "No segment terminator was found where one must be."
    interchange_code = "004"  # The segment terminator is invalid.


class InterchangeInvalid(InterchangeError):
    code = "x12_interchange_invalid"
    public_message = "The X12 interchange envelope is not valid."


class ControlNumberMismatch(X12Error):
    code = "x12_control_number_mismatch"
    public_message = "A trailer's control number does not match its header."
    set_code = "3"


class SegmentCountMismatch(X12Error):
    code = "x12_segment_count_mismatch"
    public_message = "SE01 does not equal the number of segments in the transaction set."
    set_code = "4"


class SetCountMismatch(X12Error):
    code = "x12_set_count_mismatch"
    public_message = "GE01 does not equal the number of transaction sets in the group."
    group_code = "5"
    set_code = None


class GroupCountMismatch(X12Error):
    code = "x12_group_count_mismatch"
    public_message = "IEA01 does not equal the number of functional groups."
    interchange_code = "021"
    set_code = None


class TrailerMissing(X12Error):
    code = "x12_trailer_missing"
    public_message = "A trailer segment (SE, GE or IEA) is missing."
    set_code = "2"


class DuplicateControlNumber(X12Error):
    code = "x12_duplicate_control_number"
    public_message = "A control number is repeated where it must be unique."
    set_code = "23"


class GuideUnsupported(X12Error):
    code = "x12_guide_unsupported"
    public_message = "The document uses an implementation guide this reader does not support."
    group_code = "2"
    set_code = "I6"


class GuideErrata(X12Error):
    """A later errata of a supported guide: read as the supported one, flagged."""

    code = "x12_guide_errata"
    public_message = "The document names an errata of the implementation guide; read as 5010."
    set_code = "I6"


class UnexpectedSegment(X12Error):
    code = "x12_unexpected_segment"
    public_message = "A segment appears where the implementation guide does not allow it."
    segment_code = "2"


class UnrecognizedSegment(X12Error):
    code = "x12_unrecognized_segment"
    public_message = "A segment identifier is not a valid X12 segment identifier."
    segment_code = "1"


class MissingSegment(X12Error):
    code = "x12_missing_segment"
    public_message = "A segment the implementation guide requires is missing."
    segment_code = "3"


class ElementMissing(X12Error):
    code = "x12_element_missing"
    public_message = "A required data element is missing."
    segment_code = "8"
    element_code = "1"


class ElementInvalid(X12Error):
    code = "x12_element_invalid"
    public_message = "A data element does not have a valid value."
    segment_code = "8"
    element_code = "7"


class HierarchyInvalid(X12Error):
    code = "x12_hierarchy_invalid"
    public_message = "The HL hierarchy is not valid."
    segment_code = "8"
    element_code = "7"


class BalanceMismatch(X12Error):
    code = "x12_balance_mismatch"
    public_message = "Amounts that must balance do not."
    set_code = "I5"
    segment_code = "8"
