"""The world a labelled set is made in: its quarter, its reference tables, its providers.

The tables of a seed are built once and shared by every set of that seed
(tests and the benchmark make several). Providers are drawn with their
specialty, practice, quarterly E/M volume and E/M level mix: their peers'
mix, or for an upcoding provider that mix shifted up.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from claimbridge.formats.cms import PtpEdit, synthetic_mue_edits, synthetic_ptp_edits
from claimbridge.formats.x12.synthetic_data import ICD10CM
from claimbridge.formats.x12.synthetic_data import npi as random_npi
from claimbridge.integrity.peers import FAMILY_CODES, default_peers
from claimbridge.integrity.tables.icd10cm import ICD10CMRelease
from claimbridge.integrity.tables.ncci import MueIndex, PtpIndex

FREE_FROM = 12_000
"""Synthetic code numbers from here on are in no edit of a PTP table of ``MAX_PTP_PAIRS``."""
MAX_PTP_PAIRS = (FREE_FROM - 200) * 200
TIMELY_FILING_DAYS = 90
BILLABLE = ICD10CM
TAXONOMIES = ("207Q00000X", "207R00000X", "207RC0000X")
EM_CODES = FAMILY_CODES["established"] + FAMILY_CODES["new"]
_NEW_VISITS = 0.15


def shifted_shares(shares: Sequence[float], shift: float) -> tuple[float, ...]:
    """A level mix after each visit moved up one level with probability ``shift``."""
    moved = [share * (1 - shift) for share in shares]
    for level in range(1, len(shares)):
        moved[level] += shares[level - 1] * shift
    moved[-1] += shares[-1] * shift
    return tuple(moved)


@dataclass(frozen=True, slots=True)
class Calendar:
    start: date
    end: date
    today: date
    since: date
    days: tuple[date, ...]  # the quarter's weekdays

    @classmethod
    def of_release(cls) -> Calendar:
        year = ICD10CMRelease().fiscal_year
        start, end = date(year, 1, 1), date(year, 3, 31)
        span = (start + timedelta(days=n) for n in range((end - start).days + 1))
        days = tuple(day for day in span if day.weekday() < 5)
        return cls(start, end, date(year, 4, 15), date(year - 1, 11, 1), days)


@dataclass(frozen=True, slots=True)
class Provider:
    npi: str
    billing: str
    taxonomy: str = ""
    shifted: bool = False
    volume: int = 0
    weights: tuple[float, ...] = ()  # cumulative, over EM_CODES


@functools.lru_cache(maxsize=2)
def tables_of(seed: int, ptp_pairs: int, mue_codes: int, served: date) -> Tables:
    """The tables of a seed, built once: sets of one seed (tests, a benchmark) share them."""
    return Tables(seed, ptp_pairs, mue_codes, served)


class Tables:
    """The PTP and MUE tables, and the pairs and codes each kind of claim draws from.

    Read only once built: ``tables_of`` hands the same one to every set of its seed.
    """

    def __init__(self, seed: int, ptp_pairs: int, mue_codes: int, served: date) -> None:
        self.ptp_edits = tuple(synthetic_ptp_edits(ptp_pairs, seed=seed))
        self.mue_edits = tuple(synthetic_mue_edits(mue_codes, seed=seed))
        self.ptp = PtpIndex.from_edits(self.ptp_edits, label="synthetic PTP")
        self.mue = MueIndex.from_edits(self.mue_edits, label="synthetic MUE")
        alone = [edit for edit in self.ptp_edits if self._alone(edit)]
        self.pairs: dict[int | str, list[PtpEdit]] = {
            n: [e for e in alone if e.modifier_indicator == n and not e.deleted] for n in (0, 1)
        }
        self.pairs[9] = [e for e in alone if e.modifier_indicator == 9]
        self.pairs["deleted"] = [
            e for e in alone if e.modifier_indicator != 9 and e.deleted and e.deleted <= served
        ]
        self.column1 = list(dict.fromkeys(edit.column1 for edit in self.ptp_edits))
        self.free = self.mue_edits[FREE_FROM:]
        self.by_mai = {
            n: [e for e in self.free if e.adjudication_indicator == n] for n in (1, 2, 3)
        }
        # Codes billed twice on a day without passing their MUE.
        self.twice = [e for e in self.free if e.adjudication_indicator == 1 or e.max_units >= 2]

    def _alone(self, edit: PtpEdit) -> bool:
        """One row for the pair and none the other way round: the pair means one thing."""
        forth, back = (
            self.ptp.edits(edit.column1, edit.column2),
            self.ptp.edits(edit.column2, edit.column1),
        )
        return len(forth) == 1 and not back

    def units(self, code: str, rng: random.Random) -> int:
        edit = self.mue.get(code)
        return rng.randint(1, min(3, edit.max_units)) if edit else 1


def population(
    rng: random.Random, count: int, shifted: int, shift: float, taken: set[str]
) -> list[Provider]:
    """``count`` providers in practices of about ten; the first ``shifted`` drawn upcode."""
    peers = default_peers()
    practices = [fresh_npi(rng, taken, "2") for _ in range(count // 10 + 1)]
    providers = []
    for number in range(count):
        taxonomy = TAXONOMIES[number % len(TAXONOMIES)]
        established = peers.mix_for(taxonomy, "established").shares
        new = peers.mix_for(taxonomy, "new").shares
        if number < shifted:
            established, new = shifted_shares(established, shift), shifted_shares(new, shift)
        weights = [share * (1 - _NEW_VISITS) for share in established]
        weights += [share * _NEW_VISITS for share in new]
        npi, billing = fresh_npi(rng, taken), rng.choice(practices)
        volume = rng.randint(300, 1_500)
        providers.append(
            Provider(npi, billing, taxonomy, number < shifted, volume, tuple(accumulate(weights)))
        )
    rng.shuffle(providers)
    return providers


def fresh_npi(rng: random.Random, taken: set[str], kind: str = "1") -> str:
    while (npi := random_npi(rng, kind=kind)) in taken:
        pass
    taken.add(npi)
    return npi
