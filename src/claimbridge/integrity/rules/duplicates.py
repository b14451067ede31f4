"""Duplicates: the same service billed twice, within the set scrubbed or against earlier batches.

Two lines are the same service when they share ``context.duplicate_key``:
the patient, the provider (rendering, else billing NPI), the date of
service, the procedure code and the modifiers (in any order). A payer
denies the second as a duplicate at best; billed on purpose, it is
billing for a service not provided.

* The first line of a key in the set passes; each later one, in the same
  claim or another, blocks and names the first (claim and line).
* A line whose key was billed in an earlier batch (``context.history``)
  blocks and names that claim, unless that claim is this one (a stored
  claim scrubbed again is not its own duplicate).
* A repeat the coder marked as one is legitimate: modifier 76 (repeat
  procedure by the same physician), 77 (by another physician) or 91
  (repeat clinical laboratory test) keeps a line out of the check.
* A replacement (frequency ``7``) or a void (``8``) refers to an earlier
  claim on purpose and is the duplicate of nothing; its lines are not
  checked and do not count as a first line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from claimbridge.integrity.context import DuplicateKey, ScrubContext, duplicate_key
from claimbridge.integrity.engine import Scope, ServiceDay
from claimbridge.integrity.model import Finding, ScrubClaim, ScrubLine, Severity

__all__ = ["REPEAT_MODIFIERS", "RULES", "DuplicateServices"]

REPEAT_MODIFIERS = frozenset({"76", "77", "91"})
"""Modifiers that say a service was repeated on purpose the same day."""
_REFERS_TO_EARLIER = frozenset({"7", "8"})


def _checked(claim: ScrubClaim, line: ScrubLine) -> bool:
    if claim.frequency in _REFERS_TO_EARLIER:
        return False
    return not line.modifiers or REPEAT_MODIFIERS.isdisjoint(line.modifiers)


def _service(line: ScrubLine) -> str:
    modifiers = "-".join(sorted(line.modifiers))
    return f"{line.code}-{modifiers}" if modifiers else line.code


@dataclass(frozen=True, slots=True)
class DuplicateServices:
    """``duplicate``: one patient's service from one provider on one date, billed more than once."""

    id: str = "duplicate"
    scope: ClassVar[Scope] = "day"

    def ready(self, context: ScrubContext) -> bool:
        return True

    def check(self, subject: ServiceDay, context: ScrubContext) -> Iterator[Finding]:
        first: dict[DuplicateKey, tuple[str, int]] = {}
        for claim, line in subject.entries:
            if not _checked(claim, line):
                continue
            key = duplicate_key(
                subject.patient, subject.provider, subject.served, line.code, line.modifiers
            )
            earlier = context.history.get(key)
            if earlier is not None and earlier != claim.ref:
                yield self._finding(
                    claim, line, subject, f"claim {earlier}, billed in an earlier batch", earlier
                )
            elif key in first:
                ref, number = first[key]
                yield self._finding(claim, line, subject, f"line {number} of claim {ref}", ref)
            else:
                first[key] = (claim.ref, line.number)

    def _finding(
        self, claim: ScrubClaim, line: ScrubLine, day: ServiceDay, where: str, earlier: str
    ) -> Finding:
        service = _service(line)
        return Finding(
            rule=self.id,
            severity=Severity.BLOCK,
            message=(
                f"Line {line.number} bills {service} for the same patient, NPI {day.provider} "
                f"and date of service {day.served.isoformat()} as {where}: a duplicate."
            ),
            remedy=(
                "Remove the line if the service was provided once. If it was repeated, add "
                "modifier 76 or 77 (a repeated procedure) or 91 (a repeated laboratory test); "
                "if this claim corrects the earlier one, send it as a replacement (frequency 7)."
            ),
            claim=claim.ref,
            line=line.number,
            codes=(line.code,),
            provider=day.provider,
            facts=(("duplicate_of", earlier), ("date", day.served.isoformat())),
        )


RULES = (DuplicateServices(),)
