"""The 2×2 figures against independent implementations (statsmodels' Table2x2 for the risk
and odds ratio intervals, scipy for χ² and the gamma quantile) and the contract's edge cases.

No published worked example with its numbers was found for Evans 2001 (its abstract gives
the rule, not a table) or for Norén 2013's IC025; the references here are computed by other
code, as the docstrings say."""

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import Table2x2

from pharmaqms.lifecycle.use.signals import disproportionality as dp

TABLES = [(12, 88, 50, 9850), (3, 997, 40, 98960), (150, 1350, 900, 47600), (1, 4, 2, 3)]


@pytest.mark.parametrize(("a", "b", "c", "d"), TABLES)
def test_prr_and_its_interval_equal_the_risk_ratio_of_statsmodels(a, b, c, d) -> None:
    # Given a 2×2 table; when the PRR is computed; then it is the risk ratio of the drug row
    # against the other-drugs row, with statsmodels' log-normal interval.
    table = Table2x2(np.array([[a, b], [c, d]]))
    result = dp.proportional_reporting_ratio(a, b, c, d)
    low, high = table.riskratio_confint(alpha=0.05)
    assert float(result.estimate) == pytest.approx(table.riskratio, rel=1e-12)
    assert (float(result.lower), float(result.upper)) == pytest.approx((low, high), rel=1e-9)


def test_prr_interval_by_hand() -> None:
    # PRR = (12/100)/(50/9900) = 23.76; SE = √(1/12 − 1/100 + 1/50 − 1/9900).
    se = math.sqrt(1 / 12 - 1 / 100 + 1 / 50 - 1 / 9900)
    result = dp.proportional_reporting_ratio(12, 88, 50, 9850)
    assert float(result.estimate) == pytest.approx(23.76, rel=1e-12)
    assert float(result.lower) == pytest.approx(23.76 * math.exp(-dp.Z95 * se), rel=1e-12)
    assert float(result.upper) == pytest.approx(23.76 * math.exp(dp.Z95 * se), rel=1e-12)


@pytest.mark.parametrize(("a", "b", "c", "d"), TABLES)
def test_ror_and_its_interval_equal_statsmodels(a, b, c, d) -> None:
    table = Table2x2(np.array([[a, b], [c, d]]))
    result = dp.reporting_odds_ratio(a, b, c, d)
    low, high = table.oddsratio_confint(alpha=0.05, method="normal")
    assert float(result.estimate) == pytest.approx(table.oddsratio, rel=1e-12)
    assert (float(result.lower), float(result.upper)) == pytest.approx((low, high), rel=1e-9)


@pytest.mark.parametrize(("a", "b", "c", "d"), TABLES)
def test_chi_square_is_pearsons_and_yates_on_request(a, b, c, d) -> None:
    observed = np.array([[a, b], [c, d]])
    pearson = stats.chi2_contingency(observed, correction=False).statistic
    yates = stats.chi2_contingency(observed, correction=True).statistic
    assert float(dp.chi_square(a, b, c, d)) == pytest.approx(pearson, rel=1e-12)
    assert float(dp.chi_square(a, b, c, d, yates=True)) == pytest.approx(yates, rel=1e-12)


@pytest.mark.parametrize(
    ("a", "expected"), [(0, 0.2), (1, 0.05), (3, 0.4), (25, 3.1), (400, 120.0)]
)
def test_ic025_is_the_exact_gamma_quantile(a, expected) -> None:
    # IC025 = log2 of the 2.5 % quantile of Gamma(a + ½, rate E + ½), from scipy.stats here.
    result = dp.information_component(a, expected)
    quantile = stats.gamma.ppf(0.025, a + 0.5, scale=1 / (expected + 0.5))
    assert float(result.estimate) == pytest.approx(math.log2((a + 0.5) / (expected + 0.5)))
    assert float(result.lower) == pytest.approx(math.log2(quantile), rel=1e-10)
    upper = stats.gamma.ppf(0.975, a + 0.5, scale=1 / (expected + 0.5))
    assert float(result.upper) == pytest.approx(math.log2(upper), rel=1e-10)


def test_noréns_closed_form_approximation_is_close_except_at_zero_counts() -> None:
    # IC − 3.3(a+½)^−½ − 2(a+½)^−3/2 stays within 0.05 of the exact quantile from a = 1 on,
    # but is a third of a log2 unit off at a = 0: why the exact quantile is used.
    a = np.array([0.0, 1.0, 3.0, 25.0, 100.0, 400.0])
    expected = np.array([0.1, 0.2, 0.4, 3.1, 20.0, 120.0])
    gap = dp.information_component(a, expected).lower - dp.ic025_approximation(a, expected)
    assert gap[0] > 0.3
    assert (np.abs(gap[1:]) < 0.05).all()


def test_vectorised_over_many_tables_at_once() -> None:
    a, b, c, d = (np.array(column) for column in zip(*TABLES, strict=True))
    vector = dp.proportional_reporting_ratio(a, b, c, d).estimate
    one_by_one = [float(dp.proportional_reporting_ratio(*t).estimate) for t in TABLES]
    assert vector.tolist() == pytest.approx(one_by_one, rel=1e-15)


def test_a_zero_gives_prr_and_ror_zero_without_interval() -> None:
    prr = dp.proportional_reporting_ratio(0, 10, 5, 100)
    ror = dp.reporting_odds_ratio(0, 10, 5, 100)
    assert (float(prr.estimate), float(ror.estimate)) == (0.0, 0.0)
    assert np.isnan([prr.lower, prr.upper, ror.lower, ror.upper]).all()


def test_undefined_figures_are_nan_never_inf() -> None:
    # c = 0: no other drug has the event, PRR and ROR divide by zero; b = 0: ROR does.
    with np.errstate(all="raise"):
        no_c = dp.proportional_reporting_ratio(3, 7, 0, 90)
        no_b = dp.reporting_odds_ratio(3, 0, 4, 90)
        no_d = dp.reporting_odds_ratio(3, 2, 4, 0)
        margin_zero = dp.chi_square(3, 7, 0, 0)
    assert np.isnan([no_c.estimate, no_c.lower, no_c.upper]).all()
    assert np.isnan([no_b.estimate, no_b.lower, no_b.upper]).all()
    assert float(no_d.estimate) == 0.0 and np.isnan([no_d.lower, no_d.upper]).all()
    assert np.isnan(margin_zero)


def test_cells_from_margins_and_expected_count() -> None:
    a, b, c, d = dp.cells_from_margins(12, 100, 62, 10_000)
    assert (float(a), float(b), float(c), float(d)) == (12.0, 88.0, 50.0, 9850.0)
    assert float(dp.expected_count(a, b, c, d)) == pytest.approx(100 * 62 / 10_000)


def test_as_optional_turns_nan_and_inf_into_none() -> None:
    assert [dp.as_optional(v) for v in (np.nan, np.inf, -np.inf, 2.5)] == [None, None, None, 2.5]
