"""The LEIE reader: OIG's samples load with their quirks; bad rows are named by row and column."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date

import pytest

from claimbridge.formats.cms import CmsError, Exclusion, read_leie
from claimbridge.formats.cms.errors import (
    CellInvalid,
    CellMissing,
    HeaderInvalid,
    HeaderNotFound,
    RowLengthMismatch,
    TableUnreadable,
)
from tests.unit.formats.cms.samples import (
    DOB,
    FIRST_NAME,
    LAST_NAME,
    LEIE,
    LEIE_HEADER,
    leie_file,
    leie_row,
)

# Rows, rows with a real NPI, rows with no birth date, and the DOB form, as
# SOURCES.md ("cms/leie/") counts them.
SAMPLES = {
    "sanc1511.csv": (129, 36, 6, "MM/DD/YY"),
    "rein1511.csv": (51, 7, 0, "MM/DD/YY"),
    "1601EXCL.csv": (484, 62, 7, "MM/DD/YY"),
    "1601REIN.csv": (29, 4, 0, "MM/DD/YY"),
    "1702EXCL.csv": (348, 73, 6, "YYYYMMDD"),
    "1702REIN.csv": (77, 13, 0, "YYYYMMDD"),
}


def read(name: str) -> list[Exclusion]:
    with (LEIE / name).open("rb") as stream:
        return list(read_leie(stream))


def only(data: bytes) -> Exclusion:
    (exclusion,) = read_leie(data)
    return exclusion


def refusal(data: bytes) -> CmsError:
    with pytest.raises(CmsError) as caught:
        list(read_leie(data))
    message = str(caught.value)
    # The row names a (synthetic) person: nothing of them may reach the message.
    for secret in (LAST_NAME, FIRST_NAME, DOB, "12 TEST LANE"):
        assert secret not in message
    return caught.value


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_loads_with_the_counts_sources_md_states(name: str) -> None:
    rows, with_npi, without_birth, _ = SAMPLES[name]
    exclusions = read(name)
    assert len(exclusions) == rows
    assert sum(exclusion.npi is not None for exclusion in exclusions) == with_npi
    assert sum(exclusion.birth_date is None for exclusion in exclusions) == without_birth
    assert all(exclusion.npi is None or len(exclusion.npi) == 10 for exclusion in exclusions)


def test_the_samples_total_1118_rows() -> None:
    assert sum(len(read(name)) for name in SAMPLES) == 1_118


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_birth_dates_in_either_form_never_fall_after_the_exclusion(name: str) -> None:
    exclusions = read(name)
    births = [row.birth_date for row in exclusions if row.birth_date is not None]
    assert all(row.birth_date <= row.exclusion_date for row in exclusions if row.birth_date)
    # Two-digit years of the 2015-2016 files land in the 1900s: nobody is a child.
    assert min(births) > date(1920, 1, 1)
    assert max(births) < date(2000, 1, 1)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_reinstatement_files_carry_reindate_and_exclusion_files_do_not(name: str) -> None:
    exclusions = read(name)
    reinstatements = "REIN" in name.upper()
    assert all((row.reinstatement_date is not None) == reinstatements for row in exclusions)
    assert all(row.waiver_date is None and row.waiver_state is None for row in exclusions)
    for row in exclusions:
        if row.reinstatement_date is not None:
            # Not always later: OIG lists some reinstatements on the exclusion's own day.
            assert row.reinstatement_date >= row.exclusion_date


def test_entities_have_a_business_name_and_no_birth_date() -> None:
    entities = [row for row in read("1601EXCL.csv") if row.is_entity]
    assert len(entities) == 7
    assert all(row.business_name and row.birth_date is None for row in entities)


def test_padded_and_misspelt_exclusion_types_are_normalised_and_kept_raw() -> None:
    types = Counter(row.exclusion_type for row in read("1601EXCL.csv"))
    assert types["1128b4"] == 317
    assert types["1128a1"] == 93  # 91 written "1128a1", 2 written "1128a1   "
    raw = {row.exclusion_type_raw for row in read("1702EXCL.csv")}
    assert "1128a1   " in raw
    rein = {(row.exclusion_type_raw, row.exclusion_type) for row in read("1601REIN.csv")}
    assert ("1128Aa", "1128aa") in rein
    assert ("1128b14", "1128b14") in rein
    assert ("BRCH CIA", "BRCH CIA") in {
        (row.exclusion_type_raw, row.exclusion_type) for row in read("sanc1511.csv")
    }


def test_a_blank_middle_name_of_one_space_reads_as_empty() -> None:
    assert only(leie_file(leie_row(MIDNAME=" "))).middle_name == ""


@pytest.mark.parametrize(
    ("written", "excluded", "born"),
    [
        ("07/13/61", "20151119", date(1961, 7, 13)),
        ("01/01/30", "20160115", date(1930, 1, 1)),
        ("03/04/15", "20160115", date(2015, 3, 4)),  # the latest century not after the exclusion
        ("03/04/15", "20150101", date(1915, 3, 4)),
        ("3/4/1961", "20151119", date(1961, 3, 4)),
        ("19610713", "20170320", date(1961, 7, 13)),
        ("", "20170320", None),
    ],
)
def test_birth_dates_are_read_in_whichever_form_each_value_has(
    written: str, excluded: str, born: date | None
) -> None:
    assert only(leie_file(leie_row(DOB=written, EXCLDATE=excluded))).birth_date == born


def test_two_digit_event_years_use_the_posix_pivot() -> None:
    exclusion = only(leie_file(leie_row(EXCLDATE="11/19/98", REINDATE="02/15/17")))
    assert exclusion.exclusion_date == date(1998, 11, 19)
    assert exclusion.reinstatement_date == date(2017, 2, 15)


def test_an_npi_of_zeros_or_blank_means_none_and_a_real_one_is_kept() -> None:
    assert only(leie_file(leie_row(NPI="0000000000"))).npi is None
    assert only(leie_file(leie_row(NPI=""))).npi is None
    assert only(leie_file(leie_row(NPI="1234567893"))).npi == "1234567893"


def test_columns_are_found_by_name_and_layout_spellings_are_accepted() -> None:
    header = LEIE_HEADER.replace('"ZIP"', '"ZIP CODE"').replace('"WVRSTATE"', '"waiverstate"')
    cells = header.split(",")
    cells[0], cells[3] = cells[3], cells[0]  # BUSNAME first, LASTNAME fourth
    row = leie_row(LASTNAME="", BUSNAME="ACME CLINIC").split(",")
    row[0], row[3] = row[3], row[0]
    exclusion = only(leie_file(",".join(row), header=",".join(cells)))
    assert exclusion.business_name == "ACME CLINIC"
    assert exclusion.is_entity
    assert exclusion.zip_code == "62701"


def test_a_stream_a_byte_order_mark_crlf_and_blank_lines_are_read() -> None:
    data = b"\xef\xbb\xbf" + leie_file(leie_row(), "", leie_row()).replace(b"\n", b"\r\n")
    assert len(list(read_leie(io.BytesIO(data)))) == 2


def test_repr_leaves_out_the_persons_name_birth_date_and_address() -> None:
    text = repr(only(leie_file(leie_row())))
    assert LAST_NAME not in text
    assert FIRST_NAME not in text
    assert "1961" not in text
    assert "TEST LANE" not in text
    assert "1128b4" in text


def test_an_unreadable_date_names_its_row_and_column_but_not_the_value() -> None:
    error = refusal(leie_file(leie_row(), leie_row(DOB="13/45/61")))
    assert isinstance(error, CellInvalid)
    assert (error.row, error.column) == (3, "DOB")
    assert str(error).startswith("row 3, column DOB: ")


@pytest.mark.parametrize("bad", ["2015-11-19", "20151132", "Nov 19 2015", "151119"])
def test_an_exclusion_date_in_no_known_form_is_refused(bad: str) -> None:
    error = refusal(leie_file(leie_row(EXCLDATE=bad)))
    assert isinstance(error, CellInvalid)
    assert (error.row, error.column) == (2, "EXCLDATE")


def test_a_two_digit_birth_after_the_exclusion_in_both_centuries_is_refused() -> None:
    error = refusal(leie_file(leie_row(DOB="07/13/61", EXCLDATE="19600101")))
    assert isinstance(error, CellInvalid)
    assert error.column == "DOB"


def test_a_row_with_a_cell_too_few_names_the_column_it_lacks() -> None:
    short = leie_row().rsplit(",", 1)[0]
    error = refusal(leie_file(leie_row(), short))
    assert isinstance(error, RowLengthMismatch)
    assert (error.row, error.column) == (3, "WVRSTATE")
    assert "17 cells" in error.message


def test_a_short_row_under_a_column_the_layout_lacks_names_it_by_number() -> None:
    error = refusal(leie_file(leie_row(), header=LEIE_HEADER + ',"Zqx Note"'))
    assert isinstance(error, RowLengthMismatch)
    assert (error.row, error.column) == (2, "19")
    assert "Zqx" not in str(error)


def test_a_row_with_a_cell_too_many_names_the_column_past_the_header() -> None:
    error = refusal(leie_file(leie_row() + ',"X"'))
    assert isinstance(error, RowLengthMismatch)
    assert (error.row, error.column) == (2, "19")


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"LASTNAME": "", "BUSNAME": ""}, "LASTNAME"),
        ({"EXCLTYPE": "   "}, "EXCLTYPE"),
        ({"EXCLDATE": "00000000"}, "EXCLDATE"),
        ({"EXCLDATE": ""}, "EXCLDATE"),
    ],
)
def test_a_required_cell_left_empty_is_refused(changes: dict[str, str], column: str) -> None:
    error = refusal(leie_file(leie_row(**changes)))
    assert isinstance(error, CellMissing)
    assert (error.row, error.column) == (2, column)


@pytest.mark.parametrize("npi", ["123456789", "12345678901", "12345X7893"])
def test_an_npi_that_is_not_ten_digits_is_refused(npi: str) -> None:
    error = refusal(leie_file(leie_row(NPI=npi)))
    assert (error.row, error.column) == (2, "NPI")


def test_a_header_without_a_column_names_it() -> None:
    error = refusal(leie_file(leie_row(), header=LEIE_HEADER.replace('"UPIN"', '"UPIN2"')))
    assert isinstance(error, HeaderInvalid)
    assert (error.row, error.column) == (1, "UPIN")


def test_a_header_naming_a_column_twice_is_refused() -> None:
    error = refusal(leie_file(header=LEIE_HEADER + ',"NPI"'))
    assert isinstance(error, HeaderInvalid)
    assert error.column == "NPI"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", HeaderNotFound),
        (b"Column 1\tColumn 2\n", HeaderNotFound),
        (b"PK\x03\x04\x14\x00\x06\x00", TableUnreadable),
        (LEIE_HEADER.encode() + b'\n"A,B\n', TableUnreadable),
    ],
)
def test_files_that_are_not_an_leie_file_are_refused(data: bytes, kind: type[CmsError]) -> None:
    assert isinstance(refusal(data), kind)


def test_a_header_only_file_has_no_rows() -> None:
    assert list(read_leie(leie_file())) == []
