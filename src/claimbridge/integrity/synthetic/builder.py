"""The claims of a set as they are made, and what they leave behind.

A ``Builder`` holds the claims so far, their labels, and the records a
scrub needs beside them: the patients and their birth dates, the
practice's encounter log, earlier batches, LEIE rows for the NPIs the
set excludes. Every claim has a patient, provider and date no other claim
has, unless a kind of violation asks for a second (``again``). A ``Kind``
adds claims of one sort to a builder; the plan runs each kind it holds.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from claimbridge.formats.cms import Exclusion, synthetic_exclusions
from claimbridge.integrity.context import DuplicateKey, duplicate_key
from claimbridge.integrity.model import ScrubClaim, ScrubLine
from claimbridge.integrity.synthetic.labels import Label
from claimbridge.integrity.synthetic.world import (
    BILLABLE,
    EM_CODES,
    Calendar,
    Provider,
    Tables,
    fresh_npi,
)

_UNITS = tuple(Decimal(n) for n in range(64))
_RECEIVED = tuple(timedelta(days=n) for n in range(31))

Service = tuple[str, tuple[str, ...], int]
"""A line to bill: code, modifiers, units."""


class Builder:
    """The claims so far and what they need: attested visits, history, exclusions, labels."""

    def __init__(self, rng: random.Random, tables: Tables, calendar: Calendar) -> None:
        self.rng, self.tables, self.calendar = rng, tables, calendar
        self.taken: set[str] = set()
        self.providers: list[Provider] = []
        self.claims: list[ScrubClaim] = []
        self.labels: list[Label] = []
        self.decoys: Counter[str] = Counter()
        self.slots: set[tuple[str, str, date]] = set()
        self.visits: set[tuple[str, str, date]] = set()
        self.history: dict[DuplicateKey, str] = {}
        self.leie: list[Exclusion] = []
        self.em: Counter[str] = Counter()
        self.born: dict[str, date] = {}
        self.pool = 0
        self.long_days: set[tuple[str, date]] = set()
        self.diagnoses = [tuple(rng.sample(BILLABLE, 1 + n % 3)) for n in range(600)]

    def patient(self, born: date | None = None) -> str:
        """A new patient of the pool; with ``born``, one kept out of it for a claim of its own."""
        if born is None:
            self.pool += 1
            key = f"P{self.pool:07d}"
        else:
            key = f"N{len(self.born) + 1:07d}"
        self.born[key] = born or self._long_ago()
        return key

    def person(self) -> str:
        """A patient out of the pool, born long ago, whose one claim may record a death."""
        return self.patient(self._long_ago())

    def _long_ago(self) -> date:
        """A birth date two to 85 years before the quarter."""
        return self.calendar.start - timedelta(days=self.rng.randint(800, 31_000))

    def slot(self, provider: Provider, served: date | None = None) -> tuple[str, date]:
        """A patient and date no other claim of ``provider`` has: the claim's day is its own."""
        rng = self.rng
        while True:
            number = rng.randint(1, self.pool + self.pool // 4 + 1)
            patient = f"P{number:07d}" if number <= self.pool else self.patient()
            day = served or rng.choice(self.calendar.days)
            if (patient, provider.npi, day) not in self.slots:
                self.slots.add((patient, provider.npi, day))
                return patient, day

    def services(self, count: int) -> list[Service]:
        """``count`` procedures no PTP edit joins: one column 1 code at most, then free codes."""
        tables, rng = self.tables, self.rng
        codes: list[str] = []
        if count and rng.random() < 0.5:
            codes.append(rng.choice(tables.column1))
        while len(codes) < count:
            code = rng.choice(tables.free).code
            if code not in codes:
                codes.append(code)
        return [(code, (), tables.units(code, rng)) for code in codes]

    def visit(
        self,
        services: Sequence[Service],
        *,
        provider: Provider | None = None,
        served: date | None = None,
        patient: str | None = None,
        em: bool = True,
        attest: bool = True,
        diagnoses: tuple[str, ...] | None = None,
        pointers: dict[int, tuple[int, ...]] | None = None,
        **fields: Any,
    ) -> ScrubClaim:
        """A claim on a day of its own: a provider, patient and date no other claim has.

        ``fields`` replace the claim's own (``referring_npi``, ``died``, ``received``).
        """
        provider = provider or self.rng.choice(self.providers)
        if patient is None:
            patient, served = self.slot(provider, served)
        served = served or self.calendar.start
        self.slots.add((patient, provider.npi, served))
        return self.claim(
            provider,
            patient,
            served,
            services,
            em=em,
            attest=attest,
            diagnoses=diagnoses,
            pointers=pointers,
            fields=fields,
        )

    def again(self, claim: ScrubClaim, services: Sequence[Service]) -> ScrubClaim:
        """A second claim for the same patient, provider and date (no E/M visit)."""
        provider = next(p for p in self.providers if p.npi == claim.rendering_npi)
        served = claim.lines[0].service_date
        return self.claim(provider, claim.patient, served, services, em=False)

    def claim(
        self,
        provider: Provider,
        patient: str,
        served: date,
        services: Sequence[Service],
        *,
        em: bool = True,
        attest: bool = True,
        diagnoses: tuple[str, ...] | None = None,
        pointers: dict[int, tuple[int, ...]] | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> ScrubClaim:
        rng = self.rng
        diagnoses = diagnoses or rng.choice(self.diagnoses)
        billed = list(services)
        if em:
            billed.insert(0, (rng.choices(EM_CODES, cum_weights=provider.weights)[0], (), 1))
            self.em[provider.npi] += self.calendar.start <= served <= self.calendar.end
        pointed = pointers or {}
        lines = tuple(
            ScrubLine(
                number,
                code,
                modifiers,
                _UNITS[units],
                served,
                pointed.get(number, (1 + (number - 1) % len(diagnoses),)),
            )
            for number, (code, modifiers, units) in enumerate(billed, start=1)
        )
        if attest:
            self.visits.add((patient, provider.npi, served))
        made = ScrubClaim(
            ref=f"C{len(self.claims) + 1:07d}",
            patient=patient,
            billing_npi=provider.billing,
            rendering_npi=provider.npi,
            taxonomy=provider.taxonomy,
            lines=lines,
            diagnoses=diagnoses,
            born=self.born.get(patient),
            received=min(self.calendar.today, served + _RECEIVED[rng.randint(1, 30)]),
        )
        made = replace(made, **fields) if fields else made
        self.claims.append(made)
        return made

    def label(
        self,
        rule: str,
        kind: str,
        claim: ScrubClaim | None,
        line: int | None = None,
        provider: str | None = None,
    ) -> None:
        self.labels.append(Label(rule, kind, claim.ref if claim else None, line, provider))

    def flag(self, rule: str, kind: str, claim: ScrubClaim | None, provider: str) -> None:
        """A label naming the provider the finding is about (an NPI, not a line)."""
        self.label(rule, kind, claim, None, provider)

    def exclusion(self, excluded: date, reinstated: date | None, *, entity: bool = False) -> str:
        """A new LEIE row, for a new NPI; the NPI."""
        row = next(synthetic_exclusions(1, seed=self.rng.randrange(1 << 30)))
        npi = fresh_npi(self.rng, self.taken, "2" if entity else "1")
        self.leie.append(
            replace(row, npi=npi, exclusion_date=excluded, reinstatement_date=reinstated)
        )
        return npi

    def billed_before(self, claim: ScrubClaim, line: ScrubLine) -> None:
        """``line`` of ``claim`` as it stands in an earlier batch."""
        self._in_history(claim.patient, claim.provider, line.service_date, line.code)

    def earlier_batches(self) -> None:
        """Services of the summer before, as earlier batches: keys no line of the set shares."""
        start, rng = date(self.calendar.start.year - 1, 7, 1), self.rng
        for _ in range(len(self.claims) // 4):
            npi = rng.choice(self.providers).npi
            patient = f"P{rng.randint(1, self.pool):07d}"
            served = start + timedelta(days=rng.randrange(90))
            self._in_history(patient, npi, served, rng.choice(self.tables.free).code)

    def _in_history(self, patient: str, npi: str, served: date, code: str) -> None:
        key = duplicate_key(patient, npi, served, code, ())
        self.history[key] = f"H{len(self.history) + 1:07d}"


Kind = Callable[[Builder], None]
"""A sort of claim: a clean one, a violation and its labels, or a decoy."""
Planned = tuple[Kind, int]
"""A kind and the number of claims it makes."""


def decoy(name: str, make: Kind) -> Kind:
    """``make``, counted as the decoy ``name``: claims that look wrong and draw no finding."""

    def counted(b: Builder) -> None:
        make(b)
        b.decoys[name] += 1

    return counted
