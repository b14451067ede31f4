"""E/M upcoding: a rendering provider's level mix against its specialty's peers, for review.

For each provider, calendar quarter of the date of service (``2026Q3``) and
family (established patients 99211-99215, new patients 99202-99205, tested
apart because their mixes differ), the rule counts the provider's E/M
visits in the scrub plus those billed in earlier batches
(``context.em_history[(npi, period)]``), and compares them with the peer
mix of the provider's specialty (``integrity/peers.py``, by taxonomy code;
``all`` where the specialty has none):

* a chi-square goodness-of-fit test of the level counts, sparse levels
  merged with their neighbours until each bin expects 5 visits, its
  p-value and Cohen's w;
* the share of the two highest levels (99214-99215, 99204-99205) against
  the peers', as a difference in points and as Cohen's h.

It flags only an upward shift that is both unlikely by chance and large
enough to matter: p < ``ALPHA`` (0.001) and h >= ``MIN_H`` (0.2, Cohen's
"small"). Why these numbers:

* ``ALPHA``: every provider is tested once per quarter and family, so a
  provider billing both families all year takes 8 tests; with 0.001 each,
  the chance an honest provider whose patients match the peers is flagged
  in a year is below 8 x 0.001 = 0.8 % (Bonferroni), inside the issue's
  1 % bound without a correction that would depend on how many providers
  a practice happens to have.
* ``MIN_H``: at thousands of visits a chi-square test finds any
  difference, including the legitimate ones (a panel that is older or
  sicker than the specialty's). Requiring h >= 0.2 keeps findings to
  shifts of about 10 points or more in the top-two share.
* ``MIN_VISITS`` (100): below it the top-two share's own sampling error
  (about 1/sqrt(n) on the h scale, 0.1 at n = 100) is half the effect
  threshold, and most levels expect too few visits for the chi-square
  approximation, so a small practice's quarter is not tested at all
  (no finding, not a pass).

Power (``tests/unit/integrity/test_upcoding.py``, seeded): against the
``all`` established mix, of 500 honest providers with 300-1500 visits a
quarter none is flagged, and of 500 upcoders whose every visit moves up one
level with probability 0.4 (w 0.76; top-two share 59 % -> 73 %, h 0.29),
492 are (98.4 %). At probability 0.3 (h 0.21, right at ``MIN_H``) about
65 % are: milder upcoding is left to chart audits rather than flagged at
the cost of flagging honest practices whose panels differ a little.

A finding is a WARN: a statistical signal for a person to review against
the documentation, never a verdict on the provider.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.engine import ProviderServices, Scope
from claimbridge.integrity.model import Finding, Severity
from claimbridge.integrity.peers import (
    ESTABLISHED_CODES,
    NEW_CODES,
    EMFamily,
    PeerMix,
    default_peers,
    family_of,
)
from claimbridge.integrity.stats import GoodnessOfFit, cohens_h, goodness_of_fit

__all__ = [
    "ALPHA",
    "MIN_H",
    "MIN_VISITS",
    "RULES",
    "EMUpcoding",
    "MixAssessment",
    "assess_mix",
    "period_of",
]

ALPHA = 0.001
MIN_H = 0.2
MIN_VISITS = 100
_VOID = "8"  # CLM05-3: a void bills nothing


def period_of(served: date) -> str:
    """The calendar quarter of a date of service, as ``em_history`` keys it: ``2026Q3``."""
    return f"{served.year}Q{(served.month - 1) // 3 + 1}"


_EM_CODES = frozenset(ESTABLISHED_CODES + NEW_CODES)


@dataclass(frozen=True, slots=True)
class MixAssessment:
    """A provider's level counts for one quarter and family, set against its peer mix."""

    counts: tuple[int, ...]
    peer: PeerMix
    fit: GoodnessOfFit
    top_two: float
    h: float

    @property
    def n(self) -> int:
        return self.fit.n

    @property
    def points(self) -> float:
        """Top-two share minus the peers', in percentage points."""
        return 100 * (self.top_two - self.peer.top_two)

    def flagged(self, *, alpha: float = ALPHA, min_h: float = MIN_H) -> bool:
        return self.fit.p_value < alpha and self.h >= min_h


def assess_mix(counts: Sequence[int], peer: PeerMix) -> MixAssessment | None:
    """Test ``counts`` (in the peer's level order) against ``peer``; None if nothing to test."""
    fit = goodness_of_fit(counts, peer.shares)
    if fit is None:
        return None
    top_two = (counts[-2] + counts[-1]) / fit.n
    return MixAssessment(tuple(counts), peer, fit, top_two, cohens_h(top_two, peer.top_two))


@dataclass(frozen=True, slots=True)
class EMUpcoding:
    """Flags a provider's quarter whose E/M level mix sits well above its peers'.

    The context's ``peers`` replace the shipped mixes when given; the
    shipped ones are always there, so the rule is always ready.
    """

    id: str = "em-upcoding"
    scope: ClassVar[Scope] = "provider"
    alpha: float = ALPHA
    min_h: float = MIN_H
    min_visits: int = MIN_VISITS

    @property
    def codes(self) -> frozenset[str]:
        """The office E/M codes: the engine gives this rule a provider's lines of those alone."""
        return _EM_CODES

    def ready(self, context: ScrubContext) -> bool:
        return True

    def check(self, subject: ProviderServices, context: ScrubContext) -> Iterator[Finding]:
        peers = context.peers if context.peers is not None else default_peers()
        tallies = _tally(subject, context)
        for period, family in sorted(tallies):
            counted = tallies[(period, family)]
            if sum(counted.values()) < self.min_visits:
                continue
            peer = peers.mix_for(subject.taxonomy, family)
            assessment = assess_mix([counted[code] for code in peer.codes], peer)
            if assessment is not None and assessment.flagged(alpha=self.alpha, min_h=self.min_h):
                yield self._finding(subject.provider, period, assessment)

    def _finding(self, npi: str, period: str, found: MixAssessment) -> Finding:
        peer = found.peer
        high = "+".join(peer.codes[-2:])
        fit = found.fit
        message = (
            f"Provider NPI {npi}, {period}: {high} billed on {found.top_two:.1%} of "
            f"{found.n} {peer.family}-patient E/M visits against {peer.top_two:.1%} for "
            f"{_peer_name(peer)} peers ({found.points:+.1f} points, Cohen's h {found.h:.2f}); "
            f"level mix chi-square {fit.chi2:.1f}, df {fit.df}, p {_p(fit.p_value)}, "
            f"Cohen's w {fit.w:.2f}. Peer mix: {peer.source}. Flagged for review, never a "
            "verdict: a panel sicker than the peers' can explain a higher mix."
        )
        remedy = (
            f"Review the documentation of a sample of this provider's {period} {high} visits "
            "against the E/M guidelines (the level of medical decision making, or total time "
            "on the date of the encounter); record the review where it supports the levels "
            "billed, and correct the codes of the visits where it does not."
        )
        codes = tuple(code for code, count in zip(peer.codes, found.counts, strict=True) if count)
        return Finding(
            rule=self.id,
            severity=Severity.WARN,
            message=message,
            remedy=remedy,
            codes=codes,
            provider=npi,
            facts=_facts(period, found, alpha=self.alpha, min_h=self.min_h),
        )


def _tally(
    subject: ProviderServices, context: ScrubContext
) -> dict[tuple[str, EMFamily], Counter[str]]:
    """E/M visits per (quarter, family): the scrub's lines plus earlier batches' counts."""
    tallies: dict[tuple[str, EMFamily], Counter[str]] = defaultdict(Counter)
    for claim, line in subject.entries:
        family = family_of(line.code)
        if family is not None and claim.frequency != _VOID:
            tallies[(period_of(line.service_date), family)][line.code] += 1
    for period in {period for period, _ in tallies}:
        earlier: Mapping[str, int] = context.em_history.get((subject.provider, period), {})
        for code, count in earlier.items():
            family = family_of(code)
            if family is not None and (period, family) in tallies and count > 0:
                tallies[(period, family)][code] += count
    return tallies


def _facts(
    period: str, found: MixAssessment, *, alpha: float, min_h: float
) -> tuple[tuple[str, str], ...]:
    peer, fit = found.peer, found.fit
    return (
        ("period", period),
        ("family", peer.family),
        ("visits", str(found.n)),
        ("observed_counts", _pairs(peer.codes, found.counts)),
        ("peer_shares", _pairs(peer.codes, [f"{share:.4f}" for share in peer.shares])),
        ("peer_specialty", peer.specialty),
        ("peer_source", peer.source),
        ("top_two_observed", f"{found.top_two:.4f}"),
        ("top_two_peer", f"{peer.top_two:.4f}"),
        ("top_two_difference_points", f"{found.points:.2f}"),
        ("cohens_h", f"{found.h:.4f}"),
        ("chi_square", f"{fit.chi2:.4f}"),
        ("df", str(fit.df)),
        ("p_value", f"{fit.p_value:.3e}"),
        ("cohens_w", f"{fit.w:.4f}"),
        ("bins", "|".join("+".join(peer.codes[i] for i in members) for members in fit.bins)),
        ("alpha", str(alpha)),
        ("min_h", str(min_h)),
    )


def _pairs(codes: Sequence[str], values: Sequence[object]) -> str:
    return ",".join(f"{code}:{value}" for code, value in zip(codes, values, strict=True))


def _peer_name(peer: PeerMix) -> str:
    return "all-specialty" if peer.specialty == "all" else peer.specialty.replace("_", " ")


def _p(p_value: float) -> str:
    """A p-value as text; one below the smallest double is shown as a bound, not as 0."""
    return "< 1e-300" if p_value < 1e-300 else f"{p_value:.2g}"


RULES = (EMUpcoding(),)
