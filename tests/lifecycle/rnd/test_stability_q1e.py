"""ICH Q1E shelf life on worked examples, each answer cross-checked against statsmodels: the
ANCOVA p-values against ``anova_lm`` (type I, ``y ~ t + C(batch) + C(batch):t``) and the time
where the confidence bound of the mean meets the limit against a root search on statsmodels'
own ``get_prediction(...).conf_int``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from statsmodels.formula.api import ols
from statsmodels.stats.anova import anova_lm

from pharmaqms.lifecycle.rnd.stability.q1e import (
    Observation,
    Pooling,
    ShelfLifeRefused,
    estimate_shelf_life,
    extrapolation_limit,
    first_crossing,
    out_of_trend,
)

MONTHS = (0, 3, 6, 9, 12, 18, 24)


def _frame(observations: list[Observation]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "batch": [o.batch for o in observations],
            "t": [o.months for o in observations],
            "y": [o.value for o in observations],
        }
    )


def _statsmodels_crossing(
    fit: object, batch: str | None, lower: float | None, upper: float | None
) -> float | None:
    """The first time the statsmodels bound meets a limit, by scanning and brentq."""
    two_sided = lower is not None and upper is not None
    alpha = 0.05 if two_sided else 0.10  # conf_int is two-sided: 0.10 → one-sided 95 %

    def gap(x: float) -> float:
        row = pd.DataFrame({"t": [x], "batch": [batch or "?"]})
        low, high = fit.get_prediction(row).conf_int(alpha=alpha)[0]  # type: ignore[attr-defined]
        margins = []
        if lower is not None:
            margins.append(low - lower)
        if upper is not None:
            margins.append(upper - high)
        return float(min(margins))

    if gap(0.0) <= 0:
        return 0.0
    grid = np.arange(0.0, 241.0, 1.0)
    values = [gap(x) for x in grid]
    for left, right, v_left, v_right in zip(grid, grid[1:], values, values[1:], strict=False):
        if v_left > 0 >= v_right:
            return float(brentq(gap, left, right, xtol=1e-10))
    return None


def _series(batch: str, start: float, slope: float, noise: list[float]) -> list[Observation]:
    return [
        Observation(batch, float(m), start + slope * m + e)
        for m, e in zip(MONTHS, noise, strict=True)
    ]


NOISE = (
    [0.21, -0.12, 0.05, -0.30, 0.18, 0.02, -0.09],
    [-0.15, 0.22, -0.07, 0.11, -0.25, 0.19, 0.03],
    [0.08, -0.04, 0.26, -0.18, 0.07, -0.21, 0.12],
)


def test_a_single_batch_with_a_falling_assay() -> None:
    # Given one batch whose assay falls about 0.2 % a month, specification ≥ 95.0 %
    data = _series("B1", 100.2, -0.2, NOISE[0])
    # When the shelf life is estimated
    result = estimate_shelf_life(data, lower=95.0)
    # Then the line and the crossing of the one-sided 95 % lower bound are statsmodels'
    fit = ols("y ~ t", data=_frame(data)).fit()
    assert result.pooling is Pooling.POOLED
    assert result.p_slopes is None and result.limiting_batch == "B1"
    assert result.batches["B1"].slope == pytest.approx(fit.params["t"], abs=1e-10)
    assert result.batches["B1"].intercept == pytest.approx(fit.params["Intercept"], abs=1e-10)
    expected = _statsmodels_crossing(fit, None, 95.0, None)
    assert expected is not None and 22 < expected < 26
    assert result.estimated_months == pytest.approx(expected, abs=1e-6)
    # Just past 24 months of data: within Q1E's extrapolation, rounded down to months
    assert result.shelf_life_months == math.floor(expected)
    assert result.sided == "lower"


def test_three_batches_that_pool() -> None:
    # Given three batches with the same start and slope, differing only by assay noise
    data = [obs for i, n in enumerate(NOISE) for obs in _series(f"B{i + 1}", 100.0, -0.15, n)]
    result = estimate_shelf_life(data, lower=95.0)
    # Then ANCOVA's p-values are statsmodels' sequential F-tests, both ≥ 0.25
    table = anova_lm(ols("y ~ t + C(batch) + C(batch):t", data=_frame(data)).fit(), typ=1)
    assert result.p_slopes == pytest.approx(table.loc["C(batch):t", "PR(>F)"], rel=1e-9)
    assert result.p_intercepts == pytest.approx(table.loc["C(batch)", "PR(>F)"], rel=1e-9)
    assert result.p_slopes >= 0.25 and result.p_intercepts >= 0.25
    assert result.pooling is Pooling.POOLED
    assert result.limiting_batch is None
    # And the estimate is where the pooled line's lower bound meets 95 %
    pooled = ols("y ~ t", data=_frame(data)).fit()
    expected = _statsmodels_crossing(pooled, None, 95.0, None)
    assert expected is not None
    assert result.estimated_months == pytest.approx(expected, abs=1e-6)
    assert all(f.slope == pytest.approx(pooled.params["t"]) for f in result.batches.values())
    # 30.x months is beyond the data (24): allowed (≤ 2·24 and ≤ 24 + 12), rounded down
    assert 24 < expected < 36
    assert result.shelf_life_months == math.floor(expected)


def test_three_batches_with_a_common_slope_and_different_starts() -> None:
    # Given three batches degrading alike but starting 1 % apart
    data = [
        obs
        for i, (start, n) in enumerate(zip((100.5, 99.5, 98.8), NOISE, strict=True))
        for obs in _series(f"B{i + 1}", start, -0.12, n)
    ]
    result = estimate_shelf_life(data, lower=95.0)
    table = anova_lm(ols("y ~ t + C(batch) + C(batch):t", data=_frame(data)).fit(), typ=1)
    assert result.p_slopes == pytest.approx(table.loc["C(batch):t", "PR(>F)"], rel=1e-9)
    assert result.p_intercepts == pytest.approx(table.loc["C(batch)", "PR(>F)"], rel=1e-9)
    assert result.pooling is Pooling.COMMON_SLOPE
    # Then each batch's bound comes from the common-slope model; the lowest start governs
    common = ols("y ~ C(batch) + t", data=_frame(data)).fit()
    crossings = {b: _statsmodels_crossing(common, b, 95.0, None) for b in ("B1", "B2", "B3")}
    for batch, expected in crossings.items():
        assert result.batches[batch].estimated_months == pytest.approx(expected, abs=1e-6)
    assert result.limiting_batch == "B3"
    assert result.estimated_months == pytest.approx(crossings["B3"], abs=1e-6)


def test_three_batches_that_do_not_pool_the_shortest_governs() -> None:
    # Given three batches whose impurity rises at clearly different rates, limit ≤ 1.0 %
    data = [
        obs
        for i, (slope, n) in enumerate(zip((0.010, 0.025, 0.040), NOISE, strict=True))
        for obs in _series(f"B{i + 1}", 0.10, slope, [e / 20 for e in n])
    ]
    result = estimate_shelf_life(data, upper=1.0)
    table = anova_lm(ols("y ~ t + C(batch) + C(batch):t", data=_frame(data)).fit(), typ=1)
    assert result.p_slopes == pytest.approx(table.loc["C(batch):t", "PR(>F)"], rel=1e-9)
    assert result.p_slopes < 0.25 and result.p_intercepts is None
    assert result.pooling is Pooling.SEPARATE
    # Then each batch has its own line and upper bound; the fastest-rising batch governs
    frame = _frame(data)
    for batch in ("B1", "B2", "B3"):
        own = ols("y ~ t", data=frame[frame.batch == batch]).fit()
        assert result.batches[batch].slope == pytest.approx(own.params["t"], abs=1e-10)
        expected = _statsmodels_crossing(own, None, None, 1.0)
        got = result.batches[batch].estimated_months
        if expected is None:
            assert got is None
        else:
            assert got == pytest.approx(expected, abs=1e-6)
    assert result.limiting_batch == "B3"
    assert result.estimated_months == result.batches["B3"].estimated_months
    assert result.sided == "upper"


def test_two_sided_limits_use_the_two_sided_95_percent_bounds() -> None:
    data = _series("B1", 100.2, -0.2, NOISE[1])
    result = estimate_shelf_life(data, lower=95.0, upper=105.0)
    fit = ols("y ~ t", data=_frame(data)).fit()
    expected = _statsmodels_crossing(fit, None, 95.0, 105.0)
    assert result.sided == "two-sided"
    assert result.estimated_months == pytest.approx(expected, abs=1e-6)
    # Two-sided is stricter than the one-sided lower bound on the same data
    assert expected < (estimate_shelf_life(data, lower=95.0).estimated_months or 0)


def test_a_stable_attribute_is_limited_by_extrapolation() -> None:
    # Given an assay that does not change over 12 months
    data = _series("B1", 100.0, 0.0, NOISE[2])[:5]
    result = estimate_shelf_life(data, lower=90.0)
    # Then the proposal is Q1E's limit: min(2 × 12, 12 + 12) = 24 months
    assert result.long_term_months == 12
    assert result.extrapolation_limit_months == 24
    assert result.estimated_months is None or result.estimated_months > 24
    assert result.shelf_life_months == 24


def test_extrapolation_limit() -> None:
    assert extrapolation_limit(6) == 12  # 2 × 6
    assert extrapolation_limit(12) == 24  # both rules agree
    assert extrapolation_limit(24) == 36  # 24 + 12 is less than 48


@pytest.mark.parametrize(
    ("observations", "lower", "upper", "reason"),
    [
        ([Observation("B1", m, 100 - m) for m in (0, 3)], 95.0, None, "2 time points"),
        ([Observation("B1", m, 100 - m) for m in (0, 3, 3, 3)], 95.0, None, "2 time points"),
        ([Observation("B1", m, 100 - m) for m in (0, 3, 6)], None, None, "no specification"),
        ([Observation("B1", m, 100 - m) for m in (0, 3, 6)], 105.0, 95.0, "not below"),
        ([Observation("B1", m, math.nan) for m in (0, 3, 6)], 95.0, None, "finite"),
        ([], 95.0, None, "no results"),
    ],
)
def test_refusals(
    observations: list[Observation], lower: float | None, upper: float | None, reason: str
) -> None:
    with pytest.raises(ShelfLifeRefused, match=reason):
        estimate_shelf_life(observations, lower=lower, upper=upper)


def test_a_batch_short_of_time_points_is_named() -> None:
    data = [
        *_series("B1", 100, -0.2, NOISE[0]),
        Observation("B2", 0, 100),
        Observation("B2", 3, 99),
    ]
    with pytest.raises(ShelfLifeRefused, match="batch B2 has 2 time points"):
        estimate_shelf_life(data, lower=95.0)


def test_first_crossing_when_already_outside_and_never() -> None:
    assert first_crossing(-1.0, 1.0, 0.5, 1.0, 0.0, 0.0) == 0.0
    # A rising mean far from its lower limit with no uncertainty never meets it
    assert first_crossing(5.0, 1.0, 0.0, 1.0, 0.0, 0.0) is None
    # No uncertainty, falling 1 a month from 5 above the limit: 5 months
    assert first_crossing(5.0, -1.0, 0.0, 1.0, 0.0, 0.0) == pytest.approx(5.0)


def test_out_of_trend_against_the_prediction_interval() -> None:
    months, values = [0, 3, 6, 9], [100.1, 99.5, 98.9, 98.4]
    # On the trend (about 97.2 at 15 months): not flagged
    assert out_of_trend(months, values, 15, 97.2) is None
    # A sudden drop of 2 % against a noise of a tenth of a percent is out of trend
    reason = out_of_trend(months, values, 12, 95.6)
    assert reason is not None and "99% prediction interval" in reason
    # Fewer than three earlier time points: no trend to judge against
    assert out_of_trend([0, 3], [100, 99], 6, 50) is None


def test_exact_data_pool_on_their_own_and_not_on_rounding_noise() -> None:
    # Three identical, perfectly linear batches: nothing differs, so they pool
    data = [Observation(b, m, 0.1 + 0.02 * m) for b in ("B1", "B2", "B3") for m in MONTHS]
    result = estimate_shelf_life(data, upper=1.0)
    assert (result.pooling, result.p_slopes, result.p_intercepts) == (Pooling.POOLED, 1.0, 1.0)
    # No uncertainty: the bound is the line, which meets 1.0 at (1.0 - 0.1) / 0.02 = 45 months
    assert result.estimated_months == pytest.approx(45.0)
