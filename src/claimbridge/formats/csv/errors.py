"""The error tree of the CSV charge template, each error with its row and column.

Every error the CSV package raises or reports is a ``CsvError``. It carries
the 1-based ``row`` it was found in (the header is row 1, and a row is a
CSV record: a quoted cell spanning two lines is still one row, as in a
spreadsheet) and, when one cell is to blame, the ``column`` name.

Messages are public and never quote a cell's value: cells hold names,
member ids and dates of birth. They name the row, the column and what is
wrong ("row 7, column patient_birth_date: not a date in YYYY-MM-DD form").
Header names are quoted only when they look like column names.

Two kinds. ``CsvUnreadable`` and its subclasses are raised at once, from
the iteration, because the file as a whole cannot be read. The others are
collected by the ``ChargeReading`` and reject the claim their row belongs
to; the other claims are still read.

::

    CsvError
    ├── CsvUnreadable            the file as a whole cannot be read (raised)
    │   ├── NotUTF8              a byte sequence is not UTF-8 (UTF-16 is named)
    │   ├── BinaryContent        NUL or another control character
    │   ├── RowTooLong           a row longer than MAX_ROW_CHARS characters
    │   ├── TooManyColumns       a row with more than MAX_COLUMNS cells
    │   ├── QuotingInvalid       quotes that do not open and close a cell
    │   ├── HeaderMissing        an empty file, or a first row naming no column
    │   ├── UnknownColumn        a header name the template does not have
    │   ├── DuplicateColumn      a header name given twice
    │   ├── MissingColumn        a required column is not in the header
    │   └── NoRows               a header and no charge rows
    ├── CellMissing              a required cell is empty
    ├── CellInvalid              a cell does not have the column's form
    ├── RowLengthMismatch        a row with fewer cells than the header, or more filled
    ├── ClaimDisagrees           a claim-level cell differs from the claim's first row
    ├── ClaimNotContiguous       a claim id reappears after another claim
    └── TooManyLines             a claim with more than 50 service lines
"""

from __future__ import annotations

from claimbridge.errors import InputError

__all__ = [
    "BinaryContent",
    "CellInvalid",
    "CellMissing",
    "ClaimDisagrees",
    "ClaimNotContiguous",
    "CsvError",
    "CsvUnreadable",
    "DuplicateColumn",
    "HeaderMissing",
    "MissingColumn",
    "NoRows",
    "NotUTF8",
    "QuotingInvalid",
    "RowLengthMismatch",
    "RowTooLong",
    "TooManyColumns",
    "TooManyLines",
    "UnknownColumn",
    "location",
]


def location(row: int | None, column: str | None) -> str | None:
    """``row 7, column patient_sex``, ``row 7``, or None when neither is known."""
    if row is None:
        return f"column {column}" if column else None
    return f"row {row}, column {column}" if column else f"row {row}"


class CsvError(InputError):
    """A CSV charge file, or a row of one, is not acceptable."""

    code = "csv_invalid"
    public_message = "The CSV charge file is not valid."

    def __init__(
        self,
        message: str | None = None,
        *,
        row: int | None = None,
        column: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, where=location(row, column), detail=detail)
        self.row = row
        self.column = column

    def __str__(self) -> str:
        # "row 7, column patient_sex: not M, F or U.": the place first, as a
        # person scanning a list of refusals looks for it.
        return f"{self.where}: {self.message}" if self.where else self.message


class CsvUnreadable(CsvError):
    """The file as a whole cannot be read; raised at once."""

    code = "csv_unreadable"
    public_message = "The file cannot be read as a CSV charge file."


class NotUTF8(CsvUnreadable):
    code = "csv_not_utf8"
    public_message = "The file is not UTF-8 text; save it as CSV UTF-8."


class BinaryContent(CsvUnreadable):
    code = "csv_binary_content"
    public_message = "The file holds NUL or other control characters: it is not a CSV text file."


class RowTooLong(CsvUnreadable):
    code = "csv_row_too_long"
    public_message = "A row is longer than a charge row can be."


class TooManyColumns(CsvUnreadable):
    code = "csv_too_many_columns"
    public_message = "A row has more cells than the charge template has columns."


class QuotingInvalid(CsvUnreadable):
    code = "csv_quoting_invalid"
    public_message = "A quoted cell is not closed, or text follows its closing quote."


class HeaderMissing(CsvUnreadable):
    code = "csv_header_missing"
    public_message = "The first row must be the header naming the template's columns."


class UnknownColumn(CsvUnreadable):
    code = "csv_unknown_column"
    public_message = "The header names a column the charge template does not have."


class DuplicateColumn(CsvUnreadable):
    code = "csv_duplicate_column"
    public_message = "The header names a column twice."


class MissingColumn(CsvUnreadable):
    code = "csv_missing_column"
    public_message = "The header lacks a column the charge template requires."


class NoRows(CsvUnreadable):
    code = "csv_no_rows"
    public_message = "The file has a header but no charge rows."


class CellMissing(CsvError):
    code = "csv_cell_missing"
    public_message = "A required cell is empty."


class CellInvalid(CsvError):
    code = "csv_cell_invalid"
    public_message = "A cell does not have the form its column requires."


class RowLengthMismatch(CsvError):
    code = "csv_row_length_mismatch"
    public_message = "A row does not have a cell for each column of the header."


class ClaimDisagrees(CsvError):
    code = "csv_claim_disagrees"
    public_message = "A claim-level cell differs from the claim's first row."


class ClaimNotContiguous(CsvError):
    code = "csv_claim_not_contiguous"
    public_message = "A claim's rows must follow one another; its claim id appeared earlier."


class TooManyLines(CsvError):
    code = "csv_too_many_lines"
    public_message = "A claim has more service lines than an 837P claim can carry (50)."
