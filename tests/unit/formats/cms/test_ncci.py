"""The NCCI readers: CMS's header quirks are read through; bad rows are named by row and column."""

from __future__ import annotations

import io
from datetime import date

import pytest

from claimbridge.formats.cms import CmsError, MueEdit, PtpEdit, cells, read_mue, read_ptp
from claimbridge.formats.cms.errors import (
    CellInvalid,
    CellMissing,
    HeaderInvalid,
    HeaderNotFound,
    RowLengthMismatch,
    TableUnreadable,
)
from claimbridge.formats.cms.headers import MAX_PREAMBLE_ROWS
from claimbridge.formats.cms.source import MAX_ROW_CHARS
from tests.unit.formats.cms.samples import (
    MUE_PREAMBLE,
    MUE_ROWS,
    PTP_PREAMBLE,
    PTP_ROWS,
    mue_file,
    ptp_file,
)

EXPECTED_PTP = [
    PtpEdit(
        "K1001",
        "K2002",
        True,
        date(1996, 1, 1),
        None,
        0,
        "Misuse of column two code with column one code",
    ),
    PtpEdit(
        "K1001",
        "K2003",
        False,
        date(2013, 1, 1),
        date(2020, 1, 1),
        9,
        "Mutually exclusive procedures",
    ),
    PtpEdit(
        "K1001",
        "K2004",
        False,
        date(2015, 4, 1),
        None,
        1,
        "Standards of medical / surgical practice",
    ),
]
EXPECTED_MUE = [
    MueEdit("K1001", 2, 2, "Anatomic Consideration"),
    MueEdit("K1002", 12, 1, "Clinical: Data"),
    MueEdit("K1003", 1, 3, "CMS Policy"),
]


def ptp_refusal(data: bytes) -> CmsError:
    with pytest.raises(CmsError) as caught:
        list(read_ptp(data))
    return caught.value


def mue_refusal(data: bytes, **options: None) -> CmsError:
    with pytest.raises(CmsError) as caught:
        list(read_mue(data, **options))
    return caught.value


# --- PTP: the layout and its quirks -------------------------------------------------


def test_the_txt_layout_with_its_split_header_is_read() -> None:
    assert list(read_ptp(ptp_file(*PTP_ROWS))) == EXPECTED_PTP


def test_the_header_may_be_one_row_below_blank_lines() -> None:
    preamble = [
        "CPT only copyright American Medical Association.",
        "",
        "",
        "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\t"
        "Deletion Date *=no data\tModifier 0=not allowed 1=allowed 9=not applicable\t"
        "PTP Edit Rationale",
    ]
    assert list(read_ptp(ptp_file(*PTP_ROWS, preamble=preamble))) == EXPECTED_PTP


def test_the_csv_variant_with_line_breaks_in_its_header_cells_is_read() -> None:
    data = (
        '"CPT only copyright 2025 American Medical Association. All rights reserved.",,,,,,\n'
        "Column1/Column2 Edits,,,,,,\n"
        'Column1,Column2,"*=in existence\nprior to 1996","Effective\nDate",'
        '"Deletion\nDate\n*=no data","Modifier\n0=not allowed\n1=allowed\n9=not applicable",'
        "PTP Edit Rationale\n" + "".join(row.replace("\t", ",") + "\n" for row in PTP_ROWS)
    ).encode()
    assert list(read_ptp(io.BytesIO(data))) == EXPECTED_PTP


def test_a_header_split_over_six_rows_is_merged() -> None:
    # Six rows is the most merged; the row after them is the first edit.
    preamble = [
        *PTP_PREAMBLE[:2],
        "Column 1\tColumn 2\t*=in\tEffective\tDeletion\tModifier\tPTP Edit",
        "\t\texistence\tDate\tDate\t0=not allowed\tRationale",
        "\t\tprior\t\t*=no\t1=allowed",
        "\t\tto\t\tdata\t9=not",
        "\t\t1996\t\t\tapplicable",
        "\t\t\t\t\t\t(see the manual)",
    ]
    assert list(read_ptp(ptp_file(*PTP_ROWS, preamble=preamble))) == EXPECTED_PTP


def test_values_past_the_cache_bound_are_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cells, "MEMO_LIMIT", 2)
    assert list(read_ptp(ptp_file(*PTP_ROWS))) == EXPECTED_PTP


def test_older_tables_without_a_rationale_column_read_an_empty_rationale() -> None:
    preamble = [line.rsplit("\t", 1)[0] for line in PTP_PREAMBLE]
    rows = [row.rsplit("\t", 1)[0] for row in PTP_ROWS]
    edits = list(read_ptp(ptp_file(*rows, preamble=preamble)))
    assert [edit.rationale for edit in edits] == ["", "", ""]
    assert [edit.column2 for edit in edits] == ["K2002", "K2003", "K2004"]


def test_a_deletion_date_of_star_or_empty_means_in_force() -> None:
    edits = list(read_ptp(ptp_file(*PTP_ROWS)))
    assert [edit.deleted for edit in edits] == [None, date(2020, 1, 1), None]


def test_padding_blank_rows_spaced_lower_case_codes_and_lf_line_ends_are_read() -> None:
    padded = (
        PTP_ROWS[0]
        .replace("K1001\tK2002", "k1001\t k2002 ")
        .replace("\t0\t", "\t 0 \t")
        .replace("\t*\t1996", "\t * \t1996")
    )
    padded += "\t\t"
    rows = [padded, "", "\t\t\t\t\t\t", PTP_ROWS[1], PTP_ROWS[2]]
    assert list(read_ptp(ptp_file(*rows, newline="\n"))) == EXPECTED_PTP


def test_a_missing_trailing_cell_reads_as_empty() -> None:
    (edit,) = read_ptp(ptp_file("K1001\tK2002\t\t20200101\t*\t1"))
    assert edit.rationale == ""


def test_a_windows_1252_notice_and_a_byte_order_mark_are_read() -> None:
    preamble = [
        "\ufeffCPT only copyright \u00a9 2025 American Medical Association.",
        *PTP_PREAMBLE[2:],
    ]
    data = ptp_file(*PTP_ROWS, preamble=preamble[1:])
    notice = "CPT only copyright \u00a9 2025 American Medical Association.\r\n".encode("cp1252")
    assert list(read_ptp(b"\xef\xbb\xbf" + notice + data)) == EXPECTED_PTP


def test_equal_values_are_the_same_objects() -> None:
    first, second, _ = read_ptp(ptp_file(*PTP_ROWS))
    assert first.column1 is second.column1


# --- PTP: refusals ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "kind", "column"),
    [
        ("K1001\tK2002\t\t2020-01-01\t*\t1\tX", CellInvalid, "Effective Date"),
        ("K1001\tK2002\t\t\t*\t1\tX", CellMissing, "Effective Date"),
        ("K1001\tK2002\t\t20200101\t20201301\t1\tX", CellInvalid, "Deletion Date"),
        ("K1001\tK2002\t\t20200101\t*\t2\tX", CellInvalid, "Modifier"),
        ("K1001\tK2002\t\t20200101\t*\t\tX", CellInvalid, "Modifier"),
        ("K1001\tK2002\tY\t20200101\t*\t1\tX", CellInvalid, "*=in existence prior to 1996"),
        ("K100\tK2002\t\t20200101\t*\t1\tX", CellInvalid, "Column 1"),
        ("K1001\t\t\t20200101\t*\t1\tX", CellMissing, "Column 2"),
        ("K1001\tK2002\t\t20200101\t*\t1\tX\tEXTRA", RowLengthMismatch, "8"),
    ],
)
def test_a_bad_ptp_row_is_refused_naming_row_and_column(
    cells: str, kind: type[CmsError], column: str
) -> None:
    error = ptp_refusal(ptp_file(PTP_ROWS[0], cells))
    assert isinstance(error, kind)
    assert (error.row, error.column) == (8, column)
    assert str(error).startswith(f"row 8, column {column}: ")


def test_a_file_without_the_ptp_header_is_refused() -> None:
    error = ptp_refusal(mue_file(*MUE_ROWS))
    assert isinstance(error, HeaderNotFound)
    notices = ["notice"] * MAX_PREAMBLE_ROWS
    assert isinstance(
        ptp_refusal(ptp_file(*PTP_ROWS, preamble=notices + PTP_PREAMBLE)), HeaderNotFound
    )


def test_a_header_with_a_wrong_column_names_it() -> None:
    preamble = [line.replace("Effective", "Start") for line in PTP_PREAMBLE]
    error = ptp_refusal(ptp_file(*PTP_ROWS, preamble=preamble))
    assert isinstance(error, HeaderInvalid)
    assert (error.row, error.column) == (3, "Effective Date")


def test_a_header_with_a_column_past_the_layout_is_refused() -> None:
    preamble = [*PTP_PREAMBLE[:2], PTP_PREAMBLE[2] + "\tNotes", *PTP_PREAMBLE[3:]]
    error = ptp_refusal(ptp_file(*PTP_ROWS, preamble=preamble))
    assert isinstance(error, HeaderInvalid)
    assert error.column == "8"


def test_a_row_past_the_length_bound_or_with_control_bytes_is_unreadable() -> None:
    error = ptp_refusal(ptp_file(PTP_ROWS[0], "K1001\t" + "x" * MAX_ROW_CHARS))
    assert isinstance(error, TableUnreadable)
    assert error.row == 8
    error = ptp_refusal(ptp_file(PTP_ROWS[0]) + b"K1001\tK2\x00002\n")
    assert isinstance(error, TableUnreadable)
    assert error.row == 8


def test_an_unclosed_quote_is_unreadable() -> None:
    error = ptp_refusal(ptp_file(PTP_ROWS[0], 'K1001\tK2002\t\t20200101\t*\t1\t"Open'))
    assert isinstance(error, TableUnreadable)
    assert error.row == 8


# --- MUE ----------------------------------------------------------------------------


def test_the_mue_csv_with_its_multi_line_notice_and_header_is_read() -> None:
    assert list(read_mue(mue_file(*MUE_ROWS))) == EXPECTED_MUE


def test_a_tab_delimited_mue_table_blank_rows_and_bare_indicator_digits_are_read() -> None:
    preamble = [
        "HCPCS/CPT Code\tPractitioner Services MUE Values\t"
        "MUE Adjudication Indicator\tMUE Rationale"
    ]
    rows = ["K1001\t2\t2\tAnatomic Consideration", "", "K1002\t12\t1 Line Edit\tClinical: Data"]
    edits = list(read_mue(mue_file(*rows, preamble=preamble)))
    assert edits == EXPECTED_MUE[:2]


def test_an_mue_table_without_a_rationale_column_reads_an_empty_rationale() -> None:
    preamble = ['"HCPCS/\nCPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator']
    (edit,) = read_mue(mue_file("K1001,2,2 Date of Service Edit: Policy", preamble=preamble))
    assert edit == MueEdit("K1001", 2, 2, "")


def test_another_services_table_is_refused_unless_any_is_asked_for() -> None:
    preamble = [MUE_PREAMBLE[0], MUE_PREAMBLE[1].replace("Practitioner", "DME Supplier")]
    data = mue_file(*MUE_ROWS, preamble=preamble)
    error = mue_refusal(data)
    assert isinstance(error, HeaderInvalid)
    assert (error.row, error.column) == (2, "MUE Values")
    assert "DME supplier" in error.message
    assert list(read_mue(data, services=None)) == EXPECTED_MUE
    assert list(read_mue(data, services="DME supplier")) == EXPECTED_MUE


@pytest.mark.parametrize(
    ("row", "kind", "column"),
    [
        ("K1004,1.5,1 Line Edit,X", CellInvalid, "MUE Values"),
        ("K1004,-1,1 Line Edit,X", CellInvalid, "MUE Values"),
        ("K1004,,1 Line Edit,X", CellMissing, "MUE Values"),
        ("K1004,1,4 Something,X", CellInvalid, "MUE Adjudication Indicator"),
        ("K1004,1,Line Edit,X", CellInvalid, "MUE Adjudication Indicator"),
        # "12" was read as units above; as an indicator it is still refused.
        ("K1004,1,12,X", CellInvalid, "MUE Adjudication Indicator"),
        ("K1004,1,,X", CellMissing, "MUE Adjudication Indicator"),
        (",1,1 Line Edit,X", CellMissing, "HCPCS/CPT Code"),
        ("K1004,1,1 Line Edit,X,Y", RowLengthMismatch, "5"),
    ],
)
def test_a_bad_mue_row_is_refused_naming_row_and_column(
    row: str, kind: type[CmsError], column: str
) -> None:
    error = mue_refusal(mue_file(*MUE_ROWS, row))
    assert isinstance(error, kind)
    assert (error.row, error.column) == (6, column)


def test_a_file_without_the_mue_header_is_refused() -> None:
    assert isinstance(mue_refusal(ptp_file(*PTP_ROWS)), HeaderNotFound)
    assert isinstance(mue_refusal(b""), HeaderNotFound)
