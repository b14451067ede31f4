"""The writer core: envelopes, counts, control numbers, separators, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from claimbridge.formats.x12 import (
    OutgoingSet,
    Separators,
    TransactionContext,
    read_transactions,
    tokenize,
    write_interchange,
)
from claimbridge.formats.x12.errors import ElementInvalid
from claimbridge.formats.x12.writer import iter_interchange

NOW = datetime(2024, 3, 5, 14, 7, tzinfo=UTC)


def write(sets: list[OutgoingSet], **options: object) -> bytes:
    settings: dict[str, object] = {
        "sender": "CLAIMBRIDGE",
        "receiver": "PAYER",
        "interchange_control_number": 42,
        "group_control_number": 7,
        "functional_id": "HC",
        "now": NOW,
    }
    settings.update(options)
    return write_interchange(sets, **settings)


def bodies(context: TransactionContext, body: Iterator[list[str]]) -> Iterator[list[str]]:
    yield list(body)  # type: ignore[misc]


def test_envelope_counts_and_control_numbers_are_filled_in() -> None:
    sets = [
        OutgoingSet("837", "005010X222A1", [["BHT", "0019"], ["CLM", "A", "10"]]),
        OutgoingSet("837", "005010X222A1", [["BHT", "0019"]]),
    ]
    data = write(sets)
    segments = list(tokenize(data))
    isa = segments[0]
    assert len(data.split(b"~")[0]) == 105
    assert (isa[6], isa[9], isa[10], isa[13], isa[15]) == (
        "CLAIMBRIDGE    ",
        "240305",
        "1407",
        "000000042",
        "P",
    )
    assert segments[1] == [
        "GS",
        "HC",
        "CLAIMBRIDGE",
        "PAYER",
        "20240305",
        "1407",
        "7",
        "X",
        "005010X222A1",
    ]
    assert ["SE", "4", "0001"] in segments
    assert ["SE", "3", "0002"] in segments
    assert segments[-2:] == [["GE", "2", "7"], ["IEA", "1", "000000042"]]
    reading = read_transactions(data, handlers={"837": bodies})
    assert list(reading) == [[["BHT", "0019"], ["CLM", "A", "10"]], [["BHT", "0019"]]]
    assert reading.accepted


def test_composites_are_joined_and_trailing_empties_dropped() -> None:
    sets = [OutgoingSet("837", "005010X222A1", [["SV1", ("HC", "99213", "", ""), "100", "", ""]])]
    assert b"~SV1*HC:99213*100~" in write(sets)


def test_other_separators_and_line_breaks() -> None:
    separators = Separators(element="|", component=">", repetition=None, segment="!")
    sets = [OutgoingSet("837", "005010X222A1", [["SV1", ("HC", "99213")]])]
    data = write(sets, separators=separators, line_breaks=True)
    assert b"\nSV1|HC>99213!\n" in data
    assert data.split(b"!")[0].endswith(b"|U|00501|000000042|0|P|>")
    assert tokenize(data).separators == separators


@pytest.mark.parametrize("value", ["A*B", "A~B", "A:B", "A^B", "A\nB"])
def test_a_value_containing_a_separator_is_refused(value: str) -> None:
    sets = [OutgoingSet("837", "005010X222A1", [["NM1", "IL", value]])]
    with pytest.raises(ElementInvalid) as raised:
        write(sets)
    assert raised.value.position is not None
    assert (raised.value.position.segment_number, raised.value.position.element) == (2, 2)


@pytest.mark.parametrize(
    "options",
    [
        {"sender": "X" * 16},
        {"interchange_control_number": 0},
        {"group_control_number": 10**9},
        {"usage": "Q"},
        {"functional_id": "HCX"},
        {"sender": "A*B"},
    ],
)
def test_bad_envelope_values_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ElementInvalid):
        write([OutgoingSet("837", "005010X222A1", [["BHT"]])], **options)


def test_no_sets_gives_an_interchange_without_groups() -> None:
    data = write([])
    assert data.endswith(b"~IEA*0*000000042~")
    assert b"GS*" not in data


def test_large_interchanges_stream_in_pieces() -> None:
    body = [["LX", str(number)] for number in range(20_000)]
    pieces = list(
        iter_interchange(
            [OutgoingSet("837", "005010X222A1", body)],
            sender="S",
            receiver="R",
            interchange_control_number=1,
            group_control_number=1,
            functional_id="HC",
            now=NOW,
        )
    )
    assert len(pieces) > 1
    assert all(len(piece) < 80_000 for piece in pieces)
    assert b"SE*20002*0001" in b"".join(pieces)
