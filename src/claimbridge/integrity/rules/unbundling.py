"""Unbundling: NCCI procedure-to-procedure (PTP) edits on one patient's day with one provider.

A PTP edit says the column 2 code is not payable with the column 1 code
when one provider bills both for one beneficiary on one date of service,
on one claim or several. Edits are directional: (A, B) says nothing of
(B, A). Two lines of the same code are no PTP matter (duplicates and MUE
see to those).

Choices, with the reading of CMS's material behind them:

* In force on the date of service ``d`` when ``effective <= d`` and
  (no deletion date, or ``d < deleted``): the deletion date is the first
  day the edit no longer applies. The material we could read does not
  spell the boundary out; CMS replaces its tables by quarter, so a
  deletion takes effect on the first day of a quarter, the day the next
  version's edits start, and an edit deleted retroactively with a
  deletion date on its effective date then never applied, as it should.
* Modifier indicator 0: blocked, whatever modifiers the lines carry.
  Indicator 1: bypassed when the lines carry an NCCI-associated modifier
  (the list of CMS's NCCI Policy Manual, chapter I: anatomic E1-E4, FA,
  F1-F9, TA, T1-T9, LT, RT, LC, LD, RC, LM, RI; global surgery 24, 25, 57,
  58, 78, 79; and 27, 59, 91, XE, XP, XS, XU), else blocked. Indicator 9:
  the edit does not apply.
* CMS's manual places the modifier on the column 2 code in general, and
  payers applying the edits also accept it on the column 1 code (their
  correct coding policies pay a pair whose column 1 line carries it), so
  a modifier on either line bypasses: the scrub errs towards not blocking
  what a payer would pay. The one exception is an anatomic modifier:
  when both lines name the same sites (``RT`` on both), they show the
  same site, not a distinct one.
* When several rows of a pair are in force on the date (CMS should never
  publish that), the stricter indicator counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, ClassVar

from claimbridge.formats.cms import PtpEdit
from claimbridge.integrity.context import PtpTable, ScrubContext
from claimbridge.integrity.model import Finding, ScrubClaim, ScrubLine, Severity
from claimbridge.integrity.tables.ncci import PtpIndex

if TYPE_CHECKING:
    from claimbridge.integrity.engine import Scope, ServiceDay

__all__ = ["ANATOMIC_MODIFIERS", "NCCI_MODIFIERS", "RULES", "PtpPairs"]

ANATOMIC_MODIFIERS = frozenset(
    {"E1", "E2", "E3", "E4", "FA", *(f"F{n}" for n in range(1, 10))}
    | {"TA", *(f"T{n}" for n in range(1, 10))}
    | {"LT", "RT", "LC", "LD", "RC", "LM", "RI"}
)
NCCI_MODIFIERS = ANATOMIC_MODIFIERS | {
    *("24", "25", "57", "58", "78", "79"),  # global surgery
    *("27", "59", "91", "XE", "XP", "XS", "XU"),
}
"""The NCCI-associated modifiers that bypass an indicator 1 edit (NCCI Policy Manual, ch. I)."""

Entry = tuple[ScrubClaim, ScrubLine]


@dataclass(frozen=True, slots=True)
class PtpPairs:
    """Every ordered pair of distinct codes on a service day, against the PTP table."""

    id: ClassVar[str] = "ncci-ptp"
    scope: ClassVar[Scope] = "day"

    def ready(self, context: ScrubContext) -> bool:
        return context.ptp is not None

    def check(self, subject: ServiceDay, context: ScrubContext) -> Iterable[Finding]:
        """Findings on the column 2 lines; a day of one code costs no lookup at all."""
        table = context.ptp
        entries = subject.entries
        if table is None or len(entries) < 2:
            return ()
        codes = list(dict.fromkeys([entry[1].code for entry in entries]))
        if len(codes) < 2:
            return ()
        findings: list[Finding] = []
        by_code: dict[str, list[Entry]] = {}
        for column1, column2 in _candidates(table, codes):
            found = table.edits(column1, column2)
            edit = in_force(found, subject.served) if found else None
            if edit is not None:
                if not by_code:
                    by_code = _by_code(entries)
                firsts, seconds = by_code[column1], by_code[column2]
                findings.extend(_pair(edit, firsts, seconds, subject, table.label))
        return findings


def _candidates(table: PtpTable, codes: list[str]) -> Iterable[tuple[str, str]]:
    """The pairs worth asking about: those the index lists, else every ordered pair."""
    if isinstance(table, PtpIndex):
        return table.pairs_among(codes)
    return itertools.permutations(codes, 2)


def _by_code(entries: Iterable[Entry]) -> dict[str, list[Entry]]:
    by_code: dict[str, list[Entry]] = {}
    for entry in entries:
        by_code.setdefault(entry[1].code, []).append(entry)
    return by_code


def in_force(edits: Iterable[PtpEdit], served: date) -> PtpEdit | None:
    """The row in force on ``served`` that edits the pair (indicator 0 or 1), if any."""
    chosen: PtpEdit | None = None
    for edit in edits:
        applies = edit.effective <= served and (edit.deleted is None or served < edit.deleted)
        stricter = chosen is None or edit.modifier_indicator < chosen.modifier_indicator
        if applies and edit.modifier_indicator != 9 and stricter:
            chosen = edit
    return chosen


def bypassed(first: ScrubLine, second: ScrubLine) -> bool:
    """Whether the two lines' NCCI-associated modifiers show distinct services."""
    one, two = _associated(first), _associated(second)
    if (one | two) - ANATOMIC_MODIFIERS:
        return True
    return one != two


def _associated(line: ScrubLine) -> frozenset[str]:
    """The line's NCCI-associated modifiers, whatever case the claim wrote them in."""
    return NCCI_MODIFIERS.intersection(modifier.strip().upper() for modifier in line.modifiers)


def _pair(
    edit: PtpEdit, firsts: list[Entry], seconds: list[Entry], day: ServiceDay, label: str
) -> Iterator[Finding]:
    """A finding on each column 2 line that some column 1 line bundles."""
    for claim, line in seconds:
        for first_claim, first in firsts:
            if edit.modifier_indicator == 0 or not bypassed(first, line):
                yield _finding(edit, (first_claim, first), (claim, line), day, label)
                break


def _finding(edit: PtpEdit, first: Entry, second: Entry, day: ServiceDay, label: str) -> Finding:
    (first_claim, first_line), (claim, line) = first, second
    column1, column2 = edit.column1, edit.column2
    kind = "CPT" if column1[0].isdigit() and column2[0].isdigit() else "HCPCS"
    dates = f"effective {edit.effective.isoformat()}"
    if edit.deleted is not None:
        dates += f" until {edit.deleted.isoformat()}"
    where = f"line {first_line.number}"
    if first_claim.ref != claim.ref:
        where += f" of {_named(first_claim.ref)}"
    message = (
        f"{kind} {column1} and {column2} on the same day: NCCI PTP pair {dates}, "
        f"modifier indicator {edit.modifier_indicator}: {column2} is not separately payable "
        f"with {column1} ({where}){_unless(edit)}."
    )
    return Finding(
        rule=PtpPairs.id,
        severity=Severity.BLOCK,
        message=message,
        remedy=_remedy(edit, first_line, line),
        claim=claim.ref,
        line=line.number,
        codes=(column1, column2),
        provider=day.provider,
        facts=(
            ("column1", column1),
            ("column2", column2),
            ("effective", edit.effective.isoformat()),
            ("deleted", edit.deleted.isoformat() if edit.deleted else ""),
            ("modifier_indicator", str(edit.modifier_indicator)),
            ("table", label),
            ("rationale", edit.rationale),
            ("column1_claim", first_claim.ref),
            ("column1_line", str(first_line.number)),
        ),
    )


def _named(ref: str) -> str:
    """``claim 3`` as the ``scrub`` command names claims, ``claim <id>`` for a stored one."""
    return ref if ref.startswith("claim") else f"claim {ref}"


def _unless(edit: PtpEdit) -> str:
    return " without an NCCI-associated modifier" if edit.modifier_indicator == 1 else ""


def _remedy(edit: PtpEdit, first: ScrubLine, line: ScrubLine) -> str:
    remove = f"Remove {edit.column2} (line {line.number})"
    carried = sorted(_associated(line))
    if edit.modifier_indicator == 0:
        if carried:
            return (
                f"{remove}: no modifier bypasses an indicator 0 edit, "
                f"not even the {', '.join(carried)} billed on it."
            )
        return f"{remove}: no modifier bypasses an indicator 0 edit."
    remedy = (
        f"{remove} unless a distinct service is documented and billed with an "
        "NCCI-associated modifier such as 59 or XS"
    )
    same = _associated(line) & ANATOMIC_MODIFIERS
    if same and same == _associated(first) & ANATOMIC_MODIFIERS:
        remedy += f"; {', '.join(sorted(same))} on both lines names the same site"
    return remedy + "."


RULES = (PtpPairs(),)
