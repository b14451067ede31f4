"""The statistics behind the upcoding rule, checked against closed forms and table quantiles."""

from __future__ import annotations

import itertools
import math

import pytest

from claimbridge.integrity.stats import chi2_sf, cohens_h, goodness_of_fit

# Upper-tail quantiles of the chi-square distribution to full precision (the
# values in printed tables, 3.841 for df 1 at 0.05 and so on, rounded).
QUANTILES = [
    (3.841458820694124, 1, 0.05),
    (6.634896601021214, 1, 0.01),
    (10.827566170662733, 1, 0.001),
    (5.991464547107979, 2, 0.05),
    (9.487729036781154, 4, 0.05),
    (18.46682695290317, 4, 0.001),
    (11.070497693516351, 5, 0.05),
    (20.515005652432873, 5, 0.001),
    (124.34211340400407, 100, 0.05),
]


@pytest.mark.parametrize(("x", "df", "p"), QUANTILES)
def test_chi2_sf_matches_quantiles(x: float, df: int, p: float) -> None:
    assert chi2_sf(x, df) == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize(
    ("x", "df", "p"), [(3.841, 1, 0.05), (9.488, 4, 0.05), (18.467, 4, 0.001), (7.815, 3, 0.05)]
)
def test_chi2_sf_matches_printed_table_values(x: float, df: int, p: float) -> None:
    assert chi2_sf(x, df) == pytest.approx(p, rel=2e-3)


@pytest.mark.parametrize("x", [1e-6, 0.3, 1.0, 2.5, 7.0, 30.0, 120.0])
def test_chi2_sf_odd_df_matches_closed_form(x: float) -> None:
    half = x / 2
    df1 = math.erfc(math.sqrt(half))
    df3 = df1 + math.sqrt(2 * x / math.pi) * math.exp(-half)
    assert chi2_sf(x, 1) == pytest.approx(df1, rel=1e-12)
    assert chi2_sf(x, 3) == pytest.approx(df3, rel=1e-12)


@pytest.mark.parametrize("df", [2, 4, 10, 30])
@pytest.mark.parametrize("x", [0.01, 1.0, 4.0, 9.0, 25.0, 80.0, 200.0])
def test_chi2_sf_even_df_matches_closed_form(x: float, df: int) -> None:
    half = x / 2
    poisson = sum(half**k / math.factorial(k) for k in range(df // 2))
    assert chi2_sf(x, df) == pytest.approx(math.exp(-half) * poisson, rel=1e-11)


def test_chi2_sf_keeps_tiny_p_values_accurate() -> None:
    # 1 - P would round to 0 here; the continued fraction keeps 67 decimal orders.
    assert chi2_sf(300.0, 1) == pytest.approx(math.erfc(math.sqrt(150.0)), rel=1e-10)
    assert 0 < chi2_sf(300.0, 1) < 1e-60


def test_chi2_sf_is_one_at_zero_and_below() -> None:
    assert chi2_sf(0.0, 4) == 1.0
    assert chi2_sf(-3.0, 1) == 1.0
    assert chi2_sf(1e-12, 1) == pytest.approx(1.0, abs=1e-6)


def test_chi2_sf_is_zero_for_huge_statistics() -> None:
    assert chi2_sf(1e6, 3) == 0.0
    assert chi2_sf(math.inf, 1) == 0.0


def test_chi2_sf_decreases_with_the_statistic() -> None:
    values = [chi2_sf(x / 4, 4) for x in range(0, 200)]
    assert all(a > b for a, b in itertools.pairwise(values) if b > 0)


@pytest.mark.parametrize("df", [0, -1, math.inf, math.nan])
def test_chi2_sf_refuses_degrees_of_freedom_that_are_not_positive(df: float) -> None:
    with pytest.raises(ValueError, match="degrees of freedom"):
        chi2_sf(3.0, df)


def test_chi2_sf_refuses_a_statistic_that_is_not_a_number() -> None:
    with pytest.raises(ValueError, match="not a number"):
        chi2_sf(math.nan, 2)


def test_cohens_h_matches_cohens_table() -> None:
    # Cohen (1988), table 6.2.1: 0.45 against 0.55 is h = 0.20.
    assert cohens_h(0.55, 0.45) == pytest.approx(0.2003, abs=1e-4)
    assert cohens_h(0.45, 0.55) == pytest.approx(-0.2003, abs=1e-4)
    assert cohens_h(0.3, 0.3) == 0.0
    assert cohens_h(1.0, 0.0) == pytest.approx(math.pi)


@pytest.mark.parametrize(("observed", "expected"), [(1.2, 0.5), (0.5, -0.1)])
def test_cohens_h_refuses_proportions_outside_0_1(observed: float, expected: float) -> None:
    with pytest.raises(ValueError, match="proportion"):
        cohens_h(observed, expected)


def test_goodness_of_fit_of_a_fair_die_example() -> None:
    fit = goodness_of_fit([18, 22, 20], [1 / 3, 1 / 3, 1 / 3])
    assert fit is not None
    assert fit.chi2 == pytest.approx(0.4)
    assert fit.df == 2
    assert fit.p_value == pytest.approx(math.exp(-0.2))
    assert fit.w == pytest.approx(math.sqrt(0.4 / 60))
    assert fit.bins == ((0,), (1,), (2,))


def test_goodness_of_fit_of_counts_matching_shares_is_zero() -> None:
    fit = goodness_of_fit([20, 50, 30], [0.2, 0.5, 0.3])
    assert fit is not None
    assert fit.chi2 == pytest.approx(0.0)
    assert fit.p_value == pytest.approx(1.0)
    assert fit.w == pytest.approx(0.0)


def test_goodness_of_fit_merges_sparse_low_levels_upward() -> None:
    # Expected 1, 4, 45, 50: the first two merge to reach 5.
    fit = goodness_of_fit([3, 7, 40, 50], [0.01, 0.04, 0.45, 0.5])
    assert fit is not None
    assert fit.bins == ((0, 1), (2,), (3,))
    assert fit.df == 2
    assert fit.chi2 == pytest.approx((10 - 5) ** 2 / 5 + 5**2 / 45 + 0.0)


def test_goodness_of_fit_merges_a_sparse_last_level_into_the_one_before() -> None:
    # Expected 50, 47, 3: the 3 cannot reach 5 alone and joins the 47.
    fit = goodness_of_fit([50, 40, 10], [0.5, 0.47, 0.03])
    assert fit is not None
    assert fit.bins == ((0,), (1, 2))
    assert fit.df == 1


def test_goodness_of_fit_normalises_shares_that_do_not_sum_to_one() -> None:
    scaled = goodness_of_fit([18, 22, 20], [2.0, 2.0, 2.0])
    assert scaled is not None
    assert scaled.chi2 == pytest.approx(0.4)


def test_goodness_of_fit_has_nothing_to_test_without_two_bins() -> None:
    assert goodness_of_fit([0, 0, 0], [0.2, 0.5, 0.3]) is None
    assert goodness_of_fit([2, 2], [0.5, 0.5]) is None  # expected 2 + 2: one bin


def test_goodness_of_fit_refuses_mismatched_or_negative_input() -> None:
    with pytest.raises(ValueError, match="length"):
        goodness_of_fit([1, 2], [0.5, 0.3, 0.2])
    with pytest.raises(ValueError, match="negative"):
        goodness_of_fit([10, -1], [0.5, 0.5])
