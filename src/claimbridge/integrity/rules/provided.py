"""Services not provided: claim lines with no encounter the practice attested.

When billing is outsourced, the practice answers for what the billing
company submits in its name. The practice's encounter log
(``context.encounters``, attested separately from the billing company's
claims) is the source of truth for which visits happened: a line whose
patient, rendering provider (else billing NPI) and date of service match no
attested encounter is a service the practice has not vouched for, and
blocks.

Lines dated before the log's ``since`` are not checked: a practice that
starts attesting does not condemn the claims it sent before. Without a
log the rule does not run, and the report says so. Each line costs one set
lookup, and a claim's lines on one date share it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.engine import Scope
from claimbridge.integrity.model import Finding, ScrubClaim, ScrubLine, Severity

__all__ = ["RULES", "EncounterAttested"]


@dataclass(frozen=True, slots=True)
class EncounterAttested:
    """``encounter-not-attested``: each line's (patient, NPI, date) is in the practice's log."""

    id: str = "encounter-not-attested"
    scope: ClassVar[Scope] = "claim"

    def ready(self, context: ScrubContext) -> bool:
        return context.encounters is not None

    def check(self, subject: ScrubClaim, context: ScrubContext) -> Iterator[Finding]:
        log = context.encounters
        if log is None:
            return
        npi = subject.provider
        attested: dict[date, bool] = {}
        for line in subject.lines:
            served = line.service_date
            if not log.covers(served):
                continue
            if served not in attested:
                attested[served] = log.attested(subject.patient, npi, served)
            if not attested[served]:
                yield self._finding(subject, line, npi)

    def _finding(self, claim: ScrubClaim, line: ScrubLine, npi: str) -> Finding:
        served = line.service_date.isoformat()
        return Finding(
            rule=self.id,
            severity=Severity.BLOCK,
            message=(
                f"Line {line.number} ({line.code}): no encounter attested by the practice for "
                f"this patient with NPI {npi} on {served}."
            ),
            remedy=(
                "The practice attests the encounter if it took place; otherwise the line is "
                "removed from the claim."
            ),
            claim=claim.ref,
            line=line.number,
            codes=(line.code,),
            provider=npi,
            facts=(("date", served),),
        )


RULES = (EncounterAttested(),)
