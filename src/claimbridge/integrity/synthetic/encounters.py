"""Violations of the encounter behind a claim, and their decoys: who, when, whether, how long.

Who: a referring, billing or rendering NPI the LEIE excludes on the date
of service. When: before birth, after death, in the future, past the
filing limit. Whether: a visit the practice's encounter log does not
hold. How long: a provider's day of more than 24 hours of timed services.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import date, timedelta

from claimbridge.integrity.model import ScrubClaim
from claimbridge.integrity.synthetic.builder import Builder, Kind, Planned, Service, decoy
from claimbridge.integrity.synthetic.world import TIMELY_FILING_DAYS, Provider

TIMED: Service = ("97110", (), 4)  # therapeutic exercise, four 15-minute units: an hour

# --- excluded providers -------------------------------------------------------------

Listing = Callable[[random.Random, date], tuple[date, date | None]]
"""An exclusion's dates (excluded, reinstated) for a service on a date."""


def _long_ago(rng: random.Random, served: date) -> date:
    return served - timedelta(days=rng.randint(30, 3_000))


def _in_force(rng: random.Random, served: date) -> tuple[date, date | None]:
    return _long_ago(rng, served), None


def _reinstated_after(rng: random.Random, served: date) -> tuple[date, date | None]:
    return _long_ago(rng, served), served + timedelta(days=rng.randint(1, 400))


def _reinstated_before(rng: random.Random, served: date) -> tuple[date, date | None]:
    return served - timedelta(days=3_500), served - timedelta(days=rng.randint(1, 300))


def _reinstated_that_day(rng: random.Random, served: date) -> tuple[date, date | None]:
    return _long_ago(rng, served), served


def _excluded_later(rng: random.Random, served: date) -> tuple[date, date | None]:
    return served + timedelta(days=rng.randint(1, 300)), None


def _referring(kind: str, listing: Listing, *, flagged: bool = True) -> Kind:
    """A claim whose referring provider the LEIE lists with ``listing``'s dates."""

    def make(b: Builder) -> None:
        served = b.rng.choice(b.calendar.days)
        npi = b.exclusion(*listing(b.rng, served))
        claim = b.visit(b.services(1), served=served, referring_npi=npi)
        if flagged:
            b.flag("oig-leie", kind, claim, npi)

    return make if flagged else decoy(kind, make)


def _excluded_billing(b: Builder) -> None:
    served = b.rng.choice(b.calendar.days)
    npi = b.exclusion(*_in_force(b.rng, served), entity=True)
    claim = b.visit(b.services(1), served=served, billing_npi=npi)
    b.flag("oig-leie", "billing NPI excluded (an entity)", claim, npi)


def _excluded_rendering(b: Builder) -> None:
    served = b.rng.choice(b.calendar.days)
    npi = b.exclusion(*_in_force(b.rng, served))
    provider = Provider(npi, b.rng.choice(b.providers).billing)
    claim = b.visit(b.services(1), provider=provider, served=served, em=False)
    b.flag("oig-leie", "rendering NPI excluded", claim, npi)


# --- dates: one procedure, no E/M visit ---------------------------------------------


def _future(b: Builder) -> None:
    served = b.calendar.today + timedelta(days=b.rng.randint(1, 60))
    claim = b.visit(b.services(1), served=served, em=False, received=b.calendar.today)
    b.label("date-of-service", "dated in the future", claim, 1)


def _before_birth(b: Builder) -> None:
    served = b.rng.choice(b.calendar.days[:40])
    patient = b.patient(born=served + timedelta(days=b.rng.randint(1, 14)))
    claim = b.visit(b.services(1), served=served, patient=patient, em=False)
    b.label("date-of-service", "dated before birth", claim, 1)


def _after_death(b: Builder) -> None:
    served = b.rng.choice(b.calendar.days[20:])
    died = served - timedelta(days=b.rng.randint(1, 30))
    claim = b.visit(b.services(1), served=served, patient=b.person(), em=False, died=died)
    b.label("date-of-service", "dated after death", claim, 1)


def _late(b: Builder) -> None:
    since, today = b.calendar.since, b.calendar.today
    span = (today - timedelta(days=TIMELY_FILING_DAYS + 1) - since).days
    served = since + timedelta(days=b.rng.randint(0, span))
    claim = b.visit(b.services(1), served=served, em=False, received=today)
    b.label("timely-filing", "filed after the limit", claim, 1)


def _on_birthday(b: Builder) -> None:
    served = b.rng.choice(b.calendar.days)
    b.visit(b.services(1), served=served, patient=b.patient(born=served), em=False)


def _on_death_day(b: Builder) -> None:
    served = b.rng.choice(b.calendar.days)
    b.visit(b.services(1), served=served, patient=b.person(), em=False, died=served)


# --- encounters ---------------------------------------------------------------------


def _unattested(kind: str, elsewhere: Callable[[Builder, ScrubClaim], None] | None) -> Kind:
    """A claim the log does not cover; ``elsewhere`` attests a near miss instead."""

    def make(b: Builder) -> None:
        claim = b.visit(b.services(b.rng.choice((0, 1))), attest=False)
        if elsewhere is not None:
            elsewhere(b, claim)
        for line in claim.lines:
            b.label("encounter-not-attested", kind, claim, line.number)

    return make


def _attest_unused(b: Builder, visit: tuple[str, str, date]) -> None:
    """Attest a visit no claim has, so no other claim's outcome changes."""
    if visit not in b.slots:
        b.slots.add(visit)
        b.visits.add(visit)


def _other_provider(b: Builder, claim: ScrubClaim) -> None:
    other = next(p.npi for p in b.providers if p.npi != claim.provider)
    _attest_unused(b, (claim.patient, other, claim.lines[0].service_date))


def _other_day(b: Builder, claim: ScrubClaim) -> None:
    served = claim.lines[0].service_date - timedelta(days=1)
    _attest_unused(b, (claim.patient, claim.provider, served))


def _before_log(b: Builder) -> None:
    served = b.calendar.since - timedelta(days=b.rng.randint(1, 30))
    b.visit(b.services(1), served=served, em=False, attest=False)


# --- a provider's day ---------------------------------------------------------------


def _long_day(hours: int) -> Kind:
    """``hours`` one-hour sessions of a timed code, each for another patient, on one day."""

    def make(b: Builder) -> None:
        provider, served = b.rng.choice(b.providers), b.rng.choice(b.calendar.days)
        while (provider.npi, served) in b.long_days:
            provider, served = b.rng.choice(b.providers), b.rng.choice(b.calendar.days)
        b.long_days.add((provider.npi, served))
        for _ in range(hours):
            b.visit((TIMED,), provider=provider, served=served, em=False)
        if hours > 24:
            b.label("provider-day-hours", "over 24 hours of timed services", b.claims[-1], 1)

    return make


# --- the kinds of each family -------------------------------------------------------

INJECTED: Mapping[str, tuple[Planned, ...]] = {
    "excluded": (
        (_referring("referring NPI excluded", _in_force), 1),
        (_excluded_billing, 1),
        (_excluded_rendering, 1),
        (_referring("excluded, reinstated after the service", _reinstated_after), 1),
    ),
    "dates": ((_future, 1), (_before_birth, 1), (_after_death, 1), (_late, 1)),
    "encounter": (
        (_unattested("no encounter attested", None), 1),
        (_unattested("attested for another provider", _other_provider), 1),
        (_unattested("attested on another day", _other_day), 1),
    ),
}
DECOYS: Mapping[str, tuple[Planned, ...]] = {
    "excluded": (
        (_referring("excluded: reinstated before", _reinstated_before, flagged=False), 1),
        (_referring("excluded: reinstated that day", _reinstated_that_day, flagged=False), 1),
        (_referring("excluded: excluded after the service", _excluded_later, flagged=False), 1),
    ),
    "dates": (
        (decoy("dates: served on the day of birth", _on_birthday), 1),
        (decoy("dates: served on the day of death", _on_death_day), 1),
    ),
    "encounter": ((decoy("encounter: dated before the log's first day", _before_log), 1),),
    "hours": ((decoy("hours: exactly 24 hours", _long_day(24)), 24),),
}
OVER_24_HOURS: Planned = (_long_day(25), 25)
"""A provider's day over 24 hours: planned per provider, not per claim."""
