"""Making a labelled set: the plan of kinds at ``Rates``, run in a shuffled order, then finished.

The plan is a list of kinds, each family's cycled until its share of
claims (of providers, for hours) is reached, the decoys' likewise, clean
claims for the rest. Finishing adds what only the whole set decides: the
earlier batches, each provider's E/M history for the quarter, the
upcoding labels, and the ``ScrubContext`` holding every table.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain

from claimbridge.formats.cms import Exclusion, synthetic_exclusions
from claimbridge.integrity.context import EncounterLog, ScrubContext
from claimbridge.integrity.peers import default_peers
from claimbridge.integrity.rules.upcoding import period_of
from claimbridge.integrity.synthetic import coding, encounters
from claimbridge.integrity.synthetic.builder import Builder, Planned
from claimbridge.integrity.synthetic.labels import FAMILIES, LabelledSet
from claimbridge.integrity.synthetic.world import (
    EM_CODES,
    FREE_FROM,
    MAX_PTP_PAIRS,
    TIMELY_FILING_DAYS,
    Calendar,
    population,
    tables_of,
)
from claimbridge.integrity.tables.icd10cm import ICD10CMRelease
from claimbridge.integrity.tables.leie import ExclusionIndex


@dataclass(frozen=True, slots=True)
class Rates:
    """What to inject: a share of claims per family; of providers for hours and upcoding."""

    ncci: float = 0.01
    mue: float = 0.01
    duplicate: float = 0.01
    excluded: float = 0.01
    dates: float = 0.01
    codes: float = 0.01
    encounter: float = 0.01
    hours: float = 0.01
    upcoding: float = 0.2
    upcoding_shift: float = 0.4
    decoys: float = 0.01


def _by_family(*tables: Mapping[str, tuple[Planned, ...]]) -> dict[str, tuple[Planned, ...]]:
    """The tables as one, in the order of ``FAMILIES``: the plan's order decides every claim."""
    merged = {family: kinds for table in tables for family, kinds in table.items()}
    return {family: merged[family] for family in FAMILIES if family in merged}


_INJECTED = _by_family(coding.INJECTED, encounters.INJECTED)
_DECOYS = tuple(chain.from_iterable(_by_family(coding.DECOYS, encounters.DECOYS).values()))


def _clean(b: Builder) -> None:
    b.visit(b.services(b.rng.choice((0, 1, 1, 2))))


def _count(rate: float, of: int, kinds: int) -> int:
    return max(kinds, round(rate * of)) if rate > 0 else 0


def _plan(claims: int, providers: int, rates: Rates) -> list[Planned]:
    plan: list[Planned] = []
    for family, kinds in _INJECTED.items():
        count = _count(getattr(rates, family), claims, len(kinds))
        plan.extend(kinds[n % len(kinds)] for n in range(count))
    plan.extend([encounters.OVER_24_HOURS] * _count(rates.hours, providers, 1))
    count = _count(rates.decoys, claims, len(_DECOYS))
    plan.extend(_DECOYS[n % len(_DECOYS)] for n in range(count))
    clean = claims - sum(size for _, size in plan)
    if clean < 0:
        raise ValueError(f"{claims} claims are too few for these rates: {claims - clean} needed")
    return plan + [(_clean, 1)] * clean


def labelled_claims(
    seed: int,
    *,
    claims: int,
    providers: int,
    rates: Rates | None = None,
    ptp_pairs: int = 20_000,
    mue_codes: int = 15_000,
    leie_rows: int = 2_000,
) -> LabelledSet:
    """A labelled set of ``claims`` claims from ``providers`` providers; same seed, same set."""
    rates = rates or Rates()
    if not 10_000 <= ptp_pairs <= MAX_PTP_PAIRS or mue_codes < FREE_FROM + 1_000 or providers < 2:
        raise ValueError(
            f"ptp_pairs is 10,000 to {MAX_PTP_PAIRS:,}, mue_codes {FREE_FROM + 1_000:,} "
            "or more, providers 2 or more"
        )
    plan = _plan(claims, providers, rates)
    rng = random.Random(seed)  # noqa: S311 - synthetic test data, not a secret
    calendar = Calendar.of_release()
    builder = Builder(rng, tables_of(seed, ptp_pairs, mue_codes, calendar.start), calendar)
    bulk = list(synthetic_exclusions(leie_rows, seed=seed))
    builder.taken.update(row.npi for row in bulk if row.npi)
    shifted = round(rates.upcoding * providers)
    builder.providers = population(rng, providers, shifted, rates.upcoding_shift, builder.taken)
    for _ in range(max(1, claims // 20)):
        builder.patient()
    rng.shuffle(plan)
    for kind, _ in plan:
        kind(builder)
    return _finish(seed, builder, bulk)


def _finish(seed: int, b: Builder, bulk: list[Exclusion]) -> LabelledSet:
    b.earlier_batches()
    period = period_of(b.calendar.start)
    em_history: dict[tuple[str, str], dict[str, int]] = {}
    for provider in b.providers:
        earlier = provider.volume - b.em[provider.npi]
        if earlier > 0:
            drawn = b.rng.choices(EM_CODES, cum_weights=provider.weights, k=earlier)
            em_history[(provider.npi, period)] = dict(Counter(drawn))
        if provider.shifted:
            b.flag("em-upcoding", "E/M levels shifted up", None, provider.npi)
    exclusions = tuple(bulk + b.leie)
    context = ScrubContext(
        today=b.calendar.today,
        ptp=b.tables.ptp,
        mue=b.tables.mue,
        exclusions=ExclusionIndex.from_exclusions(exclusions, label="synthetic LEIE"),
        diagnoses=ICD10CMRelease(),
        encounters=EncounterLog(since=b.calendar.since, visits=frozenset(b.visits)),
        history=b.history,
        em_history=em_history,
        timely_filing_days=TIMELY_FILING_DAYS,
        peers=default_peers(),
    )
    return LabelledSet(
        seed=seed,
        claims=tuple(b.claims),
        labels=tuple(b.labels),
        context=context,
        ptp_edits=b.tables.ptp_edits,
        mue_edits=b.tables.mue_edits,
        exclusions=exclusions,
        shifted=frozenset(p.npi for p in b.providers if p.shifted),
        honest=frozenset(p.npi for p in b.providers if not p.shifted),
        decoys=b.decoys,
    )
