"""Interchange, group and set envelopes: their checks and their results.

The ISA/IEA interchange (X12.5, TA1 codes), the GS/GE functional group and
the ST/SE transaction set (999 AK9/IK5 codes, 005010X231A1) are checked
here as they stream past; ``reader.py`` drives the checks. Results are
shaped like the acknowledgments that report them: an ``InterchangeResult``
is what a TA1 says, a ``GroupResult`` an AK9, a ``SetResult`` an IK5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from claimbridge.formats.x12.errors import (
    ControlNumberMismatch,
    DuplicateControlNumber,
    ElementInvalid,
    GroupCountMismatch,
    InterchangeInvalid,
    Position,
    SegmentCountMismatch,
    SetCountMismatch,
    X12Error,
)

__all__ = [
    "GroupResult",
    "InterchangeResult",
    "Outcome",
    "SetResult",
    "as_count",
    "check_ge",
    "check_gs",
    "check_iea",
    "check_isa",
    "check_se",
    "is_digits",
]

_ID_QUALIFIERS = frozenset({"01", "14", "20", "27", "28", "29", "30", "33", "ZZ"})


class Outcome(StrEnum):
    """IK501 / AK901 / TA104 acknowledgment codes (the last three read, never made)."""

    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    PARTIALLY_ACCEPTED = "P"
    REJECTED = "R"
    AUTHENTICATION_FAILED = "M"
    ASSURANCE_FAILED = "W"
    UNREADABLE_AFTER_DECRYPTION = "X"


def is_digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts superscripts and other scripts."""
    return text.isascii() and text.isdigit()


def as_count(text: str) -> int | None:
    """A whole number written in at most 18 ASCII digits, or None."""
    return int(text) if len(text) <= 18 and is_digits(text) else None


def outcome_of(errors: list[X12Error], *, rejected: bool) -> Outcome:
    if rejected:
        return Outcome.REJECTED
    return Outcome.ACCEPTED_WITH_ERRORS if errors else Outcome.ACCEPTED


@dataclass(frozen=True, slots=True)
class SetResult:
    """What happened to one ST/SE transaction set: an IK5, with its IK3/IK4s."""

    set_id: str
    control_number: str
    guide: str
    outcome: Outcome
    errors: tuple[X12Error, ...]
    first_segment: int
    segment_count: int
    group_control_number: str = ""
    interchange_control_number: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome in (Outcome.ACCEPTED, Outcome.ACCEPTED_WITH_ERRORS)

    def segment_in_set(self, position: Position) -> int:
        """The 1-based place of a segment in this set, ST being 1 (IK302)."""
        return position.segment_number - self.first_segment + 1


@dataclass(frozen=True, slots=True)
class GroupResult:
    """What happened to one GS/GE functional group: an AK9."""

    functional_id: str
    control_number: str
    version: str
    sender: str
    receiver: str
    outcome: Outcome
    sets: tuple[SetResult, ...]
    errors: tuple[X12Error, ...] = ()
    declared_set_count: int | None = None

    @property
    def received(self) -> int:
        return len(self.sets)

    @property
    def accepted_count(self) -> int:
        return sum(1 for result in self.sets if result.accepted)


@dataclass(frozen=True, slots=True)
class InterchangeResult:
    """What happened to one ISA/IEA interchange: a TA1."""

    control_number: str
    sender_qualifier: str
    sender: str
    receiver_qualifier: str
    receiver: str
    date: str
    time: str
    version: str
    usage: str
    acknowledgment_requested: bool
    outcome: Outcome
    groups: tuple[GroupResult, ...] = field(default=())
    errors: tuple[X12Error, ...] = field(default=())

    @property
    def note_code(self) -> str:
        """TA105: the code of the first error, or 000 (no error)."""
        for error in self.errors:
            if error.interchange_code:
                return error.interchange_code
        return "000"


def _isa_error(message: str, code: str, element: int, position: Position) -> X12Error:
    where = Position(position.segment_number, "ISA", element, None, position.offset)
    return InterchangeInvalid(message, position=where, interchange_code=code)


def _is_date(text: str, *, century: bool) -> bool:
    if not is_digits(text) or len(text) != (8 if century else 6):
        return False
    year = int(text[:4]) if century else 2000 + int(text[:2])
    try:
        date(year, int(text[-4:-2]), int(text[-2:]))
    except ValueError:
        return False
    return True


def _is_time(text: str) -> bool:
    return (
        is_digits(text)
        and len(text) in (4, 6, 7, 8)
        and int(text[:2]) < 24
        and int(text[2:4]) < 60
        and (len(text) == 4 or int(text[4:6]) < 60)
    )


def check_isa(isa: list[str], position: Position) -> tuple[list[X12Error], list[X12Error]]:
    """Errors that reject the interchange, and notes that only flag it."""
    checks = (
        (isa[1] in ("00", "03"), "ISA01 is not an authorization qualifier.", "010", 1),
        (isa[3] in ("00", "01"), "ISA03 is not a security qualifier.", "012", 3),
        (isa[5] in _ID_QUALIFIERS, "ISA05 is not an interchange id qualifier.", "005", 5),
        (bool(isa[6].strip()), "ISA06, the sender id, is blank.", "006", 6),
        (isa[7] in _ID_QUALIFIERS, "ISA07 is not an interchange id qualifier.", "007", 7),
        (bool(isa[8].strip()), "ISA08, the receiver id, is blank.", "008", 8),
        (_is_date(isa[9], century=False), "ISA09 is not a date (YYMMDD).", "014", 9),
        (_is_time(isa[10]), "ISA10 is not a time (HHMM).", "015", 10),
        (is_digits(isa[13]) and len(isa[13]) == 9, "ISA13 is not nine digits.", "018", 13),
        (isa[14] in ("0", "1"), "ISA14 must be 0 or 1.", "019", 14),
        (isa[15] in ("P", "T"), "ISA15 must be P (production) or T (test).", "020", 15),
    )
    errors = [
        _isa_error(message, code, index, position) for ok, message, code, index in checks if not ok
    ]
    notes: list[X12Error] = []
    if isa[12] != "00501":
        notes.append(
            _isa_error("ISA12 is not 00501; the interchange is read as 5010.", "017", 12, position)
        )
    return errors, notes


def check_iea(
    iea: list[str], *, isa_control: str, groups: int, position: Position
) -> list[X12Error]:
    errors: list[X12Error] = []
    declared = iea[1] if len(iea) > 1 else ""
    if as_count(declared) != groups:
        errors.append(
            GroupCountMismatch(
                f"IEA01 says {_shown_count(declared)} functional groups; "
                f"the interchange has {groups}.",
                position=Position(position.segment_number, "IEA", 1, None, position.offset),
            )
        )
    if (iea[2] if len(iea) > 2 else "") != isa_control:
        errors.append(
            ControlNumberMismatch(
                "IEA02 does not match the ISA13 interchange control number.",
                position=Position(position.segment_number, "IEA", 2, None, position.offset),
                interchange_code="001",
                set_code="",
            )
        )
    return errors


def check_gs(gs: list[str], position: Position, *, seen: set[str]) -> list[X12Error]:
    """Errors in a GS header; they reject the group."""

    def invalid(message: str, element: int, code: str = "024") -> X12Error:
        where = Position(position.segment_number, "GS", element, None, position.offset)
        return ElementInvalid(message, position=where, interchange_code=code, set_code="")

    gs = gs + [""] * (9 - len(gs))
    errors: list[X12Error] = []
    if len(gs[1]) != 2 or not gs[1].isalpha():
        errors.append(invalid("GS01 is not a functional identifier code.", 1))
    if not _is_date(gs[4], century=True):
        errors.append(invalid("GS04 is not a date (CCYYMMDD).", 4))
    if not _is_time(gs[5]):
        errors.append(invalid("GS05 is not a time (HHMM).", 5))
    control = gs[6]
    if not (is_digits(control) and 1 <= len(control) <= 9):
        errors.append(
            ElementInvalid(
                "GS06 is not a group control number of 1 to 9 digits.",
                position=Position(position.segment_number, "GS", 6, None, position.offset),
                group_code="6",
                set_code="",
            )
        )
    elif control in seen:
        errors.append(
            DuplicateControlNumber(
                "GS06 repeats a group control number of this interchange.",
                position=Position(position.segment_number, "GS", 6, None, position.offset),
                group_code="19",
                set_code="",
            )
        )
    if gs[7] != "X":
        errors.append(invalid("GS07 must be X (Accredited Standards Committee X12).", 7))
    if not gs[8]:
        errors.append(invalid("GS08, the version, is missing.", 8))
    return errors


def check_ge(ge: list[str], *, gs_control: str, sets: int, position: Position) -> list[X12Error]:
    errors: list[X12Error] = []
    declared = ge[1] if len(ge) > 1 else ""
    if as_count(declared) != sets:
        errors.append(
            SetCountMismatch(
                f"GE01 says {_shown_count(declared)} transaction sets; the group has {sets}.",
                position=Position(position.segment_number, "GE", 1, None, position.offset),
            )
        )
    if (ge[2] if len(ge) > 2 else "") != gs_control:
        errors.append(
            ControlNumberMismatch(
                "GE02 does not match the GS06 group control number.",
                position=Position(position.segment_number, "GE", 2, None, position.offset),
                group_code="4",
                set_code="",
            )
        )
    return errors


def check_se(
    se: list[str], *, st_control: str, segments: int, position: Position
) -> list[X12Error]:
    errors: list[X12Error] = []
    declared = se[1] if len(se) > 1 else ""
    if as_count(declared) != segments:
        errors.append(
            SegmentCountMismatch(
                f"SE01 says {_shown_count(declared)} segments; the set has {segments}.",
                position=Position(position.segment_number, "SE", 1, None, position.offset),
            )
        )
    if (se[2] if len(se) > 2 else "") != st_control:
        errors.append(
            ControlNumberMismatch(
                "SE02 does not match the ST02 transaction set control number.",
                position=Position(position.segment_number, "SE", 2, None, position.offset),
            )
        )
    return errors


def _shown_count(text: str) -> str:
    """A count as written, if it is one; counts are never PHI, free text may be."""
    return text if is_digits(text) and len(text) <= 10 else "something other than a number of"
