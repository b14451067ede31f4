"""999 acknowledgments (005010X231A1): reading, writing from a reading, TA1."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimbridge.formats.x12 import (
    Acknowledgment,
    Outcome,
    Reading,
    SetAcknowledgment,
    acknowledge,
    read_835,
    read_999,
    write_999,
    write_ta1,
)
from claimbridge.formats.x12.errors import ElementInvalid, MissingSegment, UnexpectedSegment
from claimbridge.formats.x12.x999 import ElementNote, SegmentContext, SegmentNote
from tests.unit.formats.x12.samples import CONFORMANCE, PAYMENT_835, document

NOW = datetime(2024, 1, 2, 3, 4, tzinfo=UTC)
ENVELOPE = {"sender": "CB", "receiver": "PRACTICE", "interchange_control_number": 9, "now": NOW}

SIMPLE = [
    "AK1*HC*17456*005010X222A1",
    "AK2*837*0001*005010X222A1",
    "IK5*A",
    "AK2*837*0002*005010X222A1",
    "IK3*CLM*22*2300*8",
    "CTX*CLM01:123456789",
    "IK4*2*782*1",
    "IK5*R*5",
    "AK9*P*2*2*1",
]


def read_one(body: list[str]) -> tuple[list[Acknowledgment], Reading[Acknowledgment]]:
    reading = read_999(document(body, set_id="999", guide="005010X231A1", functional_id="FA"))
    return list(reading), reading


def test_a_999_reads_into_set_and_segment_notes() -> None:
    acks, reading = read_one(SIMPLE)
    ack = acks[0]
    assert (ack.functional_id, ack.group_control_number, ack.version) == (
        "HC",
        "17456",
        "005010X222A1",
    )
    assert ack.outcome is Outcome.PARTIALLY_ACCEPTED
    assert (ack.sets_included, ack.sets_received, ack.sets_accepted) == (2, 2, 1)
    assert [s.outcome for s in ack.sets] == [Outcome.ACCEPTED, Outcome.REJECTED]
    note = ack.sets[1].segments[0]
    assert (note.segment_id, note.position, note.loop_id, note.code) == ("CLM", 22, "2300", "8")
    assert note.contexts == (SegmentContext(name="CLM01", reference="123456789"),)
    assert note.elements == (ElementNote(2, None, None, "782", "1"),)
    assert ack.sets[1].codes == ("5",)
    assert not ack.accepted
    assert reading.accepted


def test_a_999_round_trips_through_the_writer() -> None:
    acks, _ = read_one(SIMPLE)
    data = write_999(acks, group_control_number=3, **ENVELOPE)
    again = read_999(data)
    assert list(again) == acks
    assert again.accepted


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (["IK5*A", *SIMPLE], UnexpectedSegment),
        (SIMPLE[:-1], MissingSegment),
        ([s.replace("IK5*R", "IK5*Q") for s in SIMPLE], ElementInvalid),
        ([s.replace("IK3*CLM*22*2300*8", "IK3*CLM*22*2300*99") for s in SIMPLE], ElementInvalid),
        ([s.replace("AK9*P*2*2*1", "AK9*P*2*X*1") for s in SIMPLE], ElementInvalid),
        (["AK1*HC*1*X", "AK2*837*0001", "IK3*CLM*1**8", "AK9*A*1*1*1"], MissingSegment),
    ],
    ids=["ik5-before-ak1", "no-ak9", "bad-ik501", "bad-ik304", "bad-count", "ak2-without-ik5"],
)
def test_malformed_999s_are_rejected_naming_the_segment(
    body: list[str], error: type[Exception]
) -> None:
    _, reading = read_one(body)
    found = reading.results[0].errors
    assert isinstance(found[-1], error)
    assert found[-1].position.segment_id in {"IK5", "AK9", "IK3", "SE", "AK2"}


def test_another_guide_is_refused_and_the_base_guide_is_flagged() -> None:
    reading = read_999(document(SIMPLE, set_id="999", guide="004010X231", functional_id="FA"))
    assert list(reading) == []
    assert reading.results[0].outcome is Outcome.REJECTED
    reading = read_999(document(SIMPLE, set_id="999", guide="005010X231", functional_id="FA"))
    assert len(list(reading)) == 1
    assert reading.results[0].outcome is Outcome.ACCEPTED_WITH_ERRORS


def test_acknowledging_a_clean_reading_accepts_everything() -> None:
    reading = read_835(document(PAYMENT_835, PAYMENT_835))
    list(reading)
    [ack] = acknowledge(reading)
    assert ack.outcome is Outcome.ACCEPTED
    assert (ack.functional_id, ack.sets_included, ack.sets_received, ack.sets_accepted) == (
        "HP",
        2,
        2,
        2,
    )
    assert [s.outcome for s in ack.sets] == [Outcome.ACCEPTED, Outcome.ACCEPTED]


def test_acknowledging_a_bad_set_reports_segment_and_element() -> None:
    bad = [s.replace("CLP*PC2*1*50.00", "CLP*PC2*1*5X.00") for s in PAYMENT_835]
    reading = read_835(document(PAYMENT_835, bad))
    list(reading)
    [ack] = acknowledge(reading)
    assert ack.outcome is Outcome.PARTIALLY_ACCEPTED
    rejected = ack.sets[1]
    assert rejected.outcome is Outcome.REJECTED
    assert rejected.segments[0] == SegmentNote(
        segment_id="CLP",
        position=16,
        loop_id="",
        code="8",
        elements=(ElementNote(3, None, None, "", "7"),),
    )
    written = write_999([ack], group_control_number=1, **ENVELOPE)
    assert b"IK3*CLP*16**8~IK4*3**7~IK5*R*5~" in written
    assert b"AK9*P*2*2*1~" in written
    assert list(read_999(written)) == [ack]


def test_acknowledging_a_count_mismatch_uses_ik502_code_4() -> None:
    reading = read_835(document(PAYMENT_835, se_counts=[3]))
    list(reading)
    [ack] = acknowledge(reading)
    assert ack.sets[0].codes == ("4",)
    assert ack.outcome is Outcome.REJECTED


def test_ta1_reports_interchange_errors() -> None:
    data = document(PAYMENT_835).replace(b"IEA*1*000000001", b"IEA*1*000000002")
    reading = read_835(data)
    list(reading)
    written = write_ta1(reading.interchanges, **ENVELOPE)
    assert b"~TA1*000000001*240102*0304*R*001~IEA*0*000000009~" in written


CODES = st.sampled_from(["A", "E", "R"])
TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=12)


# Built once: a strategy built inside the composite is built, and checked,
# again at every draw, which cost more than the drawing.
set_acknowledgment_lists = st.lists(
    st.builds(
        SetAcknowledgment,
        set_id=st.sampled_from(["837", "835"]),
        control_number=st.integers(1, 10**9 - 1).map("{:04d}".format),
        guide=st.just("005010X222A1"),
        outcome=CODES.map(Outcome),
        codes=st.lists(st.sampled_from(["1", "2", "5", "I5"]), max_size=3, unique=True).map(tuple),
        segments=st.lists(
            st.builds(
                SegmentNote,
                segment_id=st.sampled_from(["CLM", "NM1", "SV1"]),
                position=st.integers(1, 999_999),
                loop_id=st.sampled_from(["", "2300", "2010BA"]),
                code=st.sampled_from(["1", "2", "8", "I4"]),
                contexts=st.lists(
                    st.builds(SegmentContext, name=st.just("CLM01"), reference=TEXT),
                    max_size=2,
                ).map(tuple),
                elements=st.lists(
                    st.builds(
                        ElementNote,
                        element=st.integers(1, 99),
                        component=st.none() | st.integers(1, 9),
                        repetition=st.none() | st.integers(1, 9),
                        reference_number=st.integers(1, 9999).map(str),
                        code=st.sampled_from(["1", "7", "8", "I12"]),
                        bad_value=st.just("") | TEXT,
                    ),
                    max_size=2,
                ).map(tuple),
            ),
            max_size=3,
        ).map(tuple),
    ),
    max_size=4,
)
group_outcomes = st.sampled_from(["A", "E", "P", "R"])
group_code_lists = st.lists(st.sampled_from(["1", "4", "5"]), max_size=2, unique=True)


@st.composite
def acknowledgments(draw: st.DrawFn) -> Acknowledgment:
    sets = draw(set_acknowledgment_lists)
    return Acknowledgment(
        functional_id="HC",
        group_control_number=str(draw(st.integers(1, 10**9 - 1))),
        version="005010X222A1",
        outcome=Outcome(draw(group_outcomes)),
        sets_included=draw(st.integers(0, 99)),
        sets_received=draw(st.integers(0, 99)),
        sets_accepted=draw(st.integers(0, 99)),
        codes=tuple(draw(group_code_lists)),
        sets=tuple(sets),
    )


@settings(max_examples=30, deadline=None)
@given(st.lists(acknowledgments(), min_size=1, max_size=3))
def test_parse_of_written_999s_gives_them_back(acks: list[Acknowledgment]) -> None:
    data = write_999(acks, group_control_number=5, **ENVELOPE)
    reading = read_999(data)
    assert list(reading) == acks
    assert reading.accepted


def test_conformance_999_round_trips() -> None:
    data = (CONFORMANCE / "staedi/x12/simple999.edi").read_bytes()
    acks = list(read_999(data))
    assert list(read_999(write_999(acks, group_control_number=1, **ENVELOPE))) == acks
