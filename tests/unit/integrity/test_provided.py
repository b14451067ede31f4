"""Services not provided: claim lines with no encounter the practice attested."""

from __future__ import annotations

from datetime import date, timedelta

from claimbridge.integrity.context import EncounterLog, ScrubContext
from claimbridge.integrity.model import Finding, ScrubClaim, Severity
from claimbridge.integrity.rules.provided import RULES, EncounterAttested
from tests.unit.integrity.rule_samples import (
    BILLING,
    PATIENT,
    RENDERING,
    SERVED,
    TODAY,
    claim,
    line,
)

RULE = EncounterAttested()
SINCE = date(2026, 1, 1)
LOG = EncounterLog(since=SINCE, visits=frozenset({(PATIENT, RENDERING, SERVED)}))


def unattested(subject: ScrubClaim, log: EncounterLog = LOG) -> list[Finding]:
    return list(RULE.check(subject, ScrubContext(today=TODAY, encounters=log)))


def test_the_rule_runs_only_with_an_encounter_log() -> None:
    assert [(rule.id, rule.scope) for rule in RULES] == [("encounter-not-attested", "claim")]
    assert not RULE.ready(ScrubContext(today=TODAY))
    assert RULE.ready(ScrubContext(today=TODAY, encounters=LOG))
    assert list(RULE.check(claim(), ScrubContext(today=TODAY))) == []


def test_a_line_of_an_attested_encounter_passes() -> None:
    assert unattested(claim(line(1), line(2, "85025"))) == []


def test_a_line_with_no_attested_encounter_blocks_and_says_how_to_resolve_it() -> None:
    other_day = SERVED + timedelta(days=1)
    (found,) = unattested(claim(line(1), line(2, "85025", served=other_day)))
    assert (found.rule, found.severity, found.line) == (
        "encounter-not-attested",
        Severity.BLOCK,
        2,
    )
    assert (
        f"no encounter attested by the practice for this patient with NPI {RENDERING} "
        f"on {other_day.isoformat()}" in found.message
    )
    assert "attests the encounter" in found.remedy and "removed" in found.remedy
    assert found.provider == RENDERING
    assert PATIENT not in found.explanation + str(found.to_json())


def test_each_line_of_an_unattested_date_is_named() -> None:
    found = unattested(claim(line(1), line(2, "85025"), patient="someone-else"))
    assert [f.line for f in found] == [1, 2]


def test_the_encounter_must_be_with_the_rendering_provider() -> None:
    assert len(unattested(claim(rendering=BILLING))) == 1


def test_the_billing_npi_stands_in_when_no_rendering_provider_is_named() -> None:
    log = EncounterLog(since=SINCE, visits=frozenset({(PATIENT, BILLING, SERVED)}))
    assert unattested(claim(rendering=None), log) == []


def test_lines_before_the_practice_began_attesting_are_not_checked() -> None:
    before = claim(line(served=SINCE - timedelta(days=1)), patient="someone-else")
    on_first_day = claim(line(served=SINCE), patient="someone-else")
    assert unattested(before) == []
    assert len(unattested(on_first_day)) == 1
