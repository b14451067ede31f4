"""Labels: the findings a correct scrub of a set makes, and a scrub's findings scored against them.

A finding matches a label on its rule, claim, line and, for the rules
whose findings only the provider tells apart, provider. ``evaluate``
counts each such key once and gives precision and recall per family of
rules; for upcoding, over providers, with the honest ones as negatives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from claimbridge.formats.cms import Exclusion, MueEdit, PtpEdit
from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.model import Finding, ScrubClaim

FAMILIES = (
    *("ncci", "mue", "duplicate", "excluded"),
    *("dates", "codes", "encounter", "hours", "upcoding"),
)
_BY_PROVIDER = frozenset({"oig-leie", "code-npi", "em-upcoding"})
_RULE_FAMILIES = {
    "ncci-ptp": "ncci",
    "duplicate": "duplicate",
    "oig-leie": "excluded",
    "date-of-service": "dates",
    "timely-filing": "dates",
    "encounter-not-attested": "encounter",
    "provider-day-hours": "hours",
    "em-upcoding": "upcoding",
}

Key = tuple[str, str | None, int | None, str | None]


def family_of_rule(rule: str) -> str:
    """The family a rule id counts in (``mue-day``: ``mue``); ``other`` for an unknown one."""
    if rule.startswith("mue"):
        return "mue"
    if rule.startswith("code-"):
        return "codes"
    return _RULE_FAMILIES.get(rule, "other")


@dataclass(frozen=True, slots=True)
class Label:
    """A finding a correct scrub makes: its rule, and the claim, line or provider it names."""

    rule: str
    kind: str
    claim: str | None = None
    line: int | None = None
    provider: str | None = None

    @property
    def family(self) -> str:
        return family_of_rule(self.rule)

    @property
    def key(self) -> Key:
        return (self.rule, self.claim, self.line, self.provider)


def finding_key(finding: Finding) -> Key:
    """What a finding is matched on; its provider only where that tells findings apart."""
    provider = finding.provider if finding.rule in _BY_PROVIDER else None
    return (finding.rule, finding.claim, finding.line, provider)


@dataclass(frozen=True, slots=True)
class LabelledSet:
    """Claims, the context to scrub them in, the labels, and the tables as records (to write)."""

    seed: int
    claims: tuple[ScrubClaim, ...]
    labels: tuple[Label, ...]
    context: ScrubContext = field(repr=False)
    ptp_edits: tuple[PtpEdit, ...] = field(repr=False)
    mue_edits: tuple[MueEdit, ...] = field(repr=False)
    exclusions: tuple[Exclusion, ...] = field(repr=False)
    shifted: frozenset[str] = field(repr=False)
    honest: frozenset[str] = field(repr=False)
    decoys: Counter[str] = field(repr=False)

    @property
    def lines(self) -> int:
        return sum(len(claim.lines) for claim in self.claims)


@dataclass(frozen=True, slots=True)
class Score:
    """One family's count; for upcoding, of providers, ``negatives`` the honest ones."""

    family: str
    injected: int
    found: int
    true_positives: int
    negatives: int | None = None

    @property
    def false_positives(self) -> int:
        return self.found - self.true_positives

    @property
    def false_negatives(self) -> int:
        return self.injected - self.true_positives

    @property
    def precision(self) -> float:
        return self.true_positives / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.injected if self.injected else 1.0

    @property
    def false_positive_rate(self) -> float | None:
        if self.negatives is None:
            return None
        return self.false_positives / self.negatives if self.negatives else 0.0


@dataclass(frozen=True, slots=True)
class Evaluation:
    scores: tuple[Score, ...]
    missed: tuple[Label, ...]
    unexpected: tuple[Finding, ...]

    def score(self, family: str) -> Score:
        return next(score for score in self.scores if score.family == family)


def evaluate(labelled: LabelledSet, findings: Iterable[Finding]) -> Evaluation:
    """The findings against the labels, per family; each (rule, claim, line, provider) once."""
    expected = {label.key: label for label in labelled.labels}
    seen: dict[Key, Finding] = {}
    for finding in findings:
        seen.setdefault(finding_key(finding), finding)
    found = Counter(family_of_rule(key[0]) for key in seen)
    hits = Counter(family_of_rule(key[0]) for key in seen if key in expected)
    injected = Counter(label.family for label in labelled.labels)
    families = [*FAMILIES, *sorted(set(found) - set(FAMILIES))]
    honest = len(labelled.honest)
    scores = tuple(
        Score(name, injected[name], found[name], hits[name], honest if name == "upcoding" else None)
        for name in families
    )
    missed = tuple(label for key, label in expected.items() if key not in seen)
    unexpected = tuple(finding for key, finding in seen.items() if key not in expected)
    return Evaluation(scores, missed, unexpected)
