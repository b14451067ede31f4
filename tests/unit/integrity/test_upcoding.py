"""E/M upcoding: a provider's quarter is flagged for review when its mix sits well above peers'."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import pytest

from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.engine import ProviderServices, scrub
from claimbridge.integrity.model import Finding, ScrubClaim, ScrubLine, Severity
from claimbridge.integrity.peers import PeerMix, default_peers, parse_peers
from claimbridge.integrity.rules.upcoding import (
    RULES,
    EMUpcoding,
    MixAssessment,
    assess_mix,
    period_of,
)
from claimbridge.integrity.stats import cohens_h

NPI = "1234567893"
FAMILY_MEDICINE = "207Q00000X"
CARDIOLOGY = "207RC0000X"
SERVED = date(2026, 8, 14)
TODAY = date(2026, 11, 27)


def _claims(
    mix: Mapping[str, int],
    *,
    served: date = SERVED,
    taxonomy: str = FAMILY_MEDICINE,
    npi: str = NPI,
    frequency: str = "1",
) -> list[ScrubClaim]:
    """One single-visit claim per visit, each for another patient."""
    codes = [code for code, count in sorted(mix.items()) for _ in range(count)]
    return [
        ScrubClaim(
            ref=f"claim {i}",
            patient=f"patient-key-{i}",
            billing_npi="1987654321",
            rendering_npi=npi,
            lines=(ScrubLine(1, code, (), Decimal(1), served),),
            taxonomy=taxonomy,
            frequency=frequency,
        )
        for i, code in enumerate(codes)
    ]


def _findings(
    claims: Sequence[ScrubClaim],
    *,
    history: Mapping[tuple[str, str], Mapping[str, int]] | None = None,
    context: ScrubContext | None = None,
) -> list[Finding]:
    context = context or ScrubContext(today=TODAY, em_history=history or {})
    return scrub(claims, context, RULES).findings


def _established(peer_like: Sequence[float], n: int) -> dict[str, int]:
    codes = ("99211", "99212", "99213", "99214", "99215")
    return {code: round(share * n) for code, share in zip(codes, peer_like, strict=True)}


HIGH_MIX = {"99212": 5, "99213": 20, "99214": 100, "99215": 75}  # 200 visits, 87.5 % top two


def test_flags_a_provider_billing_far_more_high_levels_than_peers() -> None:
    [finding] = _findings(_claims(HIGH_MIX))
    assert finding.rule == "em-upcoding"
    assert finding.severity is Severity.WARN
    assert (finding.provider, finding.claim, finding.line) == (NPI, None, None)
    assert finding.codes == ("99212", "99213", "99214", "99215")
    for text in (NPI, "2026Q3", "200 established-patient", "99214+99215", "87.5%", "59.0%"):
        assert text in finding.message
    for text in ("chi-square", "df 3", "Cohen's w", "Cohen's h", "SYNTHETIC", "never a verdict"):
        assert text in finding.message
    assert "sample" in finding.remedy
    assert "medical decision making" in finding.remedy


def test_finding_facts_carry_the_figures() -> None:
    [finding] = _findings(_claims(HIGH_MIX))
    facts = dict(finding.facts)
    assert facts["period"] == "2026Q3"
    assert facts["family"] == "established"
    assert facts["visits"] == "200"
    assert facts["observed_counts"] == "99211:0,99212:5,99213:20,99214:100,99215:75"
    assert (
        facts["peer_shares"] == "99211:0.0200,99212:0.0500,99213:0.3400,99214:0.5100,99215:0.0800"
    )
    assert facts["peer_specialty"] == "all"
    assert facts["bins"] == "99211+99212|99213|99214|99215"
    assert facts["df"] == "3"
    assert float(facts["top_two_difference_points"]) == pytest.approx(28.5)
    assert float(facts["cohens_h"]) == pytest.approx(cohens_h(0.875, 0.59), abs=1e-4)
    assert float(facts["p_value"]) < 0.001
    assert float(facts["cohens_w"]) == pytest.approx(
        math.sqrt(float(facts["chi_square"]) / 200), abs=1e-4
    )


def test_a_mix_like_the_peers_is_not_flagged() -> None:
    assert _findings(_claims(_established([0.02, 0.05, 0.34, 0.51, 0.08], 1000))) == []


def _assessed(mix: Mapping[str, int]) -> MixAssessment:
    peer = default_peers().mix_for("", "established")
    assessment = assess_mix([mix.get(code, 0) for code in peer.codes], peer)
    assert assessment is not None
    return assessment


def test_a_lower_mix_than_peers_is_not_flagged() -> None:
    low = {"99211": 40, "99212": 120, "99213": 200, "99214": 40}
    assert _assessed(low).fit.p_value < 1e-6  # far from the peers, but downward
    assert _findings(_claims(low)) == []


def test_a_significant_but_small_upward_shift_is_not_flagged() -> None:
    # 5,000 visits, top two 63 % against 59 %: p far below 0.001, h only 0.08.
    slight = _established([0.01, 0.03, 0.33, 0.53, 0.10], 5000)
    assessment = _assessed(slight)
    assert assessment.fit.p_value < 1e-6
    assert 0 < assessment.h < 0.1
    assert _findings(_claims(slight)) == []


def test_fewer_than_100_visits_are_not_tested() -> None:
    assert _findings(_claims({"99215": 99})) == []
    [finding] = _findings(_claims({"99215": 100}))
    assert "100 established-patient" in finding.message


def test_earlier_batches_complete_the_quarter() -> None:
    batch = _claims({"99215": 20})
    assert _findings(batch) == []
    history = {(NPI, "2026Q3"): {"99213": 30, "99214": 80, "99215": 70, "99285": 40}}
    [finding] = _findings(batch, history=history)
    assert dict(finding.facts)["visits"] == "200"  # the emergency visits (99285) do not count


def test_history_of_another_quarter_or_provider_does_not_count() -> None:
    history = {
        (NPI, "2026Q2"): {"99215": 500},
        ("1111111112", "2026Q3"): {"99215": 500},
    }
    assert _findings(_claims({"99215": 20}), history=history) == []


@pytest.mark.parametrize(
    ("served", "period"),
    [
        (date(2026, 1, 1), "2026Q1"),
        (date(2026, 3, 31), "2026Q1"),
        (date(2026, 4, 1), "2026Q2"),
        (date(2026, 9, 30), "2026Q3"),
        (date(2026, 10, 1), "2026Q4"),
        (date(2026, 12, 31), "2026Q4"),
    ],
)
def test_period_is_the_calendar_quarter(served: date, period: str) -> None:
    assert period_of(served) == period


def test_quarters_are_tested_apart() -> None:
    september = _claims({"99215": 60}, served=date(2026, 9, 30))
    october = _claims({"99215": 60}, served=date(2026, 10, 1))
    assert _findings(september + october) == []
    [finding] = _findings(september + october + _claims({"99215": 40}, served=date(2026, 12, 31)))
    assert "2026Q4" in finding.message


def test_new_and_established_visits_are_tested_apart() -> None:
    assert _findings(_claims({"99215": 60, "99205": 60})) == []


def test_new_patient_visits_are_compared_with_the_specialtys_new_patient_mix() -> None:
    # A cardiologist's usual new-patient mix (CMS 2023): normal for cardiology, high for 'all'.
    cardiology_like = {"99203": 32, "99204": 213, "99205": 55}
    assert _findings(_claims(cardiology_like, taxonomy=CARDIOLOGY)) == []
    [finding] = _findings(_claims(cardiology_like, taxonomy="2084N0400X"))
    assert finding.codes == ("99203", "99204", "99205")
    assert "99204+99205" in finding.message
    assert "300 new-patient" in finding.message
    assert dict(finding.facts)["peer_specialty"] == "all"


def test_specialty_peers_are_named_with_their_source() -> None:
    [finding] = _findings(_claims({"99204": 100, "99205": 100}, taxonomy=CARDIOLOGY))
    assert "cardiology peers" in finding.message
    assert "CMS E/M frequency data 2023" in finding.message
    assert dict(finding.facts)["peer_specialty"] == "cardiology"


def test_voided_claims_do_not_count() -> None:
    assert _findings(_claims({"99215": 150}, frequency="8")) == []


def test_lines_that_are_not_office_visits_do_not_count() -> None:
    assert _findings(_claims({"99285": 150, "99201": 150, "99233": 150})) == []


def test_each_provider_is_tested_on_its_own_visits() -> None:
    other = "1111111112"
    claims = _claims(HIGH_MIX) + _claims(
        _established([0.02, 0.05, 0.34, 0.51, 0.08], 400), npi=other
    )
    assert [finding.provider for finding in _findings(claims)] == [NPI]


def test_configured_peers_replace_the_shipped_ones() -> None:
    document = {
        "provenance": "a practice's own benchmark",
        "specialties": {
            "all": {
                "established": {"shares": {"99213": 0.1, "99214": 0.5, "99215": 0.4}},
                "new": {"shares": {"99203": 0.5, "99204": 0.5}},
            }
        },
    }
    context = ScrubContext(today=TODAY, peers=parse_peers(document, origin="benchmark.json"))
    assert _findings(_claims(HIGH_MIX), context=context) == []


def test_messages_never_show_patient_keys() -> None:
    [finding] = _findings(_claims(HIGH_MIX))
    assert "patient-key" not in finding.explanation
    assert all("patient-key" not in value for _, value in finding.facts)


def test_rule_runs_without_configured_peers() -> None:
    rule = EMUpcoding()
    assert rule.ready(ScrubContext(today=TODAY))
    report = scrub([], ScrubContext(today=TODAY), RULES)
    assert report.rules_run == ["em-upcoding"]


# The power check: honest providers drawn from the peers' mix, upcoders whose
# every visit moves up one level with probability UPCODE.

UPCODE = 0.4
PROVIDERS = 500


def _upcoded(peer: PeerMix, s: float) -> list[float]:
    """The level mix after each visit moves up one level with probability s (the top stays)."""
    p = peer.shares
    return [p[i] * (1 - s) + (p[i - 1] * s if i else 0.0) for i in range(len(p) - 1)] + [
        p[-1] + p[-2] * s
    ]


def test_chosen_upcoding_effect_size() -> None:
    peer = default_peers().mix_for("", "established")
    shifted = _upcoded(peer, UPCODE)
    w = math.sqrt(sum((q - p) ** 2 / p for q, p in zip(shifted, peer.shares, strict=True)))
    h = cohens_h(shifted[-2] + shifted[-1], peer.top_two)
    assert (round(w, 2), round(h, 2)) == (0.76, 0.29)
    assert (round(peer.top_two, 2), round(shifted[-2] + shifted[-1], 3)) == (0.59, 0.726)


def _provider_flagged(rng: random.Random, peer: PeerMix, s: float, index: int) -> bool:
    """One provider's quarter: one visit in this batch, the rest billed in earlier batches."""
    n = rng.randint(300, 1500)
    levels = rng.choices(range(len(peer.codes)), weights=peer.shares, k=n)
    levels = [min(level + 1, 4) if rng.random() < s else level for level in levels]
    counts = Counter(peer.codes[level] for level in levels)
    npi = f"{index:010d}"
    first = peer.codes[levels[0]]
    [claim] = _claims({first: 1}, npi=npi)
    counts[first] -= 1
    context = ScrubContext(today=TODAY, em_history={(npi, "2026Q3"): dict(counts)})
    subject = ProviderServices(npi, FAMILY_MEDICINE, ((claim, claim.lines[0]),))
    return any(EMUpcoding().check(subject, context))


def test_power_at_most_1_percent_of_honest_and_95_percent_of_upcoders_flagged() -> None:
    rng = random.Random(20261127)
    peer = default_peers().mix_for(FAMILY_MEDICINE, "established")
    honest = sum(_provider_flagged(rng, peer, 0.0, i) for i in range(PROVIDERS))
    upcoders = sum(_provider_flagged(rng, peer, UPCODE, i) for i in range(PROVIDERS))
    assert honest <= PROVIDERS // 100, f"{honest} of {PROVIDERS} honest providers flagged"
    assert upcoders >= PROVIDERS * 95 // 100, f"only {upcoders} of {PROVIDERS} upcoders flagged"
