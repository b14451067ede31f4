"""What the integrity rules read and what they say: claims to scrub, findings.

These values are pure: the exchange builds ``ScrubClaim`` records from an
ingested batch (with stored ids), the ``scrub`` command from a file (with
positions). A claim's ``patient`` is a key to group a patient's services
by (a stored patient id, or a key derived from the file) and is never
shown; findings name claims by ``ref`` and lines by number, and quote codes,
NPIs and the edits' dates, never a patient's name, birth date or ids.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

__all__ = [
    "Finding",
    "ProviderName",
    "ScrubClaim",
    "ScrubLine",
    "Severity",
]


class Severity(enum.StrEnum):
    BLOCK = "block"  # the claim stays out of outbound 837s until resolved or overridden
    WARN = "warn"  # for review; the claim may go


@dataclass(frozen=True, slots=True)
class ProviderName:
    """A provider's name as the claim gives it (NM1), for matching lists without an NPI."""

    family: str
    given: str = ""


@dataclass(frozen=True, slots=True)
class ScrubLine:
    number: int
    code: str
    modifiers: tuple[str, ...]
    units: Decimal
    service_date: date
    diagnosis_pointers: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ScrubClaim:
    """One claim as the rules see it.

    ``ref`` names the claim in findings (a stored claim id, or ``claim 3``
    of a file). ``born`` and ``died`` are the patient's dates where known;
    ``received`` is the day the claim reached us (timely filing counts to
    it). ``frequency`` is CLM05-3: ``7`` replaces and ``8`` voids an
    earlier claim, so neither is a duplicate of it.
    """

    ref: str
    patient: str = field(repr=False)
    billing_npi: str
    lines: tuple[ScrubLine, ...]
    rendering_npi: str | None = None
    referring_npi: str | None = None
    rendering_name: ProviderName | None = field(default=None, repr=False)
    taxonomy: str = ""
    diagnoses: tuple[str, ...] = ()
    frequency: str = "1"
    born: date | None = field(default=None, repr=False)
    died: date | None = field(default=None, repr=False)
    received: date | None = None

    @property
    def provider(self) -> str:
        """The NPI that performed the services: the rendering provider, else the billing one."""
        return self.rendering_npi or self.billing_npi

    def npis(self) -> Iterator[tuple[str, str]]:
        """(role, NPI) for each provider the claim names."""
        yield "billing", self.billing_npi
        if self.rendering_npi:
            yield "rendering", self.rendering_npi
        if self.referring_npi:
            yield "referring", self.referring_npi


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a rule found, explaining itself.

    ``message`` says what is wrong and cites the edit (codes, the edit's
    dates and indicator); ``remedy`` what would make the claim correct.
    ``claim`` and ``line`` point at it; a provider-level finding (upcoding,
    a provider's day over 24 hours) has ``provider`` and may have no claim.
    ``facts`` are the figures behind it, as text, for machines.
    """

    rule: str
    severity: Severity
    message: str
    remedy: str
    claim: str | None = None
    line: int | None = None
    codes: tuple[str, ...] = ()
    provider: str | None = None
    facts: tuple[tuple[str, str], ...] = ()

    @property
    def explanation(self) -> str:
        return f"{self.message} {self.remedy}"

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "claim": self.claim,
            "line": self.line,
            "codes": list(self.codes),
            "provider": self.provider,
            "message": self.message,
            "remedy": self.remedy,
            "facts": dict(self.facts),
        }
