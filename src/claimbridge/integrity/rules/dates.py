"""Services that cannot have been provided on their date: the future, outside a life, a long day.

* ``date-of-service`` (one claim): a line dated after the scrub's day, before
  the patient's recorded date of birth or after the recorded date of death
  blocks. Death's own day is a possible day of service, and so is birth's.
  Messages quote the service date, never the birth or death dates: those
  are the patient's, and PHI.
* ``provider-day-hours`` (one provider's day, every patient): the minutes
  of the time-based services one rendering provider billed on one date add
  up to more than the 24 hours in it. Minutes per unit come from a table of
  timed codes (``data/time_based_codes.json``, its source stated inside; a
  deployment may give its own with ``load_time_based_codes``). Exactly 24
  hours passes. One finding names the provider, the date, the total, the
  codes, and the claim and line that took the total past 24 hours.

A void (frequency ``8``) takes its lines back, so they add no time.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar

from claimbridge.errors import ValidationFailed
from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.engine import ProviderDay, Scope
from claimbridge.integrity.model import Finding, ScrubClaim, ScrubLine, Severity
from claimbridge.types import ProcedureCode

__all__ = [
    "DAY_MINUTES",
    "RULES",
    "DateOfService",
    "ProviderDayHours",
    "TimedCodes",
    "load_time_based_codes",
]

DAY_MINUTES = 24 * 60
_VOID = "8"


# --- date of service ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DateOfService:
    """``date-of-service``: no line dated in the future, before birth or after death."""

    id: str = "date-of-service"
    scope: ClassVar[Scope] = "claim"

    def ready(self, context: ScrubContext) -> bool:
        return True

    def check(self, subject: ScrubClaim, context: ScrubContext) -> Iterator[Finding]:
        for line in subject.lines:
            served = line.service_date
            if served > context.today:
                yield self._finding(
                    subject,
                    line,
                    f"is after today ({context.today.isoformat()}): a service cannot be "
                    "billed before it is provided",
                    "Correct the date of service, or hold the line until the service is provided.",
                )
            if subject.born is not None and served < subject.born:
                yield self._finding(
                    subject,
                    line,
                    "is before the patient's recorded date of birth",
                    "Correct the date of service, or the patient's date of birth if it is wrong.",
                )
            if subject.died is not None and served > subject.died:
                yield self._finding(
                    subject,
                    line,
                    "is after the patient's recorded date of death",
                    "Remove the service, which cannot have been provided, or correct the date "
                    "of service, or the patient's date of death if it is wrong.",
                )

    def _finding(self, claim: ScrubClaim, line: ScrubLine, problem: str, remedy: str) -> Finding:
        return Finding(
            rule=self.id,
            severity=Severity.BLOCK,
            message=(
                f"Line {line.number}'s date of service, {line.service_date.isoformat()}, {problem}."
            ),
            remedy=remedy,
            claim=claim.ref,
            line=line.number,
            codes=(line.code,),
        )


# --- the table of timed codes ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimedCodes:
    """Minutes one unit of each time-based code stands for; ``source`` says where they come from."""

    label: str
    source: str
    minutes: Mapping[str, int] = field(repr=False)


def _invalid(message: str, where: str) -> ValidationFailed:
    return ValidationFailed(f"time-based codes: {message}", where=where)


def _text(document: Mapping[str, object], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"{key!r} must be a non-empty string.", key)
    return value


def _minutes(code: object, entry: object) -> tuple[str, int]:
    if not isinstance(code, str):  # pragma: no cover - JSON object keys are strings
        raise _invalid("a code must be a string.", "codes")
    where = f"codes.{code[:10]}"
    try:
        parsed = ProcedureCode.parse(code, where=where)
    except ValidationFailed as error:
        raise _invalid(error.message, where) from None
    minutes = entry.get("minutes") if isinstance(entry, dict) else None
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= DAY_MINUTES:
        raise _invalid(f"minutes must be a whole number from 1 to {DAY_MINUTES}.", where)
    return parsed.code, minutes


def parse_time_based_codes(content: bytes) -> TimedCodes:
    """A table from JSON: ``{"label", "source", "codes": {CODE: {"minutes": N, ...}}}``."""
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _invalid("not a JSON document.", "file") from None
    if not isinstance(document, dict):
        raise _invalid("the document must be a JSON object.", "file")
    codes = document.get("codes")
    if not isinstance(codes, dict) or not codes:
        raise _invalid("'codes' must be an object naming at least one code.", "codes")
    minutes = dict(_minutes(code, entry) for code, entry in codes.items())
    return TimedCodes(
        _text(document, "label"), _text(document, "source"), MappingProxyType(minutes)
    )


@functools.cache
def _shipped() -> TimedCodes:
    resource = importlib.resources.files("claimbridge.integrity") / "data" / "time_based_codes.json"
    return parse_time_based_codes(resource.read_bytes())


def load_time_based_codes(source: str | os.PathLike[str] | bytes | None = None) -> TimedCodes:
    """The shipped table (``None``), or one from a path or JSON bytes.

    Raises ``ValidationFailed`` naming the entry that is wrong.
    """
    if source is None:
        return _shipped()
    if isinstance(source, bytes):
        return parse_time_based_codes(source)
    return parse_time_based_codes(Path(source).read_bytes())


# --- a provider's day --------------------------------------------------------------


def _shown_minutes(total: Decimal) -> str:
    whole = int(total)
    hours, minutes = divmod(whole, 60)
    return f"{total.normalize():,f} minutes ({hours} h {minutes:02d} min)"


@dataclass(frozen=True, slots=True)
class ProviderDayHours:
    """``provider-day-hours``: one provider's timed services on one date total over 24 hours."""

    timed: TimedCodes = field(default_factory=load_time_based_codes)
    id: str = "provider-day-hours"
    scope: ClassVar[Scope] = "provider_day"

    @property
    def codes(self) -> frozenset[str]:
        """The timed codes: the engine gives this rule a provider's day of those alone."""
        return frozenset(self.timed.minutes)

    def ready(self, context: ScrubContext) -> bool:
        return True

    def check(self, subject: ProviderDay, context: ScrubContext) -> Iterator[Finding]:
        total = Decimal(0)
        codes: set[str] = set()
        claims: set[str] = set()
        over: tuple[ScrubClaim, ScrubLine] | None = None
        for claim, line in subject.entries:
            minutes = self.timed.minutes.get(line.code)
            if minutes is None or claim.frequency == _VOID:
                continue
            total += minutes * line.units
            codes.add(line.code)
            claims.add(claim.ref)
            if over is None and total > DAY_MINUTES:
                over = (claim, line)
        if over is not None:
            yield self._finding(subject, total, sorted(codes), len(claims), over)

    def _finding(
        self,
        day: ProviderDay,
        total: Decimal,
        codes: list[str],
        claims: int,
        over: tuple[ScrubClaim, ScrubLine],
    ) -> Finding:
        claim, line = over
        served = day.served.isoformat()
        return Finding(
            rule=self.id,
            severity=Severity.BLOCK,
            message=(
                f"NPI {day.provider} billed {_shown_minutes(total)} of time-based services "
                f"on {served} across {claims} claim{'' if claims == 1 else 's'} (codes "
                f"{', '.join(codes)}; minutes per unit from {self.timed.label}): more than "
                f"the 24 hours in a day. Line {line.number} of claim {claim.ref} took the "
                "total past 24 hours."
            ),
            remedy=(
                f"Check the provider's services of {served} against the records of the time "
                "spent; correct the units, or remove the services that were not provided."
            ),
            claim=claim.ref,
            line=line.number,
            codes=tuple(codes),
            provider=day.provider,
            facts=(
                ("date", served),
                ("total_minutes", f"{total.normalize():f}"),
                ("claims", str(claims)),
                ("table", self.timed.label),
            ),
        )


RULES = (DateOfService(), ProviderDayHours())
