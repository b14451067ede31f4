"""Labelled synthetic sets: a scrub with every rule finds each label and nothing else."""

from __future__ import annotations

import dataclasses

import pytest

from claimbridge.formats.cms import synthetic_ptp_edits
from claimbridge.integrity.engine import ScrubReport, scrub
from claimbridge.integrity.model import Finding, Severity
from claimbridge.integrity.rules import default_rules
from claimbridge.integrity.synthetic import (
    BILLABLE,
    FAMILIES,
    HEADER_DIAGNOSES,
    UNKNOWN_DIAGNOSES,
    LabelledSet,
    Rates,
    evaluate,
    labelled_claims,
)
from claimbridge.integrity.tables.icd10cm import ICD10CMRelease
from claimbridge.integrity.tables.ncci import PtpIndex

SEED = 11
# A stronger shift than the benchmark's 0.4, so 4 upcoders of 20 are flagged with a margin.
RATES = Rates(upcoding_shift=0.5)
NONE = Rates(**{field.name: 0.0 for field in dataclasses.fields(Rates)})


@pytest.fixture(scope="module")
def labelled() -> LabelledSet:
    return labelled_claims(SEED, claims=2_000, providers=20, rates=RATES)


@pytest.fixture(scope="module")
def report(labelled: LabelledSet) -> ScrubReport:
    return scrub(labelled.claims, labelled.context, default_rules())


def test_scrub_finds_every_label_and_nothing_else(
    labelled: LabelledSet, report: ScrubReport
) -> None:
    evaluation = evaluate(labelled, report.findings)

    assert report.rules_skipped == []
    assert evaluation.missed == ()
    assert evaluation.unexpected == ()
    for score in evaluation.scores:
        assert score.injected > 0, score.family
        assert (score.precision, score.recall) == (1.0, 1.0), score.family


def test_every_family_and_the_issues_cases_are_injected(labelled: LabelledSet) -> None:
    kinds = {label.kind for label in labelled.labels}

    assert {label.family for label in labelled.labels} == set(FAMILIES)
    assert {
        "indicator 0, one claim",
        "indicator 0, across two claims",
        "indicator 1 without a modifier",
        "MAI 1: a line over",
        "MAI 2: a line over",
        "MAI 3: a line over",
        "a second claim, same service",
        "billed in an earlier batch",
        "referring NPI excluded",
        "rendering NPI excluded",
        "dated in the future",
        "dated before birth",
        "dated after death",
        "diagnosis not in ICD-10-CM",
        "diagnosis a category, not billable",
        "referring NPI fails its check digit",
        "pointer past the diagnoses",
        "procedure code shape",
        "no encounter attested",
        "over 24 hours of timed services",
        "E/M levels shifted up",
    } <= kinds


def test_decoys_of_every_kind_draw_no_finding(labelled: LabelledSet, report: ScrubReport) -> None:
    decoys = set(labelled.decoys)

    assert "excluded: reinstated before" in decoys
    assert "ncci: indicator 1, 59 on column 2" in decoys
    assert len(decoys) == 18
    assert evaluate(labelled, report.findings).unexpected == ()


def test_a_set_without_injections_is_clean_under_every_rule() -> None:
    clean = labelled_claims(SEED, claims=400, providers=10, rates=NONE)

    found = scrub(clean.claims, clean.context, default_rules())

    assert clean.labels == ()
    assert found.findings == []
    assert found.lines == clean.lines > 400


def test_the_same_seed_gives_the_same_set() -> None:
    one = labelled_claims(SEED, claims=300, providers=10)
    two = labelled_claims(SEED, claims=300, providers=10)
    other = labelled_claims(SEED + 1, claims=300, providers=10)

    assert one.claims == two.claims
    assert one.labels == two.labels
    assert one.context.encounters == two.context.encounters
    assert one.context.history == two.context.history
    assert one.context.em_history == two.context.em_history
    assert one.exclusions == two.exclusions
    assert one.claims != other.claims


def test_labels_hold_against_a_longer_ptp_table(labelled: LabelledSet) -> None:
    longer = PtpIndex.from_edits(synthetic_ptp_edits(60_000, seed=SEED))
    context = dataclasses.replace(labelled.context, ptp=longer)

    evaluation = evaluate(labelled, scrub(labelled.claims, context, default_rules()).findings)

    assert (evaluation.missed, evaluation.unexpected) == ((), ())


def test_the_codes_used_have_the_status_in_the_shipped_release() -> None:
    release = ICD10CMRelease()

    assert all(release.billable(code) for code in BILLABLE)
    assert not any(release.exists(code) for code in UNKNOWN_DIAGNOSES)
    assert all(release.exists(code) and not release.billable(code) for code in HEADER_DIAGNOSES)


def test_a_missed_label_lowers_recall(labelled: LabelledSet, report: ScrubReport) -> None:
    dropped = next(finding for finding in report.findings if finding.rule == "ncci-ptp")
    kept = [finding for finding in report.findings if finding is not dropped]

    evaluation = evaluate(labelled, kept)
    ncci = evaluation.score("ncci")

    assert ncci.false_negatives == 1
    assert ncci.recall < 1.0
    assert [(label.claim, label.line) for label in evaluation.missed] == [
        (dropped.claim, dropped.line)
    ]


def test_a_finding_on_a_clean_line_lowers_precision(
    labelled: LabelledSet, report: ScrubReport
) -> None:
    labelled_claims_refs = {label.claim for label in labelled.labels}
    clean = next(claim for claim in labelled.claims if claim.ref not in labelled_claims_refs)
    stray = Finding("duplicate", Severity.BLOCK, "made up", "none", claim=clean.ref, line=1)

    evaluation = evaluate(labelled, [*report.findings, stray])
    duplicate = evaluation.score("duplicate")

    assert duplicate.false_positives == 1
    assert duplicate.precision < 1.0
    assert evaluation.unexpected == (stray,)


def test_upcoding_counts_providers_once_and_honest_ones_as_negatives(
    labelled: LabelledSet, report: ScrubReport
) -> None:
    upcoder = sorted(labelled.shifted)[0]
    again = Finding("em-upcoding", Severity.WARN, "new patients too", "review", provider=upcoder)
    honest = sorted(labelled.honest)[0]
    wrong = Finding("em-upcoding", Severity.WARN, "made up", "review", provider=honest)

    score = evaluate(labelled, [*report.findings, again, wrong]).score("upcoding")

    assert score.injected == len(labelled.shifted) == 4
    assert score.true_positives == 4
    assert score.negatives == len(labelled.honest) == 16
    assert score.false_positive_rate == pytest.approx(1 / 16)


def test_rates_the_claims_cannot_hold_are_refused() -> None:
    with pytest.raises(ValueError, match="too few"):
        labelled_claims(1, claims=60, providers=5)
    with pytest.raises(ValueError, match="ptp_pairs"):
        labelled_claims(1, claims=2_000, providers=5, ptp_pairs=5_000_000)
