"""Envelope checks and the transaction driver: codes, positions, one bad set at a time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from claimbridge.formats.x12 import (
    Outcome,
    Reading,
    TransactionContext,
    X12Error,
    read_transactions,
)
from claimbridge.formats.x12.errors import (
    DuplicateControlNumber,
    ElementInvalid,
    GroupCountMismatch,
    GuideUnsupported,
    SegmentCountMismatch,
    SetCountMismatch,
    TrailerMissing,
    UnexpectedSegment,
)
from tests.unit.formats.x12.samples import ISA, document


def segment_ids(context: TransactionContext, body: Iterator[list[str]]) -> Iterator[str]:
    for segment in body:
        yield f"{context.control_number}:{segment[0]}"


def refuse_second(context: TransactionContext, body: Iterator[list[str]]) -> Iterator[str]:
    for segment in body:
        if context.control_number == "0002":
            raise ElementInvalid("bad", position=context.position(1))
        yield segment[0]


def read(data: bytes, handler: object = segment_ids) -> tuple[list[str], Reading[str]]:
    reading = read_transactions(data, handlers={"835": handler})  # type: ignore[dict-item]
    return list(reading), reading


def test_bodies_reach_the_handler_and_sets_are_accepted() -> None:
    records, reading = read(document(["BPR*X", "TRN*1"], ["BPR*Y"]))
    assert records == ["0001:BPR", "0001:TRN", "0002:BPR"]
    assert [result.outcome for result in reading.results] == [Outcome.ACCEPTED] * 2
    assert reading.accepted
    assert reading.groups[0].outcome is Outcome.ACCEPTED
    assert reading.interchanges[0].note_code == "000"
    reading.raise_for_errors()


def test_context_carries_the_envelope() -> None:
    seen: list[TransactionContext] = []

    def handler(context: TransactionContext, body: Iterator[list[str]]) -> Iterator[str]:
        seen.append(context)
        yield from (segment[0] for segment in body)

    read(document(["BPR*X"]), handler)
    context = seen[0]
    assert (context.set_id, context.control_number, context.guide) == (
        "835",
        "0001",
        "005010X221A1",
    )
    assert (context.functional_id, context.sender, context.receiver) == ("HP", "S", "R")
    assert (context.interchange_sender, context.interchange_control_number) == (
        "SENDER",
        "000000001",
    )
    assert context.separators.component == ":"


def test_a_handler_error_rejects_only_its_set() -> None:
    records, reading = read(document(["BPR*1"], ["BPR*2"], ["BPR*3"]), refuse_second)
    assert records == ["BPR", "BPR"]
    outcomes = [result.outcome for result in reading.results]
    assert outcomes == [Outcome.ACCEPTED, Outcome.REJECTED, Outcome.ACCEPTED]
    assert reading.groups[0].outcome is Outcome.PARTIALLY_ACCEPTED
    error = reading.results[1].errors[0]
    assert error.position is not None
    assert (error.position.segment_id, error.position.element) == ("BPR", 1)
    assert reading.results[1].segment_in_set(error.position) == 2
    with pytest.raises(ElementInvalid):
        reading.raise_for_errors()


def test_a_handler_that_stops_early_still_gets_its_set_counted() -> None:
    def first_only(context: TransactionContext, body: Iterator[list[str]]) -> Iterator[str]:
        yield next(body)[0]

    records, reading = read(document(["BPR*1", "TRN*1", "REF*1"], ["BPR*2"]), first_only)
    assert records == ["BPR", "BPR"]
    assert reading.accepted


def test_wrong_se01_is_a_segment_count_mismatch_with_ik502_code_4() -> None:
    _, reading = read(document(["BPR*X"], se_counts=[5]))
    error = reading.results[0].errors[0]
    assert isinstance(error, SegmentCountMismatch)
    assert error.set_code == "4"
    assert reading.results[0].outcome is Outcome.REJECTED
    assert "SE01 says 5 segments; the set has 3" in error.message


def test_mismatched_control_numbers_are_reported_at_each_level() -> None:
    data = document(["BPR*X"]).replace(b"SE*3*0001", b"SE*3*0009")
    data = data.replace(b"GE*1*1", b"GE*1*7").replace(b"IEA*1*000000001", b"IEA*1*000000002")
    _, reading = read(data)
    codes = {
        (type(e).__name__, e.set_code, e.group_code, e.interchange_code) for e in reading.errors
    }
    assert ("ControlNumberMismatch", "3", None, None) in codes
    assert ("ControlNumberMismatch", "", "4", None) in codes
    assert ("ControlNumberMismatch", "", None, "001") in codes
    assert reading.interchanges[0].outcome is Outcome.REJECTED
    assert reading.interchanges[0].note_code == "001"


def test_wrong_ge01_and_iea01_counts_are_reported() -> None:
    data = document(["BPR*X"]).replace(b"GE*1*1", b"GE*3*1").replace(b"IEA*1*", b"IEA*2*")
    _, reading = read(data)
    kinds = {type(error) for error in reading.errors}
    assert {SetCountMismatch, GroupCountMismatch} <= kinds
    assert reading.groups[0].outcome is Outcome.REJECTED
    assert reading.groups[0].declared_set_count == 3


def test_missing_trailers_are_reported_with_their_codes() -> None:
    data = document(["BPR*X"]).split(b"SE*")[0]
    _, reading = read(data)
    missing = [error for error in reading.errors if isinstance(error, TrailerMissing)]
    assert {error.message for error in missing} == {
        "The SE trailer is missing.",
        "The GE trailer is missing.",
        "The IEA trailer is missing.",
    }
    assert reading.results[0].errors[0].set_code == "2"
    assert reading.interchanges[0].note_code == "023"


def test_a_set_without_se_does_not_swallow_the_next_set() -> None:
    data = document(["BPR*1"], ["BPR*2"]).replace(b"SE*3*0001~", b"")
    records, reading = read(data)
    assert records == ["0001:BPR", "0002:BPR"]
    assert [result.outcome for result in reading.results] == [Outcome.REJECTED, Outcome.ACCEPTED]


def test_duplicate_control_numbers_are_refused() -> None:
    data = document(["BPR*1"], ["BPR*2"]).replace(b"0002", b"0001")
    _, reading = read(data)
    assert isinstance(reading.results[1].errors[0], DuplicateControlNumber)
    twice = document(["BPR*1"]) * 2
    _, reading = read(twice)
    assert reading.interchanges[1].note_code == "025"
    assert reading.interchanges[0].outcome is Outcome.ACCEPTED


def test_unknown_transaction_sets_are_rejected_as_not_supported() -> None:
    _, reading = read(document(["BHT*1"], set_id="270", functional_id="HS"))
    error = reading.results[0].errors[0]
    assert isinstance(error, GuideUnsupported)
    assert error.set_code == "1"


def test_segments_outside_sets_and_groups_are_unexpected() -> None:
    data = document(["BPR*X"]).replace(b"~ST*", b"~HL*1**20~ST*", 1)
    _, reading = read(data)
    assert isinstance(reading.groups[0].errors[0], UnexpectedSegment)
    data = document(["BPR*X"]) + b"NM1*XX~"
    _, reading = read(data)
    assert isinstance(reading.stray[0], UnexpectedSegment)


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        (b"*00*          *00*", b"*07*          *00*", "010"),
        (b"*ZZ*SENDER", b"*QQ*SENDER", "005"),
        (b"*240102*", b"*241302*", "014"),
        (b"*0304*^", b"*2504*^", "015"),
        (b"*000000001*0*P", b"*00000000A*0*P", "018"),
        (b"*0*P*:", b"*0*X*:", "020"),
    ],
)
def test_isa_field_errors_carry_their_ta1_codes(old: bytes, new: bytes, code: str) -> None:
    data = document(["BPR*X"]).replace(old, new, 1)
    _, reading = read(data)
    assert reading.interchanges[0].note_code == code
    assert reading.interchanges[0].outcome is Outcome.REJECTED


def test_an_old_isa12_version_is_only_noted() -> None:
    data = document(["BPR*X"]).replace(b"*00501*", b"*00401*", 1)
    _, reading = read(data)
    assert reading.interchanges[0].outcome is Outcome.ACCEPTED_WITH_ERRORS
    assert reading.interchanges[0].note_code == "017"
    reading.raise_for_errors()


def test_gs_field_errors_reject_the_group() -> None:
    data = document(["BPR*X"]).replace(b"20240102*0304*1*X", b"20080543*0304*1*X")
    _, reading = read(data)
    assert reading.groups[0].outcome is Outcome.REJECTED
    error = reading.groups[0].errors[0]
    assert error.position is not None
    assert (error.position.segment_id, error.position.element) == ("GS", 4)


def test_st03_that_differs_from_gs08_is_noted() -> None:
    data = document(["BPR*X"]).replace(b"ST*835*0001*005010X221A1", b"ST*835*0001*005010X221")
    _, reading = read(data)
    assert reading.results[0].outcome is Outcome.ACCEPTED_WITH_ERRORS
    assert reading.results[0].guide == "005010X221"


def test_a_reading_is_iterated_once() -> None:
    reading = read_transactions(document(["BPR*X"]), handlers={})
    list(reading)
    with pytest.raises(RuntimeError):
        iter(reading)


def test_unreadable_input_raises_from_the_iteration() -> None:
    reading = read_transactions(b"not x12", handlers={})
    with pytest.raises(X12Error):
        list(reading)


def test_an_interchange_without_groups_is_accepted() -> None:
    _, reading = read((ISA + "IEA*0*000000001~").encode())
    assert reading.accepted
    assert reading.interchanges[0].groups == ()


def test_controls_of_wrong_shape_are_refused() -> None:
    data = document(["BPR*X"]).replace(b"*0001", b"*01")
    _, reading = read(data)
    assert [error.set_code for error in reading.results[0].errors] == ["7"]
