"""Units: NCCI medically unlikely edits (MUE), practitioner table.

An MUE is the most units of a code one provider reports for one
beneficiary; its adjudication indicator (MAI) says what is counted:

* MAI 1, line edit: the units of each claim line (``mue-line``, per claim).
  Units on separate lines with the modifiers that show a distinct site or
  session (76, 91, RT/LT) are judged line by line, as CMS does.
* MAI 2, date of service edit, policy: the units of the code summed over
  every line and claim of the same patient, provider and date
  (``mue-day``); an absolute limit (anatomy, policy, the code's descriptor).
* MAI 3, date of service edit, clinical: summed the same way; the limit
  comes from clinical data, so a denial can be appealed on documentation
  of medical necessity.

Each is a blocking finding: units over the edit are denied. A date of
service finding sits on the line that takes the total over the edit and
cites every line of the code that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from claimbridge.formats.cms import MueEdit
from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.model import Finding, ScrubClaim, ScrubLine, Severity

if TYPE_CHECKING:
    from claimbridge.integrity.engine import Scope, ServiceDay

__all__ = ["RULES", "MueDay", "MueLine"]

Entry = tuple[ScrubClaim, ScrubLine]

MEANINGS = {
    1: "line edit: the units of one claim line",
    2: "date of service edit, policy: an absolute limit",
    3: "date of service edit, clinical: the most units clinically likely",
}


@dataclass(frozen=True, slots=True)
class MueLine:
    """MAI 1: the units of each line against the code's MUE."""

    id: ClassVar[str] = "mue-line"
    scope: ClassVar[Scope] = "claim"

    def ready(self, context: ScrubContext) -> bool:
        return context.mue is not None

    def check(self, subject: ScrubClaim, context: ScrubContext) -> Iterable[Finding]:
        table = context.mue
        if table is None:
            return ()
        get = table.get
        findings: list[Finding] = []
        for line in subject.lines:
            edit = get(line.code)
            if (
                edit is not None
                and edit.adjudication_indicator == 1
                and line.units > edit.max_units
            ):
                findings.append(_line_finding(edit, subject, line, table.label))
        return findings


@dataclass(frozen=True, slots=True)
class MueDay:
    """MAI 2 and 3: a code's units summed over a patient's day with one provider."""

    id: ClassVar[str] = "mue-day"
    scope: ClassVar[Scope] = "day"

    def ready(self, context: ScrubContext) -> bool:
        return context.mue is not None

    def check(self, subject: ServiceDay, context: ScrubContext) -> Iterable[Finding]:
        table = context.mue
        if table is None:
            return ()
        get = table.get
        totals: dict[str, Decimal] = {}
        over: dict[str, MueEdit] = {}
        for _, line in subject.entries:
            edit = get(line.code)
            if edit is not None and edit.adjudication_indicator != 1:
                total = totals[line.code] = totals.get(line.code, 0) + line.units
                if total > edit.max_units:
                    over[line.code] = edit
        if not over:
            return ()
        return [
            _day_finding(edit, _lines_of(subject, code), subject, table.label)
            for code, edit in over.items()
        ]


def _lines_of(day: ServiceDay, code: str) -> list[Entry]:
    return [entry for entry in day.entries if entry[1].code == code]


def _kind(code: str) -> str:
    return "CPT" if code[0].isdigit() else "HCPCS"


def _units(units: Decimal) -> str:
    """``5``, ``1.5``: no exponent, no trailing zeros."""
    return f"{units.normalize():f}"


def _line_finding(edit: MueEdit, claim: ScrubClaim, line: ScrubLine, label: str) -> Finding:
    code, most = edit.code, edit.max_units
    return Finding(
        rule=MueLine.id,
        severity=Severity.BLOCK,
        message=(
            f"{_kind(code)} {code}: {_units(line.units)} units on line {line.number}, "
            f"over the MUE of {most} (MAI 1, {MEANINGS[1]}) in {label}."
        ),
        remedy=(
            f"Bill at most {most} units of {code} on the line; units for a distinct site or "
            "session go on a line of their own with the modifier that shows it "
            "(such as 76, 91, RT or LT), documented in the record."
        ),
        claim=claim.ref,
        line=line.number,
        codes=(code,),
        provider=claim.provider,
        facts=_facts(edit, line.units, label, [(claim, line)]),
    )


def _day_finding(edit: MueEdit, group: list[Entry], day: ServiceDay, label: str) -> Finding:
    code, most, mai = edit.code, edit.max_units, edit.adjudication_indicator
    claim, line = _over(group, most)
    total = sum((line.units for _, line in group), Decimal(0))
    return Finding(
        rule=MueDay.id,
        severity=Severity.BLOCK,
        message=(
            f"{_kind(code)} {code}: {_units(total)} units on one date of service "
            f"({_cited(group)}), over the MUE of {most} (MAI {mai}, {MEANINGS[mai]}) in {label}."
        ),
        remedy=_day_remedy(code, most, mai),
        claim=claim.ref,
        line=line.number,
        codes=(code,),
        provider=day.provider,
        facts=_facts(edit, total, label, group),
    )


def _over(group: list[Entry], most: int) -> Entry:
    """The line whose units take the running total past ``most``."""
    total = Decimal(0)
    for entry in group:
        total += entry[1].units
        if total > most:
            return entry
    return group[-1]


def _day_remedy(code: str, most: int, mai: int) -> str:
    bill = f"Bill at most {most} units of {code} for the date of service"
    if mai == 2:
        return (
            f"{bill}; units over a policy MUE are not payable, and an appeal does not change that."
        )
    return (
        f"{bill}; if more were medically necessary, documentation of that necessity "
        "in the record can support an appeal of the denied units."
    )


def _cited(group: list[Entry]) -> str:
    return "; ".join(
        f"{_named(claim.ref)} line {line.number}: {_units(line.units)}" for claim, line in group
    )


def _named(ref: str) -> str:
    """``claim 3`` as the ``scrub`` command names claims, ``claim <id>`` for a stored one."""
    return ref if ref.startswith("claim") else f"claim {ref}"


def _facts(
    edit: MueEdit, units: Decimal, label: str, group: list[Entry]
) -> tuple[tuple[str, str], ...]:
    return (
        ("code", edit.code),
        ("units", _units(units)),
        ("mue", str(edit.max_units)),
        ("mai", str(edit.adjudication_indicator)),
        ("table", label),
        ("rationale", edit.rationale),
        ("lines", "; ".join(f"{claim.ref}:{line.number}" for claim, line in group)),
    )


RULES = (MueLine(), MueDay())
