"""Synthetic PTP edits, MUE edits and LEIE rows, for tests, the demo and benchmarks.

CPT descriptors and CMS's edit tables built on them are licensed by the
AMA, so claimbridge ships none: these generators invent tables of any
size in the shape of the real ones, each a function of its seed alone,
yielded lazily so two million rows cost no memory of their own.
``write.write_ptp`` and its siblings put them in CMS's and OIG's layouts.

* Codes are HCPCS Level II in shape (a letter A-V and four digits, public
  domain by nature): ``synthetic_code(n)`` is the n-th of 220,000, spread
  over the range by a fixed permutation. A code may happen to exist; the
  pairs and limits made of them are invented.
* ``synthetic_ptp_edits(count)`` gives ``pairs_per_code`` column 2 codes to
  each column 1 code in turn (no pair twice, none with itself); about one
  in ten edits predates 1996, one in twelve is deleted (indicator 9 for
  most of those), the others have indicator 0 (about 30%) or 1.
* ``synthetic_mue_edits(count)`` gives codes 0 to count - 1 a limit of
  1 to 30 units and indicators 1, 2 and 3 at about 35/25/40%.
* ``synthetic_exclusions(count)`` gives individuals and some entities,
  names from the short lists of ``x12.synthetic_data``, random NPIs with a
  valid check digit for one in four (so they name nobody), padded
  exclusion types as OIG writes them, and reinstatement dates when asked.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from claimbridge.formats.cms.leie import Exclusion, normalise_exclusion_type
from claimbridge.formats.cms.ncci import MueEdit, PtpEdit
from claimbridge.formats.x12.synthetic_data import (
    CITIES,
    FEMALE_NAMES,
    MALE_NAMES,
    ORGANIZATIONS,
    STREETS,
    SURNAMES,
    npi,
)

__all__ = [
    "CODE_SPACE",
    "synthetic_code",
    "synthetic_exclusions",
    "synthetic_mue_edits",
    "synthetic_ptp_edits",
]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUV"
CODE_SPACE = len(_LETTERS) * 10_000
"""How many distinct synthetic codes there are."""
# Coprime with CODE_SPACE (2^5 * 5^4 * 11), so n -> n * _STRIDE is a permutation.
_STRIDE = 7_919
_OFFSET = 104_729
_PTP_RATIONALES = (
    "Misuse of column two code with column one code",
    "Standards of medical / surgical practice",
    "Mutually exclusive procedures",
    "CPT Manual or CMS manual coding instructions",
    "More extensive procedure",
)
_MUE_RATIONALES = (
    "Anatomic Consideration",
    "Clinical: Data",
    "CMS Policy",
    "Code Descriptor / CPT Instruction",
    "Nature of Service/Procedure",
    "Prescribing Information",
)
# Exclusion types as OIG writes them, padding and all; the commonest repeated.
_EXCLUSION_TYPES = (
    *("1128b4",) * 6,
    *("1128a1",) * 4,
    "1128a1   ",
    "1128a2",
    "1128a3",
    "1128a4",
    "1128b7",
    "1128b14",
    "BRCH CIA",
)
_SPECIALTIES = (
    ("IND- LIC HC SERV PRO", "NURSE/NURSES AIDE"),
    ("DOCTOR(MD, DO)", "FAMILY PRACTICE"),
    ("PHARMACY", "PHARMACIST"),
    ("EMPLOYEE - PRIVATE S", "PERSONAL CARE PROVID"),
    ("INDIVIDUAL (UNAFFILI", "NO KNOWN AFFILIATION"),
)
_EFFECTIVE_QUARTERS = tuple(
    date(year, month, 1) for year in range(1996, 2026) for month in (1, 4, 7, 10)
)
_FIRST_DAY = date(1996, 1, 1)


def synthetic_code(number: int) -> str:
    """The ``number``-th synthetic code, 0 <= number < ``CODE_SPACE``: ``K4187``."""
    if not 0 <= number < CODE_SPACE:
        raise ValueError(f"a synthetic code number is 0 to {CODE_SPACE - 1}")
    spread = (number * _STRIDE + _OFFSET) % CODE_SPACE
    return f"{_LETTERS[spread // 10_000]}{spread % 10_000:04d}"


def synthetic_ptp_edits(
    count: int, *, seed: int = 0, pairs_per_code: int = 200
) -> Iterator[PtpEdit]:
    """``count`` distinct PTP edits, ``pairs_per_code`` for each column 1 code in turn."""
    if count > CODE_SPACE * pairs_per_code or not 0 < pairs_per_code < CODE_SPACE:
        raise ValueError("more edits than distinct synthetic pairs")
    rng = random.Random(seed)  # noqa: S311 - synthetic test data, not a secret
    column1 = ""
    for number in range(count):
        first, offset = divmod(number, pairs_per_code)
        if offset == 0:
            column1 = synthetic_code(first)
        column2 = synthetic_code((first + 1 + offset) % CODE_SPACE)
        yield _ptp_edit(rng, column1, column2)


def _ptp_edit(rng: random.Random, column1: str, column2: str) -> PtpEdit:
    draw = rng.random()
    old = draw < 0.1
    effective = _FIRST_DAY if old else rng.choice(_EFFECTIVE_QUARTERS)
    deleted = None
    if rng.random() < 0.08:
        deleted = effective + timedelta(days=rng.randrange(0, 3_650))
    modifier = 9 if deleted is not None and draw < 0.9 else (0 if rng.random() < 0.3 else 1)
    return PtpEdit(
        column1=column1,
        column2=column2,
        exists_before_1996=old,
        effective=effective,
        deleted=deleted,
        modifier_indicator=modifier,
        rationale=rng.choice(_PTP_RATIONALES),
    )


def synthetic_mue_edits(count: int, *, seed: int = 0) -> Iterator[MueEdit]:
    """One MUE edit for each of the first ``count`` synthetic codes."""
    if count > CODE_SPACE:
        raise ValueError("more MUE edits than synthetic codes")
    rng = random.Random(seed)  # noqa: S311 - synthetic test data, not a secret
    for number in range(count):
        draw = rng.random()
        yield MueEdit(
            code=synthetic_code(number),
            max_units=rng.randint(1, 30),
            adjudication_indicator=1 if draw < 0.35 else 2 if draw < 0.6 else 3,
            rationale=rng.choice(_MUE_RATIONALES),
        )


def synthetic_exclusions(
    count: int, *, seed: int = 0, reinstated: bool = False
) -> Iterator[Exclusion]:
    """``count`` LEIE rows; with ``reinstated`` each has a reinstatement date (a REIN file)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic test data, not a secret
    for _ in range(count):
        excluded = date(2010, 1, 1) + timedelta(days=rng.randrange(0, 5_000))
        entity = rng.random() < 0.05
        yield _exclusion(rng, excluded=excluded, entity=entity, reinstated=reinstated)


def _exclusion(rng: random.Random, *, excluded: date, entity: bool, reinstated: bool) -> Exclusion:
    city, state, zip_prefix = rng.choice(CITIES)
    general, specialty = ("OTHER BUSINESS", "CLINIC") if entity else rng.choice(_SPECIALTIES)
    raw_type = rng.choice(_EXCLUSION_TYPES)
    first = rng.choice(FEMALE_NAMES if rng.random() < 0.5 else MALE_NAMES)
    return Exclusion(
        last_name="" if entity else rng.choice(SURNAMES),
        first_name="" if entity else first,
        middle_name="" if entity or rng.random() < 0.6 else rng.choice(MALE_NAMES),
        business_name=f"{rng.choice(ORGANIZATIONS)} CLINIC, INC" if entity else "",
        general=general,
        specialty=specialty,
        upin=None,
        npi=npi(rng, kind="2" if entity else "1") if rng.random() < 0.25 else None,
        birth_date=None if entity else excluded - timedelta(days=rng.randrange(7_300, 25_000)),
        address=f"{rng.randrange(1, 9_999)} {rng.choice(STREETS)}",
        city=city,
        state=state,
        zip_code=f"{zip_prefix}{rng.randrange(100):02d}",
        exclusion_type=normalise_exclusion_type(raw_type),
        exclusion_type_raw=raw_type,
        exclusion_date=excluded,
        reinstatement_date=excluded + timedelta(days=rng.randrange(365, 3_650))
        if reinstated
        else None,
        waiver_date=None,
        waiver_state=None,
    )
