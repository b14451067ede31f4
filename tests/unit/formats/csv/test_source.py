"""Files that cannot be read at all: each refused at once, naming the row, quoting no cell."""

from __future__ import annotations

import io

import pytest

from claimbridge.formats.csv import MAX_COLUMNS, MAX_ROW_CHARS, CsvUnreadable, read_charges
from claimbridge.formats.csv.errors import (
    BinaryContent,
    DuplicateColumn,
    HeaderMissing,
    MissingColumn,
    NoRows,
    NotUTF8,
    QuotingInvalid,
    RowTooLong,
    TooManyColumns,
    UnknownColumn,
)
from claimbridge.formats.x12.x837p import ProfessionalClaim
from tests.unit.formats.csv.samples import COLUMNS, EXAMPLE, ROW, charge_file, row


def read_all(data: bytes) -> list[ProfessionalClaim]:
    return list(read_charges(data))


def header_line(columns: list[str]) -> bytes:
    return ",".join(columns).encode() + b"\n"


def data_line(cells: dict[str, str] = ROW) -> bytes:
    return charge_file(cells).split(b"\n", 1)[1]


# -- encodings and line ends -----------------------------------------------------------


def test_a_byte_order_mark_is_accepted() -> None:
    claims = read_all(charge_file(row(), bom=True))

    assert [claim.claim_id for claim in claims] == ["C1"]


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_crlf_lf_and_cr_line_ends_read_alike(newline: str) -> None:
    plain = read_all(charge_file(row(), row(claim_id="C2")))
    other = read_all(charge_file(row(), row(claim_id="C2"), newline=newline))

    assert other == plain
    assert len(other) == 2


def test_crlf_split_across_the_decoders_chunks_reads_alike() -> None:
    # Rows of every length around the wrapper's 8 KiB chunk put a CR at the
    # end of a chunk and its LF at the start of the next somewhere.
    rows = [row(claim_id=f"C{n}", patient_account="A" * (n % 50)) for n in range(300)]
    claims = read_all(charge_file(*rows, newline="\r\n"))

    assert [claim.claim_id for claim in claims] == [f"C{n}" for n in range(300)]


def test_example_with_crlf_and_bom_reads_the_same_claims() -> None:
    data = EXAMPLE.read_bytes()
    windows = b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")

    assert read_all(windows) == read_all(data)


def test_non_ascii_names_in_utf8_are_kept() -> None:
    claims = read_all(charge_file(row(patient_last_name="Muñoz-Öztürk")))

    assert claims[0].subscriber.person.name == "Muñoz-Öztürk"


def test_latin1_bytes_are_refused_as_not_utf8() -> None:
    data = charge_file(row(patient_last_name="Muñoz")).decode().encode("latin-1")

    with pytest.raises(NotUTF8) as raised:
        read_all(data)
    assert raised.value.row == 2
    assert "Mu" not in str(raised.value)


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
@pytest.mark.parametrize("bad", [0, 1, 97, 149, 298])
def test_a_bad_byte_far_into_the_file_names_its_row(bad: int, newline: str) -> None:
    rows = [row(claim_id=f"C{n}") for n in range(300)]
    data = charge_file(*rows, newline=newline)
    lines = data.split(newline.encode())
    lines[bad + 1] = lines[bad + 1].replace(b"Zyxwellqv", b"Zyxw\xe9llqv")

    with pytest.raises(NotUTF8) as raised:
        read_all(newline.encode().join(lines))
    assert raised.value.row == bad + 2


def test_utf16_is_refused_and_named() -> None:
    data = charge_file(row()).decode().encode("utf-16")

    with pytest.raises(NotUTF8) as raised:
        read_all(data)
    assert raised.value.message == "The file is UTF-16 text; save it as CSV UTF-8."


@pytest.mark.parametrize("control", ["\x00", "\x01", "\x1b", "\x7f", "\x85"])
def test_control_characters_are_refused_as_binary(control: str) -> None:
    data = charge_file(row(), row(claim_id="C2", patient_first_name=f"Q{control}Z"))

    with pytest.raises(BinaryContent) as raised:
        read_all(data)
    assert raised.value.row == 3


def test_a_zip_archive_is_refused() -> None:
    # What an .xlsx starts with: a ZIP local file header.
    with pytest.raises(CsvUnreadable):
        read_all(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256)))


# -- bounds ----------------------------------------------------------------------------


def test_a_line_longer_than_the_bound_is_refused_with_its_row() -> None:
    data = charge_file(row()) + b"C2," + b"x" * MAX_ROW_CHARS + b"\n"

    with pytest.raises(RowTooLong) as raised:
        read_all(data)
    assert raised.value.row == 3
    assert "xxx" not in str(raised.value)


def test_a_quoted_cell_growing_over_many_lines_is_refused_at_the_bound() -> None:
    data = charge_file(row()) + b'C2,"' + b"line\n" * (MAX_ROW_CHARS // 5 + 10)

    with pytest.raises(RowTooLong) as raised:
        read_all(data)
    assert raised.value.row == 3


def test_a_row_just_under_the_bound_is_read_as_a_row() -> None:
    filler = "x" * (MAX_ROW_CHARS - 2000)
    reading = read_charges(charge_file(row(), row(claim_id="C2", patient_account=filler)))

    assert [claim.claim_id for claim in reading] == ["C1"]
    assert [(error.row, error.column) for error in reading.errors] == [(3, "patient_account")]


def test_a_row_with_too_many_cells_is_refused() -> None:
    data = charge_file(row()) + b"," * MAX_COLUMNS + b"\n"

    with pytest.raises(TooManyColumns) as raised:
        read_all(data)
    assert raised.value.row == 3


@pytest.mark.parametrize("bad", [b'C2,"unclosed\n', b'C2,"closed"then text,x\n'])
def test_quotes_that_do_not_open_and_close_a_cell_are_refused(bad: bytes) -> None:
    with pytest.raises(QuotingInvalid) as raised:
        read_all(charge_file(row()) + bad)
    assert raised.value.row == 3


# -- the header ------------------------------------------------------------------------


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(HeaderMissing) as raised:
        read_all(b"")
    assert raised.value.row == 1


def test_a_header_and_no_rows_is_refused() -> None:
    with pytest.raises(NoRows):
        read_all(charge_file())


def test_a_header_and_only_blank_rows_is_refused() -> None:
    with pytest.raises(NoRows):
        read_all(charge_file() + b"\n,,,\n\n")


def test_a_file_without_header_is_refused_without_quoting_its_first_row() -> None:
    data = data_line() + data_line(row(claim_id="C2"))

    with pytest.raises(HeaderMissing) as raised:
        read_all(data)
    message = str(raised.value)
    assert message.startswith("row 1: the first row names none of the charge template's columns")
    for value in ("Zyxwellqv", "Quentinaz", "MEMQZ123456", "1970-01-02"):
        assert value not in message


def test_semicolon_separated_files_are_refused_with_the_reason() -> None:
    data = charge_file(row()).replace(b",", b";")

    with pytest.raises(HeaderMissing) as raised:
        read_all(data)
    assert "separated by semicolons" in raised.value.message


def test_an_unknown_column_is_refused_by_name_and_place() -> None:
    data = header_line([*COLUMNS, "patient_middle_name"]) + data_line()

    with pytest.raises(UnknownColumn) as raised:
        read_all(data)
    error = raised.value
    assert (error.row, error.column) == (1, "patient_middle_name")
    assert error.message == (
        f"not a column of the charge template: 'patient_middle_name' (column {len(COLUMNS) + 1})."
    )


def test_a_misspelt_column_is_refused_naming_the_required_one_missing() -> None:
    columns = ["sex" if name == "patient_sex" else name for name in COLUMNS]

    with pytest.raises(UnknownColumn) as raised:
        read_all(header_line(columns) + data_line())
    assert raised.value.message == (
        f"not a column of the charge template: 'sex' (column {COLUMNS.index('patient_sex') + 1}); "
        "the required column(s) patient_sex are missing."
    )


def test_an_unknown_column_that_does_not_look_like_a_name_is_not_quoted() -> None:
    odd = "Zyxwellqv, Quentinaz! DOB 1970"
    data = header_line(["claim_id", f'"{odd}"', *COLUMNS[1:]])

    with pytest.raises(UnknownColumn) as raised:
        read_all(data + data_line())
    assert "column 2 (a 30-character name)" in raised.value.message
    assert "Zyxwellqv" not in str(raised.value)
    assert raised.value.column is None


def test_an_empty_column_name_between_others_is_refused() -> None:
    data = header_line(["claim_id", "", *COLUMNS[1:]]) + data_line()

    with pytest.raises(UnknownColumn) as raised:
        read_all(data)
    assert "column 2 (no name)" in raised.value.message


def test_a_column_named_twice_is_refused() -> None:
    data = header_line([*COLUMNS, "Charge"])

    with pytest.raises(DuplicateColumn) as raised:
        read_all(data)
    assert (raised.value.row, raised.value.column) == (1, "charge")


def test_missing_required_columns_are_named_together() -> None:
    columns = [c for c in COLUMNS if c not in ("patient_sex", "charge")]

    with pytest.raises(MissingColumn) as raised:
        read_all(charge_file(row(), columns=columns))
    assert raised.value.message == ("the header lacks the required column(s) patient_sex, charge.")
    assert (raised.value.row, raised.value.column) == (1, "patient_sex")


def test_structural_errors_stop_the_reading_after_claims_already_yielded() -> None:
    data = charge_file(row(), row(claim_id="C2")) + b"C3,\x00\n"
    claims = iter(read_charges(io.BytesIO(data)))

    assert next(claims).claim_id == "C1"
    with pytest.raises(BinaryContent):
        next(claims)
