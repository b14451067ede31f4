"""The X12 lexer: separators from the ISA, chunked splitting, positions, refusals."""

from __future__ import annotations

import io
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimbridge.formats.x12.errors import (
    EncodingUnsupported,
    ISAMalformed,
    NotX12,
    SegmentTerminatorMissing,
)
from claimbridge.formats.x12.lexer import Segments, Separators, parse_isa, tokenize
from tests.unit.formats.x12.samples import CONFORMANCE, ISA

BODY = "GS*HP*S*R*20240102*0304*1*X*005010X221A1~ST*835*0001~SE*2*0001~GE*1*1~IEA*1*000000001~"
EXPECTED_IDS = ["ISA", "GS", "ST", "SE", "GE", "IEA"]


def ids(segments: Segments) -> list[str]:
    return [segment[0] for segment in segments]


def test_separators_come_from_the_isa_header() -> None:
    segments = tokenize((ISA + BODY).encode())
    assert segments.separators == Separators("*", ":", "^", "~")
    assert ids(segments) == EXPECTED_IDS


def test_elements_are_split_and_components_are_not() -> None:
    text = ISA + "GS*HC*S*R*20240102*0304*1*X*005010X222A1~SV1*HC:99213:25*100~IEA*1*1~"
    segments = list(tokenize(text.encode()))
    assert segments[2] == ["SV1", "HC:99213:25", "100"]
    assert segments[0][16] == ":"
    assert len(segments[0]) == 17


def test_unusual_separators_are_read_from_the_isa() -> None:
    isa = ISA.replace("*", "|").replace(":~", ">!").replace("^", "U")
    text = isa + "GS|HC|S|R!SV1|HC>99213!IEA|1|1!"
    segments = tokenize(text.encode())
    assert segments.separators == Separators("|", ">", None, "!")
    assert [segment[:2] for segment in segments][2] == ["SV1", "HC>99213"]


@pytest.mark.parametrize(
    "layout",
    ["~\n", "~\r\n", "~\r\n    ", "\n", "\r\n"],
    ids=["lf", "crlf", "indented", "newline-terminator", "crlf-terminator"],
)
def test_line_breaks_indentation_and_newline_terminators_give_the_same_segments(
    layout: str,
) -> None:
    plain = list(tokenize((ISA + BODY).encode()))
    text = ISA.removesuffix("~") + layout + BODY.replace("~", layout)
    assert list(tokenize(text.encode())) == plain


def test_a_utf8_byte_order_mark_and_leading_whitespace_are_skipped() -> None:
    text = b"\xef\xbb\xbf\r\n  " + (ISA + BODY).encode()
    assert ids(tokenize(text)) == EXPECTED_IDS


def test_the_last_segment_may_lack_its_terminator() -> None:
    text = (ISA + BODY).removesuffix("~") + "\n"
    assert list(tokenize(text.encode()))[-1] == ["IEA", "1", "000000001"]


@pytest.mark.parametrize("chunk_size", [106, 150, 1 << 16])
def test_a_final_terminator_without_its_line_break_ends_the_input(chunk_size: int) -> None:
    text = (ISA.removesuffix("~") + "~\n" + BODY.replace("~", "~\n")).removesuffix("\n")
    assert ids(tokenize(io.BytesIO(text.encode()), chunk_size=chunk_size)) == EXPECTED_IDS
    twice = (text + "\n" + text).encode()
    assert ids(tokenize(io.BytesIO(twice), chunk_size=chunk_size)) == EXPECTED_IDS * 2


def test_empty_segments_are_skipped() -> None:
    text = ISA + BODY.replace("~ST", "~~ST")
    assert ids(tokenize(text.encode())) == EXPECTED_IDS


@pytest.mark.parametrize("chunk_size", [1, 7, 106, 107, 291, 4096])
def test_chunk_boundaries_do_not_change_the_segments(chunk_size: int) -> None:
    data = (CONFORMANCE / "tastypackets-x12-parser/835/profee.edi").read_bytes()
    whole = list(tokenize(data))
    assert list(tokenize(io.BytesIO(data), chunk_size=chunk_size)) == whole


def test_numbers_and_byte_offsets_describe_the_segment_yielded_last() -> None:
    text = (ISA + BODY).encode()
    segments = tokenize(text)
    seen = []
    for segment in segments:
        seen.append((segment[0], segments.number, segments.offset))
    assert [number for _, number, _ in seen] == [1, 2, 3, 4, 5, 6]
    for segment_id, _, offset in seen:
        assert text[offset : offset + len(segment_id)].decode() == segment_id


def test_offsets_count_bytes_when_names_are_not_ascii() -> None:
    text = (ISA + "GS*HC*S*R~NM1*IL*1*MÜLLER*JOSÉ~N3*1 ELM~IEA*1*1~").encode()
    segments = tokenize(io.BytesIO(text), chunk_size=110)
    found = {segment[0]: segments.offset for segment in segments}
    assert text[found["N3"] : found["N3"] + 2] == b"N3"
    assert list(tokenize(text))[2][3] == "MÜLLER"


def test_position_names_segment_element_and_byte() -> None:
    segments = tokenize((ISA + BODY).encode())
    for segment in segments:
        if segment[0] == "ST":
            break
    where = segments.position(element=2)
    assert (where.segment_number, where.segment_id, where.element) == (3, "ST", 2)
    assert str(where) == f"segment 3 (ST), element 2, byte {where.offset}"


def test_latin1_bytes_are_read_when_the_input_is_not_utf8() -> None:
    text = (ISA + "GS*HC~NM1*IL*1*M\xdcLLER~IEA*1*1~").encode("latin-1")
    assert list(tokenize(text))[2][3] == "MÜLLER"


def test_concatenated_interchanges_may_use_different_separators() -> None:
    second = ISA.replace("*", "|").replace(":~", ">!").replace("^", "U")
    text = ISA + "GS*HC~IEA*1*1~\n" + second + "GS|HC!IEA|1|1!"
    segments = tokenize(text.encode())
    assert ids(segments) == ["ISA", "GS", "IEA", "ISA", "GS", "IEA"]
    assert segments.separators.element == "|"


def test_input_that_is_not_x12_is_refused() -> None:
    with pytest.raises(NotX12):
        tokenize(b"bad_file\n")
    with pytest.raises(NotX12):
        tokenize(b"")


def test_utf16_is_refused_with_a_clear_error() -> None:
    with pytest.raises(EncodingUnsupported, match="UTF-16"):
        tokenize((ISA + BODY).encode("utf-16-le"))


def test_an_isa_that_is_not_fixed_width_is_refused_naming_the_element() -> None:
    short = ISA.replace("*00*          *00*", "*00*         *00*")
    with pytest.raises(ISAMalformed) as raised:
        tokenize((short + BODY).encode())
    assert raised.value.position is not None
    assert raised.value.position.element == 2


def test_an_isa_cut_short_is_refused() -> None:
    with pytest.raises(ISAMalformed):
        tokenize(ISA[:80].encode())


def test_isa_separators_must_differ() -> None:
    with pytest.raises(ISAMalformed):
        parse_isa(ISA.replace(":~", "**"))


def test_a_repetition_separator_equal_to_another_separator_is_dropped() -> None:
    assert parse_isa(ISA.replace("*^*", "*:*")).repetition is None


def test_an_isa_with_nothing_after_it_has_no_terminator() -> None:
    with pytest.raises(SegmentTerminatorMissing):
        tokenize((ISA.removesuffix("~") + "\n").encode())


def test_input_without_terminators_is_refused_in_bounded_time_and_memory() -> None:
    # 8 MiB with no terminator after the ISA: refused once the pending text
    # passes the limit, long before the end of the input.
    stream = io.BytesIO((ISA + "GS*HC*" + "A" * (8 << 20)).encode())
    started = time.perf_counter()
    segments = tokenize(stream, max_segment_length=1 << 20)
    with pytest.raises(SegmentTerminatorMissing) as raised:
        list(segments)
    assert time.perf_counter() - started < 2
    assert stream.tell() < 3 << 20
    assert raised.value.position is not None
    assert raised.value.position.segment_number == 2


SEGMENT_TEXT = st.lists(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-:", max_size=6), min_size=1, max_size=6
).map(lambda elements: ["N" + elements[0].strip(" :")[:2], *elements[1:]])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(SEGMENT_TEXT, max_size=40),
    st.sampled_from(["~", "~\n", "~\r\n", "\n", "~\n  "]),
    st.integers(106, 400),
    st.booleans(),
)
def test_any_layout_and_chunking_gives_back_the_segments_written(
    segments: list[list[str]], layout: str, chunk_size: int, final_break: bool
) -> None:
    written = [segment for segment in segments if any(segment)]
    lines = [ISA.removesuffix("~"), *("*".join(segment) for segment in written), "IEA*1*1"]
    text = layout.join(lines) + (layout if final_break else "")
    found = list(tokenize(io.BytesIO(text.encode()), chunk_size=chunk_size))
    assert found[1:] == [*written, ["IEA", "1", "1"]]
