"""Services that cannot have happened on their date, and a provider's day of more than 24 hours."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from claimbridge.errors import ValidationFailed
from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.model import Finding, ScrubClaim, Severity
from claimbridge.integrity.rules.dates import (
    RULES,
    DateOfService,
    ProviderDayHours,
    load_time_based_codes,
)
from tests.unit.integrity.rule_samples import (
    PATIENT,
    RENDERING,
    SERVED,
    TODAY,
    claim,
    line,
    run,
    valid_npi,
)

BORN = date(1961, 7, 13)
DIED = date(2026, 2, 20)


def dated(served: date, **kwargs: Any) -> list[Finding]:
    subject = claim(line(served=served), **kwargs)
    return list(DateOfService().check(subject, ScrubContext(today=TODAY)))


def test_the_family_exports_both_rules() -> None:
    assert [(rule.id, rule.scope) for rule in RULES] == [
        ("date-of-service", "claim"),
        ("provider-day-hours", "provider_day"),
    ]


# --- date of service ----------------------------------------------------------------


def test_a_service_dated_today_passes_and_tomorrow_blocks() -> None:
    assert dated(TODAY) == []
    (found,) = dated(TODAY + timedelta(days=1))
    assert (found.rule, found.severity, found.line) == ("date-of-service", Severity.BLOCK, 1)
    assert "2026-03-11, is after today (2026-03-10)" in found.message


def test_a_service_on_the_day_of_birth_passes_and_the_day_before_blocks() -> None:
    assert dated(BORN, born=BORN) == []
    (found,) = dated(BORN - timedelta(days=1), born=BORN)
    assert "before the patient's recorded date of birth" in found.message


def test_a_service_on_the_day_of_death_passes_and_the_day_after_blocks() -> None:
    assert dated(DIED, died=DIED) == []
    (found,) = dated(DIED + timedelta(days=1), died=DIED)
    assert found.severity is Severity.BLOCK
    assert "after the patient's recorded date of death" in found.message
    assert "2026-02-21" in found.message  # the service date may be shown


def test_the_patients_dates_of_birth_and_death_are_never_shown() -> None:
    found = dated(date(1950, 1, 1), born=BORN) + dated(TODAY, died=DIED)
    assert len(found) == 2
    for finding in found:
        text = finding.explanation + str(finding.to_json())
        for private in (BORN.isoformat(), DIED.isoformat(), "1961", "02-20", PATIENT):
            assert private not in text


def test_each_line_is_judged_on_its_own_date() -> None:
    subject = claim(line(1, served=DIED), line(2, served=DIED + timedelta(days=3)), died=DIED)
    found = list(DateOfService().check(subject, ScrubContext(today=TODAY)))
    assert [f.line for f in found] == [2]


# --- the table of timed codes -----------------------------------------------------------


def test_the_shipped_table_counts_well_known_timed_codes() -> None:
    table = load_time_based_codes()
    expected = {"90832": 30, "90834": 45, "90837": 60, "97110": 15, "99417": 15, "99291": 30}
    assert {code: table.minutes[code] for code in expected} == expected
    assert "99213" not in table.minutes  # office visits are not counted as timed
    assert "eight-minute rule" in table.source
    assert table is load_time_based_codes()


def _table(**changes: object) -> bytes:
    document = {"label": "test minutes", "source": "tests", "codes": {"90837": {"minutes": 60}}}
    return json.dumps(document | changes).encode()


def test_a_table_of_the_same_shape_replaces_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "minutes.json"
    path.write_bytes(_table(codes={"G0001": {"minutes": 120}, "90837": {"minutes": 60}}))
    table = load_time_based_codes(path)
    assert dict(table.minutes) == {"G0001": 120, "90837": 60}
    assert table.label == "test minutes"


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"{not json", "file"),
        (b"[]", "file"),
        (_table(codes={}), "codes"),
        (_table(codes={"9083": {"minutes": 60}}), "codes.9083"),
        (_table(codes={"90837": {"minutes": 0}}), "codes.90837"),
        (_table(codes={"90837": {"minutes": 1441}}), "codes.90837"),
        (_table(codes={"90837": {"minutes": "60"}}), "codes.90837"),
        (_table(codes={"90837": {"minutes": True}}), "codes.90837"),
        (_table(codes={"90837": 60}), "codes.90837"),
        (_table(label=""), "label"),
        (_table(source=None), "source"),
    ],
)
def test_a_table_with_a_wrong_entry_is_refused_naming_it(content: bytes, where: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        load_time_based_codes(content)
    assert raised.value.where == where


# --- a provider's day over 24 hours -------------------------------------------------------


def sessions(
    count: int, *, code: str = "90837", npi: str = RENDERING, start: int = 0
) -> list[ScrubClaim]:
    """``count`` one-unit sessions of ``code``, each with another patient, on ``SERVED``."""
    return [
        claim(line(code=code), ref=f"claim {n}", patient=f"patient-{n}", rendering=npi)
        for n in range(start, start + count)
    ]


def hours(claims: list[ScrubClaim]) -> list[Finding]:
    return run([ProviderDayHours()], claims, ScrubContext(today=TODAY))


def test_exactly_24_hours_passes() -> None:
    assert hours(sessions(24)) == []


def test_one_more_timed_unit_past_24_hours_blocks_naming_who_when_and_how_much() -> None:
    day = sessions(24) + sessions(1, code="97110", start=24)
    (found,) = hours(day)
    assert (found.rule, found.severity) == ("provider-day-hours", Severity.BLOCK)
    assert found.provider == RENDERING
    assert (found.claim, found.line) == ("claim 24", 1)
    assert found.codes == ("90837", "97110")
    assert f"NPI {RENDERING} billed 1,455 minutes (24 h 15 min)" in found.message
    assert f"on {SERVED.isoformat()} across 25 claims" in found.message
    assert dict(found.facts)["total_minutes"] == "1455"
    assert all(f"patient-{n}" not in found.explanation for n in range(25))


def test_units_multiply_the_minutes() -> None:
    one_claim = claim(line(1, code="97110", units=96), line(2, code="97530", units="0.5"))
    (found,) = hours([one_claim])
    assert "1,447.5 minutes (24 h 07 min)" in found.message
    assert (found.claim, found.line) == ("claim 1", 2)


def test_untimed_codes_other_providers_and_voids_do_not_count() -> None:
    day = (
        sessions(24)
        + sessions(5, code="99213", start=24)
        + sessions(1, npi=valid_npi("111222333"), start=29)
    )
    void = claim(line(code="90837"), ref="void", patient="patient-v", frequency="8")
    assert hours([*day, void]) == []


def test_another_date_is_another_day() -> None:
    tomorrow = claim(line(code="90837", served=SERVED + timedelta(days=1)), ref="next day")
    assert hours([*sessions(24), tomorrow]) == []


def test_a_replacement_table_changes_what_counts() -> None:
    table = load_time_based_codes(_table(codes={"99213": {"minutes": 720}}))
    day = [claim(line(code="99213"), ref=f"c{n}", patient=f"p{n}") for n in range(3)]
    (found,) = run([ProviderDayHours(table)], day, ScrubContext(today=TODAY))
    assert "2,160 minutes (36 h 00 min)" in found.message and found.claim == "c2"
    assert "test minutes" in found.message
    assert Decimal(dict(found.facts)["total_minutes"]) == 2160
