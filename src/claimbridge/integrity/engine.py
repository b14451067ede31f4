"""The scrub: every rule over a set of claims, grouped the ways the edits are defined.

Rules are small frozen objects with one ``check``. What a rule looks at
decides its scope, and the engine hands each rule the group it needs:

* ``claim``     one claim (code validity, dates, excluded providers, MUE per line)
* ``day``       one patient's services from one provider on one date, across
                claims (NCCI PTP pairs, MUE per date of service, duplicates)
* ``provider_day``  one provider's services on one date, across patients
                (more than 24 hours of timed services)
* ``provider``  one provider's services in the set, by period (E/M level mix)

A rule whose table is missing from the context is skipped and named in
the report, so a scrub without an NCCI table never reads as clean on NCCI.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol

from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.model import Finding, ScrubClaim, ScrubLine, Severity

__all__ = [
    "ProviderDay",
    "ProviderServices",
    "Rule",
    "ScrubReport",
    "ServiceDay",
    "scrub",
]

Scope = Literal["claim", "day", "provider_day", "provider"]
Entry = tuple[ScrubClaim, ScrubLine]


@dataclass(frozen=True, slots=True)
class ServiceDay:
    """One patient's lines from one provider (rendering, else billing NPI) on one date."""

    patient: str
    provider: str
    served: date
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class ProviderDay:
    """One provider's lines on one date, every patient."""

    provider: str
    served: date
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class ProviderServices:
    """One provider's lines in the set (every date), with its taxonomy where a claim gives one."""

    provider: str
    taxonomy: str
    entries: tuple[Entry, ...]


class Rule(Protocol):
    """``id`` is stable (findings and overrides refer to it); ``scope`` picks the group."""

    @property
    def id(self) -> str: ...

    @property
    def scope(self) -> Scope: ...

    def ready(self, context: ScrubContext) -> bool:
        """Whether the context holds what the rule needs (its table)."""
        ...

    def check(self, subject: Any, context: ScrubContext) -> Iterable[Finding]:
        """Findings for one group of ``scope``'s kind."""
        ...


@dataclass(slots=True)
class ScrubReport:
    claims: int = 0
    lines: int = 0
    findings: list[Finding] = field(default_factory=list)
    rules_run: list[str] = field(default_factory=list)
    rules_skipped: list[str] = field(default_factory=list)

    @property
    def blocked_claims(self) -> set[str]:
        return {
            f.claim for f in self.findings if f.severity is Severity.BLOCK and f.claim is not None
        }

    def counts(self) -> dict[str, int]:
        """Findings per rule id."""
        counted: dict[str, int] = defaultdict(int)
        for finding in self.findings:
            counted[finding.rule] += 1
        return dict(sorted(counted.items()))


def scrub(
    claims: Iterable[ScrubClaim],
    context: ScrubContext,
    rules: Sequence[Rule],
    *,
    progress: Callable[[int], None] | None = None,
) -> ScrubReport:
    """Run ``rules`` over ``claims``; findings in rule order, then claim order.

    ``progress`` is told the number of lines of each claim as it is read.
    """
    with _collector_paused():
        return _scrub(claims, context, rules, progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the scrub runs, as it was after.

    A scrub makes millions of small acyclic objects (groups, findings); the
    collector would walk every claim in memory over and over to free none
    of them (a fifth of a million-line scrub's time). Reference counting
    still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _scrub(
    claims: Iterable[ScrubClaim],
    context: ScrubContext,
    rules: Sequence[Rule],
    progress: Callable[[int], None] | None,
) -> ScrubReport:
    report = ScrubReport()
    ready = [rule for rule in rules if rule.ready(context)]
    report.rules_run = [rule.id for rule in ready]
    report.rules_skipped = [rule.id for rule in rules if not rule.ready(context)]
    by_scope: dict[Scope, list[Rule]] = defaultdict(list)
    for rule in ready:
        by_scope[rule.scope].append(rule)
    groups = _Groups()
    claim_rules = by_scope["claim"]
    for claim in claims:
        report.claims += 1
        report.lines += len(claim.lines)
        for rule in claim_rules:
            report.findings.extend(rule.check(claim, context))
        groups.add(claim)
        if progress is not None:
            progress(len(claim.lines))
    for scope, subjects in groups.subjects():
        scoped = by_scope[scope]
        if not scoped:
            continue
        wanted = _codes_of(scoped)
        for rule in scoped:
            for subject in subjects(wanted):
                report.findings.extend(rule.check(subject, context))
    return report


def _codes_of(rules: Sequence[Rule]) -> frozenset[str] | None:
    """The procedure codes ``rules`` look at, when each says (a ``codes`` attribute), else None.

    A provider's day or quarter holds every line; the 24-hour rule reads only
    timed codes and the upcoding test only E/M codes, so their groups are
    built of those lines alone.
    """
    wanted: set[str] = set()
    for rule in rules:
        codes = getattr(rule, "codes", None)
        if codes is None:
            return None
        wanted.update(codes)
    return frozenset(wanted)


class _Groups:
    """Lines grouped by service day as they come; provider days and providers from those.

    Each line is appended once (to its service day); the coarser groups are
    built from whole days afterwards, so the per-line cost stays one append.
    """

    def __init__(self) -> None:
        self._days: dict[tuple[str, str, date], list[Entry]] = defaultdict(list)
        self._taxonomies: dict[str, str] = {}

    def add(self, claim: ScrubClaim) -> None:
        provider, patient, days = claim.provider, claim.patient, self._days
        for line in claim.lines:
            days[(patient, provider, line.service_date)].append((claim, line))
        if claim.taxonomy:
            self._taxonomies.setdefault(provider, claim.taxonomy)

    def subjects(
        self,
    ) -> Iterator[tuple[Scope, Callable[[frozenset[str] | None], Iterator[Any]]]]:
        yield "day", self._service_days
        yield "provider_day", self._each_provider_day
        yield "provider", self._each_provider

    def _service_days(self, _wanted: frozenset[str] | None) -> Iterator[Any]:
        for (patient, provider, served), entries in self._days.items():
            yield ServiceDay(patient, provider, served, tuple(entries))

    def _lines(self, wanted: frozenset[str] | None) -> Iterator[tuple[str, date, list[Entry]]]:
        for (_, provider, served), entries in self._days.items():
            if wanted is None:
                yield provider, served, entries
            else:
                kept = [entry for entry in entries if entry[1].code in wanted]
                if kept:
                    yield provider, served, kept

    def _each_provider_day(self, wanted: frozenset[str] | None) -> Iterator[Any]:
        grouped: dict[tuple[str, date], list[Entry]] = defaultdict(list)
        for provider, served, entries in self._lines(wanted):
            grouped[(provider, served)].extend(entries)
        for (provider, served), entries in grouped.items():
            yield ProviderDay(provider, served, tuple(entries))

    def _each_provider(self, wanted: frozenset[str] | None) -> Iterator[Any]:
        grouped: dict[str, list[Entry]] = defaultdict(list)
        for provider, _, entries in self._lines(wanted):
            grouped[provider].extend(entries)
        for provider, entries in grouped.items():
            yield ProviderServices(provider, self._taxonomies.get(provider, ""), tuple(entries))
