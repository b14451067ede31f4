"""The CSV charge template: a practice's charge export in, professional claims out.

Bytes or a binary stream in, the same ``ProfessionalClaim`` records the
837P reader yields out (005010X222A1 records from ``formats.x12``); no
database, no configuration. ``docs/csv-charges.md`` documents the template
for the people who export it. The map of the package:

* ``charges``   ``read_charges``: the ``ChargeReading`` that groups rows into
                claims, yields each claim when its rows end, and collects row errors
* ``source``    bounded streaming of rows: UTF-8 (BOM or not), CRLF or LF,
                ``csv`` in strict mode, row length and cell count bounds
* ``template``  the columns, their levels and bounds, and reading the header
* ``layout``    where a file's header put each column; its bounded value caches
* ``cells``     one parser per kind of cell (dates, NPIs, codes, amounts ...)
* ``parties``   claim-level cells checked together and made into 837P records
* ``rows``      one claim's rows: agreement between them, lines, the claim
* ``write``     ``write_charges``: claims back to the template, for demos and tests
* ``errors``    the error tree: ``CsvError`` with row and column, never a cell's value

Iterate the ``ChargeReading`` for claims; afterwards ``.errors`` lists
each refused row's error (its claim is rejected whole, the others are read)
and ``.raise_for_errors()`` raises the first. A file that cannot be read at
all raises a ``CsvUnreadable`` from the iteration. Only ``CsvError`` is ever
raised for bad input.
"""

from __future__ import annotations

from claimbridge.formats.csv.charges import (
    MAX_ERRORS,
    UNKNOWN_SUBMISSION,
    ChargeReading,
    read_charges,
)
from claimbridge.formats.csv.errors import CsvError, CsvUnreadable
from claimbridge.formats.csv.template import (
    COLUMNS,
    MAX_COLUMNS,
    MAX_LINES_PER_CLAIM,
    MAX_ROW_CHARS,
    Column,
)
from claimbridge.formats.csv.write import HEADER, iter_charges, write_charges

__all__ = [
    "COLUMNS",
    "HEADER",
    "MAX_COLUMNS",
    "MAX_ERRORS",
    "MAX_LINES_PER_CLAIM",
    "MAX_ROW_CHARS",
    "UNKNOWN_SUBMISSION",
    "ChargeReading",
    "Column",
    "CsvError",
    "CsvUnreadable",
    "iter_charges",
    "read_charges",
    "write_charges",
]
