"""Excluded providers: the claim's NPIs, and the rendering provider's name, against the OIG LEIE.

Medicare and Medicaid pay nothing for items or services furnished, ordered
or prescribed by a person the HHS Office of Inspector General has excluded
(Social Security Act 1128 and 1156; 42 CFR 1001.1901), and a practice that
bills for them owes the money back with civil penalties on top. The rule
looks at each provider the claim names (billing, rendering, referring):

* An NPI listed in the LEIE whose exclusion is in force on a line's date of
  service blocks the claim. In force: ``exclusion date <= date`` and either
  no reinstatement or ``date < reinstatement date`` (the reinstatement day
  itself is payable again, the exclusion day is not).
* The same, for an exclusion with an OIG waiver (WAIVERDATE, WVRSTATE),
  warns instead: a waiver lets the party furnish services under one state's
  program, which a person must check against this claim.
* The rendering provider's name matching an individual OIG lists without an
  NPI warns only: names are not unique, and the OIG's online search confirms
  an identity by birth date or SSN, which the list does not publish.

Messages name the role, the NPI, the exclusion type (``1128(a)(1)``) and
the exclusion's dates; never the listed person's address or birth date.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from claimbridge.formats.cms import Exclusion
from claimbridge.integrity.context import ExclusionTable, ScrubContext
from claimbridge.integrity.engine import Scope
from claimbridge.integrity.model import Finding, ScrubClaim, ScrubLine, Severity

__all__ = ["RULES", "ExcludedProviders", "excluded_on", "exclusion_authority"]

OIG_SEARCH = "https://exclusions.oig.hhs.gov"
_STATUTE = re.compile(r"([0-9]{4})([a-z])([0-9]+)")
_NON_STATUTORY = {"BRCH CIA": "BRCH CIA (breach of a Corporate Integrity Agreement)"}


def excluded_on(exclusion: Exclusion, served: date) -> bool:
    """Whether the exclusion is in force on ``served``: its first day up to reinstatement."""
    if served < exclusion.exclusion_date:
        return False
    return exclusion.reinstatement_date is None or served < exclusion.reinstatement_date


def exclusion_authority(exclusion: Exclusion) -> str:
    """``1128a1`` as the statute is cited, ``1128(a)(1)``; other values as OIG writes them."""
    code = exclusion.exclusion_type
    match = _STATUTE.fullmatch(code)
    if match is not None:
        section, subsection, paragraph = match.groups()
        return f"{section}({subsection})({paragraph})"
    return _NON_STATUTORY.get(code, code)


def _dates(exclusion: Exclusion) -> str:
    text = f"excluded {exclusion.exclusion_date.isoformat()}"
    if exclusion.reinstatement_date is not None:
        return f"{text}, reinstated {exclusion.reinstatement_date.isoformat()}"
    return f"{text}, not reinstated"


def _listing(exclusion: Exclusion) -> str:
    return f"{exclusion_authority(exclusion)}, {_dates(exclusion)}"


def _waiver(exclusion: Exclusion) -> str | None:
    """The waiver OIG lists for the exclusion, in words; None when there is none."""
    if exclusion.waiver_date is None and exclusion.waiver_state is None:
        return None
    parts = ["an OIG waiver"]
    if exclusion.waiver_date is not None:
        parts.append(f"dated {exclusion.waiver_date.isoformat()}")
    if exclusion.waiver_state is not None:
        parts.append(f"for {exclusion.waiver_state}")
    return " ".join(parts)


def _waived_on(exclusion: Exclusion, served: date) -> bool:
    """A waiver covers dates from its own date on (all dates when OIG gives none)."""
    if _waiver(exclusion) is None:
        return False
    return exclusion.waiver_date is None or exclusion.waiver_date <= served


def _lines_text(lines: Sequence[ScrubLine]) -> str:
    numbers = ", ".join(str(line.number) for line in lines)
    served = sorted({line.service_date.isoformat() for line in lines})
    noun = "line" if len(lines) == 1 else "lines"
    return f"{noun} {numbers} (dated {', '.join(served)})"


def _roles_by_npi(claim: ScrubClaim) -> dict[str, list[str]]:
    """The roles each NPI holds on the claim: a solo practitioner bills and renders."""
    roles: dict[str, list[str]] = {}
    for role, npi in claim.npis():
        roles.setdefault(npi, []).append(role)
    return roles


@dataclass(frozen=True, slots=True)
class ExcludedProviders:
    """``oig-leie``: excluded billing, rendering and referring providers on a claim."""

    id: str = "oig-leie"
    scope: ClassVar[Scope] = "claim"

    def ready(self, context: ScrubContext) -> bool:
        return context.exclusions is not None

    def check(self, subject: ScrubClaim, context: ScrubContext) -> Iterator[Finding]:
        table = context.exclusions
        if table is None:
            return
        listed = [npi for _, npi in subject.npis() if table.by_npi(npi)]
        if listed:  # rare: most claims name no listed NPI and stop here
            for npi, roles in _roles_by_npi(subject).items():
                for exclusion in table.by_npi(npi):
                    yield from self._npi_findings(subject, npi, roles, exclusion, table)
        if subject.rendering_name is not None:
            yield from self._name_findings(subject, table)

    def _npi_findings(
        self,
        claim: ScrubClaim,
        npi: str,
        roles: list[str],
        exclusion: Exclusion,
        table: ExclusionTable,
    ) -> Iterator[Finding]:
        barred: list[ScrubLine] = []
        waived: list[ScrubLine] = []
        for line in claim.lines:
            if excluded_on(exclusion, line.service_date):
                (waived if _waived_on(exclusion, line.service_date) else barred).append(line)
        if barred:
            yield self._excluded(
                claim, npi, roles=roles, exclusion=exclusion, lines=barred, table=table
            )
        if waived:
            yield self._waived(
                claim, npi, roles=roles, exclusion=exclusion, lines=waived, table=table
            )

    def _excluded(
        self,
        claim: ScrubClaim,
        npi: str,
        *,
        roles: list[str],
        exclusion: Exclusion,
        lines: list[ScrubLine],
        table: ExclusionTable,
    ) -> Finding:
        who = f"{' and '.join(roles).capitalize()} NPI {npi}"
        return Finding(
            rule=self.id,
            severity=Severity.BLOCK,
            message=(
                f"{who} is on the OIG exclusion list ({_listing(exclusion)}; {table.label}) "
                f"on the date of service of {_lines_text(lines)}. Medicare pays nothing for "
                "items or services furnished, ordered or prescribed by an excluded person."
            ),
            remedy=(
                "Remove these services from the claim, or bill them under a provider who is "
                "not excluded. If the listing is not this provider, confirm that with the "
                f"OIG's online search ({OIG_SEARCH}) and override with what it showed."
            ),
            claim=claim.ref,
            provider=npi,
            facts=_facts(roles, npi, exclusion, lines, table),
        )

    def _waived(
        self,
        claim: ScrubClaim,
        npi: str,
        *,
        roles: list[str],
        exclusion: Exclusion,
        lines: list[ScrubLine],
        table: ExclusionTable,
    ) -> Finding:
        who = f"{' and '.join(roles).capitalize()} NPI {npi}"
        waiver = _waiver(exclusion) or "an OIG waiver"
        return Finding(
            rule=self.id,
            severity=Severity.WARN,
            message=(
                f"{who} is on the OIG exclusion list ({_listing(exclusion)}; {table.label}) "
                f"with {waiver}, on the date of service of {_lines_text(lines)}."
            ),
            remedy=(
                f"Confirm that {waiver} covers this service and this payer (a waiver applies "
                "to one state's program); if it does not, remove the services from the claim."
            ),
            claim=claim.ref,
            provider=npi,
            facts=(
                *_facts(roles, npi, exclusion, lines, table),
                ("waiver", waiver),
            ),
        )

    def _name_findings(self, claim: ScrubClaim, table: ExclusionTable) -> Iterator[Finding]:
        name = claim.rendering_name
        if name is None:
            return
        matches = [
            (exclusion, lines)
            for exclusion in table.by_name(name.family, name.given)
            if (lines := [ln for ln in claim.lines if excluded_on(exclusion, ln.service_date)])
        ]
        if not matches:
            return
        listings = "; ".join(_listing(exclusion) for exclusion, _ in matches)
        lines = sorted({line for _, hit in matches for line in hit}, key=lambda ln: ln.number)
        count = "an individual" if len(matches) == 1 else f"{len(matches)} individuals"
        yield Finding(
            rule=self.id,
            severity=Severity.WARN,
            message=(
                f"The rendering provider's name matches {count} on the OIG exclusion list "
                f"listed without an NPI ({listings}; {table.label}), excluded on the date of "
                f"service of {_lines_text(lines)}. This is a possible match only: names are "
                "not unique."
            ),
            remedy=(
                f"Verify the rendering provider with the OIG's online search ({OIG_SEARCH}), "
                "which confirms an identity by birth date or SSN; if it is this provider, "
                "remove their services from the claim, otherwise override with what it showed."
            ),
            claim=claim.ref,
            provider=claim.rendering_npi,
            facts=(
                ("match", "name"),
                ("listings", listings),
                ("lines", ", ".join(str(line.number) for line in lines)),
                ("list", table.label),
            ),
        )


def _facts(
    roles: list[str], npi: str, exclusion: Exclusion, lines: list[ScrubLine], table: ExclusionTable
) -> tuple[tuple[str, str], ...]:
    reinstated = exclusion.reinstatement_date
    return (
        ("roles", ", ".join(roles)),
        ("npi", npi),
        ("exclusion_type", exclusion_authority(exclusion)),
        ("excluded", exclusion.exclusion_date.isoformat()),
        ("reinstated", reinstated.isoformat() if reinstated else ""),
        ("lines", ", ".join(str(line.number) for line in lines)),
        ("list", table.label),
    )


RULES = (ExcludedProviders(),)
