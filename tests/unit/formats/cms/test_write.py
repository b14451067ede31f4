"""Writers: the published layouts, read back into equal records; what cannot be held is refused."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimbridge.formats.cms import (
    Exclusion,
    MueEdit,
    PtpEdit,
    read_leie,
    read_mue,
    read_ptp,
    synthetic_exclusions,
    synthetic_mue_edits,
    synthetic_ptp_edits,
    write_leie,
    write_mue,
    write_ptp,
)
from claimbridge.formats.cms.errors import CellInvalid
from claimbridge.formats.cms.leie import normalise_exclusion_type

EDIT = PtpEdit("K1001", "K2002", False, date(2020, 1, 1), None, 1, "Mutually exclusive procedures")
LIMIT = MueEdit("K1001", 2, 2, "CMS Policy")


def written(write: Callable[..., int], records: Iterable[object], **options: str) -> bytes:
    out = io.BytesIO()
    write(records, out, **options)
    return out.getvalue()


@pytest.mark.parametrize("delimiter", ["\t", ","])
def test_synthetic_ptp_tables_read_back_equal(delimiter: str) -> None:
    edits = list(synthetic_ptp_edits(5_000, seed=11))
    out = io.BytesIO()
    assert write_ptp(edits, out, delimiter=delimiter) == 5_000  # type: ignore[arg-type]
    assert list(read_ptp(out.getvalue())) == edits


@pytest.mark.parametrize("delimiter", ["\t", ","])
@pytest.mark.parametrize("services", ["practitioner", "outpatient hospital", "DME supplier"])
def test_synthetic_mue_tables_read_back_equal(delimiter: str, services: str) -> None:
    edits = list(synthetic_mue_edits(2_000, seed=5))
    data = written(write_mue, edits, delimiter=delimiter, services=services)
    assert list(read_mue(data, services=services)) == edits  # type: ignore[arg-type]


@pytest.mark.parametrize("dates", ["YYYYMMDD", "MM/DD/YY"])
@pytest.mark.parametrize("reinstated", [False, True])
def test_synthetic_leie_files_read_back_equal(dates: str, reinstated: bool) -> None:
    exclusions = list(synthetic_exclusions(1_000, seed=3, reinstated=reinstated))
    assert list(read_leie(written(write_leie, exclusions, dates=dates))) == exclusions


def test_the_ptp_txt_has_cms_notice_title_and_four_header_rows_with_crlf() -> None:
    lines = written(write_ptp, [EDIT]).split(b"\r\n")
    assert b"no CPT content" in lines[0]
    assert lines[1].startswith(b"Column1/Column2 Edits\t")
    assert lines[2].startswith(b"Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\t")
    assert lines[4] == b"\t\t\t\t*=no data\t1=allowed\t"
    assert lines[6] == b"K1001\tK2002\t\t20200101\t*\t1\tMutually exclusive procedures"
    assert lines[7] == b""


def test_the_mue_csv_has_a_quoted_two_line_notice_and_the_split_code_header() -> None:
    data = written(write_mue, [LIMIT])
    assert data.startswith(b'"Synthetic NCCI MUE table')
    assert b'"HCPCS/\nCPT Code",Practitioner Services MUE Values,' in data
    assert data.endswith(b"\r\nK1001,2,2 Date of Service Edit: Policy,CMS Policy\r\n")


def test_the_leie_csv_quotes_filled_cells_and_keeps_oigs_quirks() -> None:
    (exclusion,) = synthetic_exclusions(1, seed=1)
    exclusion = _replace(exclusion, middle_name="", npi=None, exclusion_type_raw="1128a1   ")
    lines = written(write_leie, [exclusion], dates="MM/DD/YY").split(b"\n")
    assert lines[0].startswith(b'"LASTNAME","FIRSTNAME","MIDNAME",')
    row = lines[1]
    assert b'," ",' in row  # the blank middle name
    assert b',"0000000000",' in row
    assert b',"1128a1   ",' in row
    assert row.endswith(b',"00000000","00000000",')  # no reinstatement, no waiver, no state
    assert lines[2] == b""


@pytest.mark.parametrize(
    ("edit", "column"),
    [
        (PtpEdit("k1001", "K2002", False, date(2020, 1, 1), None, 1, ""), "Column 1"),
        (PtpEdit("K1001", "K20021", False, date(2020, 1, 1), None, 1, ""), "Column 2"),
        (PtpEdit("K1001", "K2002", False, date(2020, 1, 1), None, 2, ""), "Modifier"),
        (PtpEdit("K1001", "K2002", False, date(2020, 1, 1), None, 1, "a\tb"), "PTP Edit Rationale"),
        (PtpEdit("K1001", "K2002", False, date(2020, 1, 1), None, 1, " a"), "PTP Edit Rationale"),
        (
            PtpEdit("K1001", "K2002", False, date(2020, 1, 1), None, 1, 'a "b"'),
            "PTP Edit Rationale",
        ),
    ],
)
def test_a_ptp_edit_the_layout_cannot_carry_is_refused(edit: PtpEdit, column: str) -> None:
    with pytest.raises(CellInvalid) as caught:
        written(write_ptp, [EDIT, edit])
    assert (caught.value.row, caught.value.column) == (8, column)


@pytest.mark.parametrize(
    ("limit", "column"),
    [
        (MueEdit("K1001", 2, 4, ""), "MUE Adjudication Indicator"),
        (MueEdit("K1001", -1, 1, ""), "MUE Values"),
        (MueEdit("K 001", 2, 1, ""), "HCPCS/CPT Code"),
        (MueEdit("K1001", 2, 1, "two\nlines"), "MUE Rationale"),
    ],
)
def test_an_mue_edit_the_layout_cannot_carry_is_refused(limit: MueEdit, column: str) -> None:
    with pytest.raises(CellInvalid) as caught:
        written(write_mue, [limit])
    assert (caught.value.row, caught.value.column) == (3, column)


def test_a_birth_date_a_two_digit_year_would_move_is_refused() -> None:
    (exclusion,) = synthetic_exclusions(1, seed=2)
    old = _replace(exclusion, birth_date=date(1890, 5, 6), exclusion_date=date(2016, 1, 1))
    assert list(read_leie(written(write_leie, [old]))) == [old]  # four digits carry it
    with pytest.raises(CellInvalid) as caught:
        written(write_leie, [old], dates="MM/DD/YY")
    assert (caught.value.row, caught.value.column) == (2, "DOB")


def test_leie_text_with_a_quote_or_outer_spaces_is_refused() -> None:
    (exclusion,) = synthetic_exclusions(1, seed=2)
    for changed in (_replace(exclusion, city='A "B"'), _replace(exclusion, city="CITY ")):
        with pytest.raises(CellInvalid) as caught:
            written(write_leie, [changed])
        assert caught.value.column == "CITY"


def test_writing_and_reading_a_table_takes_bounded_memory() -> None:
    out = io.BytesIO()
    tracemalloc.start()
    try:
        write_ptp(synthetic_ptp_edits(15_000, seed=1), out)
        _, written_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        count = sum(1 for _ in read_ptp(io.BytesIO(out.getvalue())))
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 15_000
    file_size = len(out.getvalue())
    # The written file is held in the BytesIO (and copied once to read it);
    # beyond that, a block of rows and the caches of distinct values.
    assert written_peak < file_size + 8_000_000
    assert read_peak < 2 * file_size + 8_000_000


def _replace(exclusion: Exclusion, **changes: object) -> Exclusion:
    return replace(exclusion, **changes)  # type: ignore[arg-type]


# --- properties: read(write(x)) == x for whatever the layouts can carry ---------------------

codes = st.from_regex(r"[A-Z0-9]{5}", fullmatch=True)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
# Printable text the layouts keep as it is: no quote, no control, single inner spaces.
words = st.text(
    st.characters(
        min_codepoint=0x20,
        max_codepoint=0x2FF,
        exclude_characters='"',
        exclude_categories=("Cc", "Cf", "Cs"),
    ),
    max_size=40,
).map(lambda text: " ".join(text.split()))

ptp_edits = st.builds(
    PtpEdit,
    column1=codes,
    column2=codes,
    exists_before_1996=st.booleans(),
    effective=dates,
    deleted=st.none() | dates,
    modifier_indicator=st.sampled_from([0, 1, 9]),
    rationale=words,
)
mue_edits = st.builds(
    MueEdit,
    code=codes,
    max_units=st.integers(min_value=0, max_value=999_999_999),
    adjudication_indicator=st.sampled_from([1, 2, 3]),
    rationale=words,
)


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(ptp_edits, max_size=8), st.sampled_from(["\t", ","]))
def test_any_ptp_edits_read_back_equal(edits: list[PtpEdit], delimiter: str) -> None:
    assert list(read_ptp(written(write_ptp, edits, delimiter=delimiter))) == edits


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(mue_edits, max_size=8), st.sampled_from(["\t", ","]))
def test_any_mue_edits_read_back_equal(edits: list[MueEdit], delimiter: str) -> None:
    assert list(read_mue(written(write_mue, edits, delimiter=delimiter))) == edits


# Built once: a strategy built inside the composite is built, and checked,
# again at every draw (``from_regex`` above all), which cost more than drawing.
nonempty_words = words.filter(bool)
maybe_npis = st.none() | st.from_regex(r"[12][0-9]{9}", fullmatch=True)
maybe_dates = st.none() | dates
exclusion_types = st.sampled_from(["1128a1", "1128a1   ", "1128Aa", "BRCH CIA"])
maybe_waiver_states = st.none() | st.sampled_from(["NY", "TX"])


@st.composite
def exclusions(draw: st.DrawFn) -> Exclusion:
    (base,) = synthetic_exclusions(1, seed=draw(st.integers(0, 10_000)))
    entity = draw(st.booleans())
    excluded = draw(dates)
    name = nonempty_words
    return _replace(
        base,
        last_name="" if entity else draw(name),
        first_name=draw(words),
        middle_name=draw(words),
        business_name=draw(name) if entity else draw(words),
        npi=draw(maybe_npis),
        birth_date=draw(maybe_dates),
        exclusion_type_raw=(raw := draw(exclusion_types)),
        exclusion_type=normalise_exclusion_type(raw),
        exclusion_date=excluded,
        reinstatement_date=draw(maybe_dates),
        waiver_date=draw(maybe_dates),
        waiver_state=draw(maybe_waiver_states),
    )


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(exclusions(), max_size=5))
def test_any_exclusions_read_back_equal(rows: list[Exclusion]) -> None:
    assert list(read_leie(written(write_leie, rows))) == rows
