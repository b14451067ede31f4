"""The ICD-10-CM release from simple-icd-10-cm: which codes exist and are billable, which year."""

from __future__ import annotations

import importlib.metadata
import re
from datetime import date

import pytest

from claimbridge.integrity.context import DiagnosisCodes
from claimbridge.integrity.tables.icd10cm import ICD10CMRelease, fiscal_year_of, normalise_code

RELEASE = ICD10CMRelease()


def test_the_label_names_the_fiscal_year_and_the_package_version() -> None:
    version = importlib.metadata.version("simple-icd-10-cm")
    pattern = r"ICD-10-CM FY20[0-9]{2}, [A-Z][a-z]+ 20[0-9]{2} update \(simple-icd-10-cm "
    assert re.fullmatch(pattern + re.escape(version) + r"\)", RELEASE.label)
    assert f"FY{RELEASE.fiscal_year}" in RELEASE.label


def test_the_release_is_valid_for_its_fiscal_year_october_to_september() -> None:
    assert RELEASE.valid_from == date(RELEASE.fiscal_year - 1, 10, 1)
    assert RELEASE.valid_to == date(RELEASE.fiscal_year, 9, 30)
    assert fiscal_year_of(RELEASE.valid_from) == RELEASE.fiscal_year
    assert fiscal_year_of(RELEASE.valid_to) == RELEASE.fiscal_year


@pytest.mark.parametrize(
    ("served", "year"),
    [(date(2025, 9, 30), 2025), (date(2025, 10, 1), 2026), (date(2026, 1, 1), 2026)],
)
def test_fiscal_years_begin_on_the_first_of_october(served: date, year: int) -> None:
    assert fiscal_year_of(served) == year


@pytest.mark.parametrize("code", ["E11.65", "E1165", "e11.65", " E11.65 ", "I10", "S72.001A"])
def test_leaf_codes_are_billable_dotted_or_not(code: str) -> None:
    assert RELEASE.exists(code) and RELEASE.billable(code)


@pytest.mark.parametrize("code", ["E11", "E11.6", "E116", "S72.001", "C7A"])
def test_categories_with_codes_below_them_exist_but_are_not_billable(code: str) -> None:
    assert RELEASE.exists(code)
    assert not RELEASE.billable(code)


@pytest.mark.parametrize("code", ["E11.657", "Z99.999", "XYZ", "", "E08-E13", "4", "E11.65X9"])
def test_unknown_codes_blocks_and_chapters_are_not_codes(code: str) -> None:
    assert not RELEASE.exists(code)
    assert not RELEASE.billable(code)


def test_the_release_is_a_diagnosis_code_set_for_the_rules() -> None:
    codes: DiagnosisCodes = RELEASE
    assert codes.label == RELEASE.label
    assert RELEASE.load() is RELEASE


@pytest.mark.parametrize(
    ("text", "code"),
    [("e1165", "E11.65"), ("E11.65", "E11.65"), ("E11", "E11"), ("E11.", "E11"), ("E1", None)],
)
def test_codes_are_normalised_to_the_dotted_form(text: str, code: str | None) -> None:
    assert normalise_code(text) == code


def test_repeated_lookups_are_answered_from_the_cache() -> None:
    from claimbridge.integrity.tables import icd10cm  # noqa: PLC0415 - the private cache

    RELEASE.billable("E11.9")
    before = icd10cm._status.cache_info().hits
    for _ in range(1_000):
        assert RELEASE.billable("E11.9")
    assert icd10cm._status.cache_info().hits == before + 1_000


def test_billable_codes_agree_with_the_packages_own_tree() -> None:
    """Leaves read from the code list are the package's leaves (a sample of the release)."""
    import random  # noqa: PLC0415
    import warnings  # noqa: PLC0415

    from claimbridge.integrity.tables.icd10cm import _codes  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as package  # type: ignore[import-untyped]  # noqa: PLC0415

    codes, leaves = _codes()
    sample = random.Random(5).sample(sorted(codes), 3000)
    dotted = {code: code if len(code) == 3 else f"{code[:3]}.{code[3:]}" for code in sample}
    assert [c for c in sample if package.is_leaf(dotted[c]) != (c in leaves)] == []
    assert all(package.is_valid_item(dotted[c]) for c in sample)
