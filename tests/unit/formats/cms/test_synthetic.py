"""Synthetic tables: a function of the seed, shaped like the real ones, of valid codes and NPIs."""

from __future__ import annotations

from collections import Counter
from datetime import date
from itertools import islice

import pytest

from claimbridge.formats.cms import (
    synthetic_code,
    synthetic_exclusions,
    synthetic_mue_edits,
    synthetic_ptp_edits,
)
from claimbridge.formats.cms.synthetic import CODE_SPACE
from claimbridge.types import NPI, ProcedureCode


def test_the_same_seed_gives_the_same_tables_and_another_seed_others() -> None:
    assert list(synthetic_ptp_edits(500, seed=4)) == list(synthetic_ptp_edits(500, seed=4))
    assert list(synthetic_ptp_edits(500, seed=4)) != list(synthetic_ptp_edits(500, seed=5))
    assert list(synthetic_mue_edits(100, seed=4)) == list(synthetic_mue_edits(100, seed=4))
    assert list(synthetic_exclusions(50, seed=4)) == list(synthetic_exclusions(50, seed=4))


def test_synthetic_codes_are_distinct_hcpcs_level_ii_codes() -> None:
    codes = [synthetic_code(number) for number in range(0, CODE_SPACE, 7)]
    assert len(set(codes)) == len(codes)
    assert {ProcedureCode.parse(code).kind for code in codes} == {"HCPCS"}
    assert len({synthetic_code(number) for number in range(CODE_SPACE - 500, CODE_SPACE)}) == 500
    with pytest.raises(ValueError, match="synthetic code"):
        synthetic_code(CODE_SPACE)


def test_ptp_pairs_are_distinct_never_a_code_with_itself_and_varied() -> None:
    edits = list(synthetic_ptp_edits(20_000, seed=1, pairs_per_code=150))
    pairs = {(edit.column1, edit.column2) for edit in edits}
    assert len(pairs) == len(edits)
    assert all(edit.column1 != edit.column2 for edit in edits)
    assert len({edit.column1 for edit in edits}) == 134  # 20,000 / 150, rounded up
    indicators = Counter(edit.modifier_indicator for edit in edits)
    assert set(indicators) == {0, 1, 9}
    assert 0.25 < indicators[0] / len(edits) < 0.35
    old = [edit for edit in edits if edit.exists_before_1996]
    assert 0.08 < len(old) / len(edits) < 0.12
    assert {edit.effective for edit in old} == {date(1996, 1, 1)}
    deleted = [edit for edit in edits if edit.deleted is not None]
    assert 0.06 < len(deleted) / len(edits) < 0.10
    assert all(edit.deleted >= edit.effective for edit in deleted if edit.deleted)


def test_mue_edits_cover_distinct_codes_with_every_indicator() -> None:
    edits = list(synthetic_mue_edits(3_000, seed=2))
    assert len({edit.code for edit in edits}) == 3_000
    assert Counter(edit.adjudication_indicator for edit in edits).keys() == {1, 2, 3}
    assert all(1 <= edit.max_units <= 30 for edit in edits)


def test_exclusions_are_plausible_with_valid_npis_and_oig_quirks() -> None:
    rows = list(synthetic_exclusions(2_000, seed=3))
    assert all(NPI.parse(row.npi) for row in rows if row.npi is not None)
    assert 0.2 < sum(row.npi is not None for row in rows) / len(rows) < 0.3
    entities = [row for row in rows if row.is_entity]
    assert entities
    assert all(row.birth_date is None and row.business_name for row in entities)
    assert all(row.birth_date < row.exclusion_date for row in rows if row.birth_date)
    assert "1128a1   " in {row.exclusion_type_raw for row in rows}
    assert all(row.reinstatement_date is None for row in rows)
    reinstated = synthetic_exclusions(100, seed=3, reinstated=True)
    assert all(
        row.reinstatement_date and row.reinstatement_date > row.exclusion_date for row in reinstated
    )


def test_generators_are_lazy_and_refuse_more_rows_than_they_can_make() -> None:
    assert len(list(islice(synthetic_ptp_edits(10**7), 3))) == 3
    with pytest.raises(ValueError, match="distinct synthetic pairs"):
        next(synthetic_ptp_edits(CODE_SPACE * 2 + 1, pairs_per_code=2))
    with pytest.raises(ValueError, match="synthetic codes"):
        next(synthetic_mue_edits(CODE_SPACE + 1))
