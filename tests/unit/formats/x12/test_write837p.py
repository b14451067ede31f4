"""The 837P writer: HL numbering, envelopes and counts, separators (005010X222A1)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from claimbridge.formats.x12.envelope import Outcome
from claimbridge.formats.x12.errors import ElementInvalid
from claimbridge.formats.x12.lexer import Separators
from claimbridge.formats.x12.write837p import write_837p
from claimbridge.formats.x12.x837p import ProfessionalClaim, read_837p
from tests.unit.formats.x12.samples import document
from tests.unit.formats.x12.test_x837p import BILLING, CLAIM, HEADER, PATIENT, SUBSCRIBER, body

NOW = datetime(2024, 3, 1, 9, 30)  # noqa: DTZ001 - the writer takes the sender's local time


def _claims() -> list[ProfessionalClaim]:
    second = ["CLM*SECOND*100.00***11:B:1*Y*A*Y*I", *CLAIM[1:]]
    subscriber_is_patient = ["HL*4*1*22*0", *SUBSCRIBER[1:]]
    third = ["CLM*THIRD*100.00***11:B:1*Y*A*Y*I", *CLAIM[1:]]
    segments = body(
        HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM, second, subscriber_is_patient, third
    )
    data = document(segments, set_id="837", guide="005010X222A1", functional_id="HC")
    return list(read_837p(data))


def _write(claims: list[ProfessionalClaim], **options: object) -> bytes:
    return write_837p(
        claims,
        sender="SENDER",
        receiver="RECEIVER",
        interchange_control_number=42,
        group_control_number=7,
        now=NOW,
        **options,  # type: ignore[arg-type]
    )


def _segments(data: bytes, terminator: str = "~") -> list[str]:
    return [segment for segment in data.decode().split(terminator) if segment]


def test_written_interchange_is_accepted_with_correct_counts() -> None:
    claims = _claims()
    data = _write(claims)

    reading = read_837p(data)
    assert list(reading) == claims
    assert [result.outcome for result in reading.results] == [Outcome.ACCEPTED]
    segments = _segments(data)
    st = segments.index(next(s for s in segments if s.startswith("ST*")))
    se = segments.index(next(s for s in segments if s.startswith("SE*")))
    assert segments[se].split("*")[1] == str(se - st + 1)
    assert segments[-1] == "IEA*1*000000042"
    assert segments[1].startswith("GS*HC*SENDER*RECEIVER*20240301*0930*7*X*005010X222A1")


def test_hl_loops_are_numbered_with_parents_and_children() -> None:
    hls = [s for s in _segments(_write(_claims())) if s.startswith("HL*")]

    assert hls == ["HL*1**20*1", "HL*2*1*22*1", "HL*3*2*23*0", "HL*4*1*22*0"]


def test_claims_per_set_starts_new_sets_with_hl_from_one() -> None:
    data = _write(_claims(), claims_per_set=2)

    segments = _segments(data)
    assert sum(1 for s in segments if s.startswith("ST*837")) == 2
    assert [s for s in segments if s.startswith("HL*1*")] == ["HL*1**20*1", "HL*1**20*1"]
    reading = read_837p(data)
    assert len(list(reading)) == 3
    assert [result.outcome for result in reading.results] == [Outcome.ACCEPTED] * 2


def test_other_separators_are_used_and_read_back() -> None:
    claims = _claims()
    separators = Separators(element="|", component=">", repetition="^", segment="\n")
    data = _write(claims, separators=separators)

    assert b"~" not in data and b"*" not in data
    assert b"SV1|HC>99213>25|60.00" in data
    assert list(read_837p(data)) == claims


def test_value_holding_a_separator_is_refused() -> None:
    claim = _claims()[0]
    bad = replace(claim, claim_id="A*B")

    with pytest.raises(ElementInvalid):
        _write([bad])


def test_unbalanced_claim_is_written_as_given_and_flagged_on_reading() -> None:
    claim = _claims()[0]
    unbalanced = replace(claim, total_charge=claim.total_charge + claim.lines[0].charge)

    reading = read_837p(_write([unbalanced]))
    assert list(reading) == [unbalanced]
    assert reading.results[0].outcome is Outcome.REJECTED
