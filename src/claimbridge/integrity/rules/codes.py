"""Code validity: diagnoses, procedure and modifier shapes, NPIs, diagnosis pointers, timely filing.

These are the edits a payer's front end applies before it looks at a
claim's substance; a claim that fails one comes back rejected, unpaid, and
has to be corrected and sent again. Each rule looks at one claim:

* ``code-diagnosis``  every diagnosis is an ICD-10-CM code and billable (a
  leaf: ``E11`` and ``E11.6`` are headers with more specific codes below),
  in the release the context holds. A release knows its fiscal year
  (1 October to 30 September); a service outside it is checked all the
  same, with a warning that another year's code set was used.
* ``code-procedure``  the procedure code's shape: CPT Category I (five
  digits), II (four digits and F), III (four digits and T), a Proprietary
  Laboratory Analysis (four digits and U), HCPCS Level II (a letter A-V and
  four digits), or a four-digit revenue code (837I lines); each modifier is
  two letters or digits. Whether the code exists is for the code sets:
  CPT's is licensed and not shipped.
* ``code-npi``  each NPI the claim names is ten digits, starts with 1 or 2
  and has the Luhn check digit over the prefix 80840 (CMS's construction).
* ``code-pointer``  each line's diagnosis pointers point at a diagnosis the
  claim has (1 to the number of diagnoses), at most four a line (837P SV107).
* ``timely-filing``  the claim reaches us (``received``, else the scrub's
  day) within ``context.timely_filing_days`` of each line's date of service:
  Medicare's limit is 12 months (42 CFR 424.44); within 30 days of it warns.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from claimbridge.errors import ValidationFailed
from claimbridge.integrity.context import DiagnosisCodes, ScrubContext
from claimbridge.integrity.engine import Scope
from claimbridge.integrity.model import Finding, ScrubClaim, ScrubLine, Severity
from claimbridge.integrity.tables.icd10cm import fiscal_year_of, normalise_code
from claimbridge.types import Modifier, ProcedureCode, check_digit

__all__ = [
    "RULES",
    "DiagnosisCodeValidity",
    "DiagnosisPointers",
    "NPIValidity",
    "ProcedureCodeShape",
    "TimelyFiling",
    "npi_problem",
]

MAX_POINTERS = 4
"""Diagnosis pointers a line may carry in an 837P (SV107-1 to SV107-4)."""
FILING_WARNING_DAYS = 30
_SHOWN = 15
# A scrub sees a few thousand distinct codes and NPIs over a million lines:
# each is judged once. The bound keeps a hostile file from growing the caches.
_CACHE_SIZE = 1 << 16


def _shown(text: str) -> str:
    """A value from the claim as quoted in a message: bounded, so a bad field cannot flood it."""
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}…"


@dataclass(frozen=True, slots=True)
class DiagnosisCodeValidity:
    """``code-diagnosis``: each diagnosis exists and is billable in the release."""

    id: str = "code-diagnosis"
    scope: ClassVar[Scope] = "claim"

    def ready(self, context: ScrubContext) -> bool:
        return context.diagnoses is not None

    def check(self, subject: ScrubClaim, context: ScrubContext) -> Iterator[Finding]:
        codes = context.diagnoses
        if codes is None:
            return
        seen: set[str] = set()
        for position, text in enumerate(subject.diagnoses, start=1):
            if text not in seen:
                seen.add(text)
                if not codes.billable(text):  # the common case, cached, costs one look-up
                    yield self._finding(subject, position, text, codes)

    def _finding(
        self, claim: ScrubClaim, position: int, text: str, codes: DiagnosisCodes
    ) -> Finding:
        """Why a code the release does not bill is refused; a warning where the services
        fall in another fiscal year, whose release may have added or split the code."""
        shown = normalise_code(text) or _shown(text)
        if not codes.exists(text):
            problem = f"is not a code in {codes.label}"
            remedy = "Correct it to the ICD-10-CM code the record supports."
        else:
            problem = (
                f"is a category in {codes.label}, not a billable code: more specific "
                "codes exist below it"
            )
            remedy = (
                f"Replace {shown} with the most specific code below it that the record supports."
            )
        severity = Severity.BLOCK
        other_years = _other_years(claim, codes)
        if other_years:
            severity = Severity.WARN
            problem += (
                f"; the services are dated in {', '.join(other_years)}, whose code set may differ"
            )
            remedy += " Check it against the ICD-10-CM release of the services' fiscal year."
        return Finding(
            rule=self.id,
            severity=severity,
            message=f"Diagnosis {position}, ICD-10-CM {shown}, {problem}.",
            remedy=remedy,
            claim=claim.ref,
            codes=(shown,),
            facts=(("diagnosis", str(position)), ("release", codes.label)),
        )


def _other_years(claim: ScrubClaim, codes: DiagnosisCodes) -> list[str]:
    """The fiscal years of the claim's services other than the release's (when it says)."""
    # A release may know its fiscal year (ICD10CMRelease does); the protocol does
    # not require it, and a runtime-protocol isinstance is slow per claim.
    year = getattr(codes, "fiscal_year", None)
    if not isinstance(year, int):
        return []
    served = {fiscal_year_of(line.service_date) for line in claim.lines}
    return [f"FY{other}" for other in sorted(served - {year})]


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _procedure_problem(code: str) -> bool:
    if len(code) == 4 and code.isascii() and code.isdigit():
        return False  # a revenue code (837I SV201)
    try:
        ProcedureCode.parse(code)
    except ValidationFailed:
        return True
    return False


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _modifier_invalid(modifier: str) -> bool:
    try:
        Modifier.parse(modifier)
    except ValidationFailed:
        return True
    return False


@dataclass(frozen=True, slots=True)
class ProcedureCodeShape:
    """``code-procedure``: CPT, HCPCS or revenue code shapes, and two-character modifiers."""

    id: str = "code-procedure"
    scope: ClassVar[Scope] = "claim"

    def ready(self, context: ScrubContext) -> bool:
        return True

    def check(self, subject: ScrubClaim, context: ScrubContext) -> Iterator[Finding]:
        for line in subject.lines:
            if _procedure_problem(line.code):
                yield self._finding(
                    subject,
                    line,
                    f"Line {line.number}: {_shown(line.code)!r} is not a procedure code: "
                    "CPT is five digits, or four digits and F, T or U; HCPCS Level II is "
                    "a letter A-V and four digits; a revenue code is four digits.",
                    "Correct the line's procedure code.",
                )
            bad = [modifier for modifier in line.modifiers if _modifier_invalid(modifier)]
            if bad:
                quoted = ", ".join(repr(_shown(modifier)) for modifier in bad)
                yield self._finding(
                    subject,
                    line,
                    f"Line {line.number}: modifier {quoted} is not two letters or digits "
                    "(25, 59, XS, LT).",
                    "Correct or remove the modifier.",
                )

    def _finding(self, claim: ScrubClaim, line: ScrubLine, message: str, remedy: str) -> Finding:
        return Finding(
            rule=self.id,
            severity=Severity.BLOCK,
            message=message,
            remedy=remedy,
            claim=claim.ref,
            line=line.number,
            codes=(_shown(line.code),),
        )


@functools.lru_cache(maxsize=_CACHE_SIZE)
def npi_problem(npi: str) -> str | None:
    """What is wrong with ``npi``, in words; None for a valid NPI."""
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():
        return "is not ten digits"
    if npi[0] not in "12":
        return "does not start with 1 or 2"
    expected = check_digit(npi[:9])
    if npi[9] != expected:
        return f"fails its check digit (the first nine digits give {expected}, not {npi[9]})"
    return None


@dataclass(frozen=True, slots=True)
class NPIValidity:
    """``code-npi``: billing, rendering and referring NPIs have the NPI's form and check digit."""

    id: str = "code-npi"
    scope: ClassVar[Scope] = "claim"

    def ready(self, context: ScrubContext) -> bool:
        return True

    def check(self, subject: ScrubClaim, context: ScrubContext) -> Iterator[Finding]:
        if all(npi_problem(npi) is None for _, npi in subject.npis()):
            return  # the common case: every NPI checks (cached)
        roles: dict[str, list[str]] = {}
        for role, npi in subject.npis():
            roles.setdefault(npi, []).append(role)
        for npi, held in roles.items():
            problem = npi_problem(npi)
            if problem is None:
                continue
            yield Finding(
                rule=self.id,
                severity=Severity.BLOCK,
                message=f"{' and '.join(held).capitalize()} NPI {_shown(npi)!r} {problem}.",
                remedy=(
                    "Correct the NPI from the provider's NPPES record; the payer rejects a "
                    "claim whose NPI is not valid."
                ),
                claim=subject.ref,
                provider=_shown(npi),
                facts=(("roles", ", ".join(held)),),
            )


@dataclass(frozen=True, slots=True)
class DiagnosisPointers:
    """``code-pointer``: each pointer names a diagnosis of the claim; at most four a line."""

    id: str = "code-pointer"
    scope: ClassVar[Scope] = "claim"

    def ready(self, context: ScrubContext) -> bool:
        return True

    def check(self, subject: ScrubClaim, context: ScrubContext) -> Iterator[Finding]:
        count = len(subject.diagnoses)
        for line in subject.lines:
            pointers = line.diagnosis_pointers
            dangling = [pointer for pointer in pointers if not 1 <= pointer <= count]
            problems = []
            if dangling:
                problems.append(
                    f"points at diagnosis {', '.join(map(str, dangling))}, but the claim "
                    f"lists {count} diagnos{'i' if count == 1 else 'e'}s (pointers count from 1)"
                )
            if len(pointers) > MAX_POINTERS:
                problems.append(f"has {len(pointers)} diagnosis pointers; at most four are allowed")
            if problems:
                yield Finding(
                    rule=self.id,
                    severity=Severity.BLOCK,
                    message=f"Line {line.number} {'; and '.join(problems)}.",
                    remedy=(
                        f"Point the line at the diagnoses (1 to {count}) that support it, "
                        "at most four, the first the primary one."
                    ),
                    claim=subject.ref,
                    line=line.number,
                    codes=(_shown(line.code),),
                    facts=(("pointers", ", ".join(map(str, pointers))), ("diagnoses", str(count))),
                )


@dataclass(frozen=True, slots=True)
class TimelyFiling:
    """``timely-filing``: each line filed within the payer's limit after its date of service."""

    id: str = "timely-filing"
    scope: ClassVar[Scope] = "claim"

    def ready(self, context: ScrubContext) -> bool:
        return True

    def check(self, subject: ScrubClaim, context: ScrubContext) -> Iterator[Finding]:
        filed = subject.received or context.today
        limit = context.timely_filing_days
        # Dates of service before these are late, or close to the limit.
        late_before = filed - timedelta(days=limit)
        close_before = late_before + timedelta(days=FILING_WARNING_DAYS)
        for line in subject.lines:
            if line.service_date >= close_before:
                continue
            deadline = line.service_date + timedelta(days=limit)
            if line.service_date < late_before:
                yield self._late(subject, line, filed, deadline, limit)
            else:
                yield self._close(subject, line, filed, deadline, limit)

    def _late(
        self, claim: ScrubClaim, line: ScrubLine, filed: date, deadline: date, limit: int
    ) -> Finding:
        days = (filed - line.service_date).days
        return Finding(
            rule=self.id,
            severity=Severity.BLOCK,
            message=(
                f"Line {line.number}, dated {line.service_date.isoformat()}, is filed "
                f"{filed.isoformat()}, {days} days after its date of service: past the "
                f"{limit}-day filing limit, which ended {deadline.isoformat()} (Medicare: "
                "12 months after the date of service, 42 CFR 424.44)."
            ),
            remedy=(
                "Do not bill the payer for this service unless one of the exceptions to the "
                "limit applies (42 CFR 424.44(b): an administrative error of the payer, "
                "retroactive entitlement); document it in the override."
            ),
            claim=claim.ref,
            line=line.number,
            codes=(_shown(line.code),),
            facts=_filing_facts(filed, deadline, limit),
        )

    def _close(
        self, claim: ScrubClaim, line: ScrubLine, filed: date, deadline: date, limit: int
    ) -> Finding:
        left = (deadline - filed).days
        return Finding(
            rule=self.id,
            severity=Severity.WARN,
            message=(
                f"Line {line.number}, dated {line.service_date.isoformat()}, has {left} "
                f"day{'' if left == 1 else 's'} left of its {limit}-day filing limit, which "
                f"ends {deadline.isoformat()}."
            ),
            remedy=f"Send the claim to the payer by {deadline.isoformat()}.",
            claim=claim.ref,
            line=line.number,
            codes=(_shown(line.code),),
            facts=_filing_facts(filed, deadline, limit),
        )


def _filing_facts(filed: date, deadline: date, limit: int) -> tuple[tuple[str, str], ...]:
    return (
        ("filed", filed.isoformat()),
        ("deadline", deadline.isoformat()),
        ("limit_days", str(limit)),
    )


RULES = (
    DiagnosisCodeValidity(),
    ProcedureCodeShape(),
    NPIValidity(),
    DiagnosisPointers(),
    TimelyFiling(),
)
