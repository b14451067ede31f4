"""NCCI tables in memory: every PTP row and MUE edit comes back as CMS's files state it."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Literal

import pytest

from claimbridge.formats.cms import (
    CmsError,
    MueEdit,
    MueServices,
    PtpEdit,
    synthetic_mue_edits,
    synthetic_ptp_edits,
    write_mue,
    write_ptp,
)
from claimbridge.integrity.tables.ncci import MueIndex, PtpIndex, load_mue, load_ptp

OLD = PtpEdit("K1001", "K2002", True, date(1996, 1, 1), None, 0, "Misuse of column two code")
DELETED = PtpEdit(
    "K1001", "K2003", False, date(2013, 1, 1), date(2020, 1, 1), 9, "Mutually exclusive"
)
READDED = PtpEdit("K1001", "K2003", False, date(2021, 7, 1), None, 1, "Mutually exclusive")
NO_RATIONALE = PtpEdit("A4550", "K1001", False, date(2024, 10, 1), None, 1, "")
Delimiter = Literal["\t", ","]
EDITS = [OLD, DELETED, READDED, NO_RATIONALE]
MUES = [
    MueEdit("K1001", 2, 2, "Anatomic Consideration"),
    MueEdit("K2002", 1, 1, "Nature of Service/Procedure"),
    MueEdit("J1100", 30, 3, "Clinical: Data"),
]


def _ptp_bytes(edits: list[PtpEdit], delimiter: Delimiter = "\t") -> bytes:
    out = io.BytesIO()
    write_ptp(edits, out, delimiter=delimiter)
    return out.getvalue()


def _mue_bytes(
    edits: list[MueEdit], *, delimiter: Delimiter = ",", services: MueServices = "practitioner"
) -> bytes:
    out = io.BytesIO()
    write_mue(edits, out, delimiter=delimiter, services=services)
    return out.getvalue()


def test_a_pair_gives_back_its_edit_field_for_field() -> None:
    index = PtpIndex.from_edits(EDITS)
    assert index.edits("K1001", "K2002") == (OLD,)
    assert index.edits("A4550", "K1001") == (NO_RATIONALE,)


def test_a_pair_deleted_and_added_again_keeps_both_rows_in_file_order() -> None:
    index = PtpIndex.from_edits(EDITS)
    assert index.edits("K1001", "K2003") == (DELETED, READDED)
    assert (index.rows, len(index)) == (4, 3)


@pytest.mark.parametrize(
    ("column1", "column2"), [("K2002", "K1001"), ("K1001", "K9999"), ("Z9999", "K2002")]
)
def test_pairs_not_in_the_table_have_no_edits(column1: str, column2: str) -> None:
    assert PtpIndex.from_edits(EDITS).edits(column1, column2) == ()


def test_pairs_among_lists_the_listed_pairs_of_a_day_in_its_order() -> None:
    index = PtpIndex.from_edits(EDITS)
    codes = ["K2003", "A4550", "99213", "K1001", "K2002"]
    assert index.pairs_among(codes) == [
        ("A4550", "K1001"),
        ("K1001", "K2003"),
        ("K1001", "K2002"),
    ]
    assert index.pairs_among(["K1001", "K1001"]) == []
    assert index.pairs_among(["K2002", "99213"]) == []


def test_thousands_of_synthetic_edits_all_come_back() -> None:
    edits = list(synthetic_ptp_edits(20_000, pairs_per_code=150))
    index = PtpIndex.from_edits(edits, label="synthetic")
    assert index.rows == len(index) == 20_000
    assert all(index.edits(e.column1, e.column2) == (e,) for e in edits)
    assert {e.modifier_indicator for e in edits} == {0, 1, 9}


@pytest.mark.parametrize("delimiter", ["\t", ","])
def test_a_written_cms_file_loads_from_a_path_named_by_its_file(
    tmp_path: Path, delimiter: Delimiter
) -> None:
    path = tmp_path / ("ccipra-v321r0-f1.TXT" if delimiter == "\t" else "ccipra-v321r0-f1.csv")
    path.write_bytes(_ptp_bytes(EDITS, delimiter))
    index = load_ptp(path)
    assert index.label == "ccipra-v321r0-f1"
    assert [index.edits(e.column1, e.column2) for e in (OLD, NO_RATIONALE)] == [
        (OLD,),
        (NO_RATIONALE,),
    ]
    assert index.edits("K1001", "K2003") == (DELETED, READDED)


def test_ptp_loads_from_bytes_and_from_a_stream() -> None:
    data = _ptp_bytes(EDITS)
    from_bytes = load_ptp(data)
    assert from_bytes.label == "NCCI PTP"
    assert from_bytes.edits("K1001", "K2003") == (DELETED, READDED)
    from_stream = load_ptp(io.BytesIO(data), label="2026 Q1")
    assert from_stream.label == "2026 Q1"
    assert from_stream.edits("K1001", "K2002") == (OLD,)


def test_ptp_loads_cms_header_quirks_a_split_header_below_notice_rows() -> None:
    data = b"\r\n".join(
        [
            b"CPT only copyright 2025 American Medical Association.\t\t\t\t\t\t",
            b"Column1/Column2 Edits\t\t\t\t\t\t",
            b"Column1\tColumn2\t*=in existence\tEffective\tDeletion\tModifier",
            b"\t\tprior to 1996\tDate\tDate\t0=not allowed",
            b"\t\t\t\t*=no data\t1=allowed",
            b"\t\t\t\t\t9=not applicable",
            b"K1001\tK2002\t*\t19960101\t*\t0",
            b"K1001\tK2003\t\t20130101\t20200101\t9",
            b"",
        ]
    )
    index = load_ptp(data)
    assert index.edits("K1001", "K2002") == (
        PtpEdit("K1001", "K2002", True, date(1996, 1, 1), None, 0, ""),
    )
    assert index.edits("K1001", "K2003")[0].deleted == date(2020, 1, 1)


def test_a_bad_row_refuses_the_whole_ptp_table() -> None:
    data = _ptp_bytes(EDITS).replace(b"20210701", b"20211301")
    with pytest.raises(CmsError) as raised:
        load_ptp(data)
    assert raised.value.row == 9  # the third edit, below six rows of notice and header


def test_an_mue_file_is_not_taken_for_a_ptp_table() -> None:
    with pytest.raises(CmsError):
        load_ptp(_mue_bytes(MUES))


def test_mue_edits_come_back_by_code() -> None:
    index = MueIndex.from_edits(MUES, label="MUE 2026 Q1")
    assert [index.get(edit.code) for edit in MUES] == MUES
    assert index.get("99999") is None
    assert (index.label, len(index)) == ("MUE 2026 Q1", 3)


def test_a_written_mue_file_loads_from_a_path_with_its_quirks(tmp_path: Path) -> None:
    path = tmp_path / "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv"
    path.write_bytes(_mue_bytes(MUES))
    assert b'"HCPCS/\nCPT Code"' in path.read_bytes()
    assert b"2 Date of Service Edit: Policy" in path.read_bytes()
    index = load_mue(path)
    assert index.label == "MCR_MUE_PractitionerServices_Eff_01-01-2026"
    assert [index.get(edit.code) for edit in MUES] == MUES


def test_mue_loads_a_tab_delimited_export_from_bytes() -> None:
    index = load_mue(_mue_bytes(MUES, delimiter="\t"))
    assert index.label == "NCCI MUE (practitioner)"
    assert index.get("J1100") == MUES[2]


def test_another_services_mue_table_is_refused() -> None:
    with pytest.raises(CmsError):
        load_mue(_mue_bytes(MUES, services="DME supplier"))
    index = load_mue(_mue_bytes(MUES, services="DME supplier"), services="DME supplier")
    assert index.get("K1001") == MUES[0]


def test_synthetic_mue_table_round_trips() -> None:
    edits = list(synthetic_mue_edits(2_000))
    index = load_mue(_mue_bytes(edits))
    assert all(index.get(edit.code) == edit for edit in edits)
