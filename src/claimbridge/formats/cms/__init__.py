"""Reference tables as CMS and OIG publish them: NCCI PTP and MUE edits, the OIG LEIE.

Bytes or a binary stream in, frozen records out, streamed row by row; no
database, no configuration. The integrity rules (``claimbridge.integrity``)
load these; this package only reads and writes the files. The map:

* ``ncci``       ``read_ptp`` → ``PtpEdit``, ``read_mue`` → ``MueEdit``
* ``leie``       ``read_leie`` → ``Exclusion``
* ``write``      ``write_ptp``, ``write_mue``, ``write_leie``: records back to the layouts
* ``synthetic``  invented tables of any size in those layouts (we ship no CPT content)
* ``headers``    finding an NCCI header below CMS's notice rows, merging its rows
* ``source``     bounded streaming of rows: per-line decoding, delimiter detection, ``csv``
* ``cells``      dates, codes and the bounded caches the readers share
* ``errors``     the error tree: ``CmsError`` with row and column, never a value

Layouts and their quirks (sources and the sample files' row counts:
``tests/vectors/conformance/SOURCES.md``, section ``cms/``):

NCCI PTP (practitioner ``ccipra-v{NNN}r{R}-f{1..4}``, outpatient hospital
``ccioph-…``; one edit per row, tab-delimited ``.TXT`` or CSV)
    An AMA copyright row and a title row (``Column1/Column2 Edits``) come
    first; in the ``.TXT`` the header is split over up to four rows, one
    word group per column (``Deletion`` / ``Date`` / ``*=no data``), and
    the reader joins them; in a CSV export the same line breaks sit inside
    quoted cells. Columns: column 1 code, column 2 code, ``*`` if the edit
    existed before 1996, effective date ``YYYYMMDD``, deletion date
    ``YYYYMMDD`` or ``*`` (or empty) while in force, modifier indicator 0
    (never bypassed), 1 (an NCCI-associated modifier bypasses it) or 9
    (does not apply), rationale (absent in older files). Edits are
    directional. Whether a service on the deletion date itself is edited
    is for the rules to decide, per CMS's quarterly README.

NCCI MUE (``MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv`` and the
outpatient hospital and DME supplier tables)
    A quoted multi-line AMA notice first; the header's first cell has a
    line break (``"HCPCS/⏎CPT Code"``); the second names the table
    (``read_mue`` refuses another table than the one asked for, the
    practitioner one by default). Columns: code, maximum units, adjudication
    indicator written as text whose leading digit counts (``1 Line Edit``,
    ``2 Date of Service Edit: Policy``, ``3 Date of Service Edit:
    Clinical``), rationale.

OIG LEIE (``UPDATED.csv``, monthly ``YYMMEXCL.csv`` and ``YYMMREIN.csv``)
    18 columns named in a quoted header row, non-empty cells quoted, LF
    line ends. Dates are ``YYYYMMDD``, but birth dates were ``MM/DD/YY`` in
    the 2015-2016 supplements: each value is read in whichever form it has,
    a two-digit birth year in the latest century not after the exclusion
    date. ``00000000`` is no date, ``0000000000`` no NPI; DOB is blank for
    entities; EXCLTYPE is space-padded and has typos (``1128Aa``), so the
    normalised code and the raw cell are both kept; MIDNAME is often one
    space. Reinstatement files fill REINDATE. Rows name real people:
    errors name the row and column, never the value, and ``Exclusion``'s
    ``repr`` leaves names, address and birth date out.

Every reader raises at the first bad row (a table is loaded whole or not
at all) and only ever raises ``CmsError``. Rows are numbered as a
spreadsheet numbers them, from 1, a quoted cell spanning lines being one row.
"""

from __future__ import annotations

from claimbridge.formats.cms.errors import CmsError
from claimbridge.formats.cms.leie import LEIE_COLUMNS, Exclusion, read_leie
from claimbridge.formats.cms.ncci import MueEdit, MueServices, PtpEdit, read_mue, read_ptp
from claimbridge.formats.cms.synthetic import (
    synthetic_code,
    synthetic_exclusions,
    synthetic_mue_edits,
    synthetic_ptp_edits,
)
from claimbridge.formats.cms.write import write_leie, write_mue, write_ptp

__all__ = [
    "LEIE_COLUMNS",
    "CmsError",
    "Exclusion",
    "MueEdit",
    "MueServices",
    "PtpEdit",
    "read_leie",
    "read_mue",
    "read_ptp",
    "synthetic_code",
    "synthetic_exclusions",
    "synthetic_mue_edits",
    "synthetic_ptp_edits",
    "write_leie",
    "write_mue",
    "write_ptp",
]
