"""The error tree of the CMS and OIG reference tables, each error with its row and column.

Every error the package raises is a ``CmsError``. It carries the 1-based
``row`` of the file it was found in (a row is a record of the table: a
quoted cell spanning two lines is still one row, as in a spreadsheet) and,
when one cell is to blame, the ``column``: the name the layout gives it
(``EXCLDATE``, ``Effective Date``, ``MUE Adjudication Indicator``).

Messages are public and never quote a cell's value. LEIE rows name real
people with their dates of birth; the NCCI tables hold nothing private,
but one rule for all three keeps a shifted column from leaking a name.
They say what is wrong with the cell ("row 7, column DOB: not a date in
YYYYMMDD or MM/DD/YY form").

A reference table is read whole or not at all: a screening list that
silently dropped a row would let an excluded provider through, so the
readers raise at the first error instead of collecting and skipping.

::

    CmsError
    ├── TableUnreadable     the file cannot be read as a text table: control
    │                       characters, a row past the length bound, broken quoting
    ├── HeaderNotFound      no header row where the layout puts one
    ├── HeaderInvalid       the header lacks a column of the layout, names one
    │                       twice, or names one the layout does not have
    ├── RowLengthMismatch   a row with more filled cells than the header (or,
    │                       in the LEIE, a different number of cells)
    ├── CellMissing         a required cell is empty
    └── CellInvalid         a cell does not have its column's form; also
                            raised by the writers for a value the layout
                            cannot carry
"""

from __future__ import annotations

from claimbridge.errors import InputError

__all__ = [
    "CellInvalid",
    "CellMissing",
    "CmsError",
    "HeaderInvalid",
    "HeaderNotFound",
    "RowLengthMismatch",
    "TableUnreadable",
    "location",
]


def location(row: int | None, column: str | None) -> str | None:
    """``row 7, column DOB``, ``row 7``, or None when neither is known."""
    if row is None:
        return f"column {column}" if column else None
    return f"row {row}, column {column}" if column else f"row {row}"


class CmsError(InputError):
    """A CMS or OIG reference table, or a row of one, is not acceptable."""

    code = "cms_table_invalid"
    public_message = "The reference table is not valid."

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
        # The place first, as a person scanning a log for the bad row looks for it.
        return f"{self.where}: {self.message}" if self.where else self.message


class TableUnreadable(CmsError):
    code = "cms_table_unreadable"
    public_message = "The file cannot be read as a text table."


class HeaderNotFound(CmsError):
    code = "cms_header_not_found"
    public_message = "The file has no header row where the table's layout puts one."


class HeaderInvalid(CmsError):
    code = "cms_header_invalid"
    public_message = "The header does not name the columns of the table's layout."


class RowLengthMismatch(CmsError):
    code = "cms_row_length_mismatch"
    public_message = "A row does not have one cell for each column of the header."


class CellMissing(CmsError):
    code = "cms_cell_missing"
    public_message = "A required cell is empty."


class CellInvalid(CmsError):
    code = "cms_cell_invalid"
    public_message = "A cell does not have the form its column requires."
