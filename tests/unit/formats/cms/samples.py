"""Inputs for the CMS and OIG table tests: the LEIE samples and hand-made NCCI files.

The LEIE files are OIG's own monthly supplements, vendored verbatim (see
``tests/vectors/conformance/SOURCES.md``, section ``cms/leie/``). Rows made
here are synthetic: the person's name and birth date are odd tokens so a
test can look for them in an error message and be sure any hit is a leak.
The NCCI files are shaped like CMS's (notice, title, split header) but
hold made-up codes only.
"""

from __future__ import annotations

from tests.unit.formats.x12.samples import CONFORMANCE

LEIE = CONFORMANCE / "cms" / "leie"

LEIE_HEADER = (
    '"LASTNAME","FIRSTNAME","MIDNAME","BUSNAME","GENERAL","SPECIALTY","UPIN","NPI","DOB",'
    '"ADDRESS","CITY","STATE","ZIP","EXCLTYPE","EXCLDATE","REINDATE","WAIVERDATE","WVRSTATE"'
)
LAST_NAME = "Qzxwellby"
FIRST_NAME = "Vantorix"
DOB = "07/13/61"

# One valid LEIE row in the 2015 form: a two-digit-year birth date, no NPI.
LEIE_CELLS: dict[str, str] = {
    "LASTNAME": LAST_NAME,
    "FIRSTNAME": FIRST_NAME,
    "MIDNAME": " ",
    "BUSNAME": "",
    "GENERAL": "IND- LIC HC SERV PRO",
    "SPECIALTY": "NURSE/NURSES AIDE",
    "UPIN": "",
    "NPI": "0000000000",
    "DOB": DOB,
    "ADDRESS": "12 TEST LANE",
    "CITY": "SPRINGFIELD",
    "STATE": "IL",
    "ZIP": "62701",
    "EXCLTYPE": "1128b4",
    "EXCLDATE": "20151119",
    "REINDATE": "00000000",
    "WAIVERDATE": "00000000",
    "WVRSTATE": "",
}


def leie_row(**changes: str) -> str:
    """The row with ``changes``, written as OIG writes rows (empty cells bare)."""
    cells = LEIE_CELLS | changes
    return ",".join(f'"{cell}"' if cell else "" for cell in cells.values())


def leie_file(*rows: str, header: str = LEIE_HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


# The header of CMS's practitioner PTP .TXT, split over rows as CMS splits it.
PTP_PREAMBLE = [
    "CPT only copyright 2025 American Medical Association.  All rights reserved.\t\t\t\t\t\t",
    "Column1/Column2 Edits\t\t\t\t\t\t",
    "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale",
    "\t\tprior to 1996\tDate\tDate\t0=not allowed\t",
    "\t\t\t\t*=no data\t1=allowed\t",
    "\t\t\t\t\t9=not applicable\t",
]
PTP_ROWS = [
    "K1001\tK2002\t*\t19960101\t*\t0\tMisuse of column two code with column one code",
    "K1001\tK2003\t\t20130101\t20200101\t9\tMutually exclusive procedures",
    "K1001\tK2004\t\t20150401\t\t1\tStandards of medical / surgical practice",
]
"""Rows of the .TXT: the first data row is row 7."""


def ptp_file(*rows: str, preamble: list[str] = PTP_PREAMBLE, newline: str = "\r\n") -> bytes:
    return newline.join([*preamble, *rows]).encode("cp1252") + newline.encode()


MUE_PREAMBLE = [
    '"CPT codes, descriptions and other data only are copyright 2025 American Medical '
    "Association. All rights reserved.\nApplicable FARS/DFARS Restrictions Apply to "
    'Government Use.",,,',
    '"HCPCS/\nCPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale',
]
MUE_ROWS = [
    "K1001,2,2 Date of Service Edit: Policy,Anatomic Consideration",
    'K1002,12,"1 Line Edit",Clinical: Data',
    "K1003,1,3 Date of Service Edit: Clinical,CMS Policy",
]
"""Rows of the CSV: the first data row is row 3 (the notice is one row of two lines)."""


def mue_file(*rows: str, preamble: list[str] = MUE_PREAMBLE) -> bytes:
    return ("\r\n".join([*preamble, *rows]) + "\r\n").encode()
