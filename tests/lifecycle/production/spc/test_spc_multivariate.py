"""Hotelling T² for correlated parameters."""

import math

import numpy as np
import pytest

from pharmaqms.lifecycle.production.spc.charts import individuals_limits_known
from pharmaqms.lifecycle.production.spc.multivariate import hotelling_t2_chart, phase_two_ucl
from pharmaqms.lifecycle.production.spc.rules import evaluate_rules

RHO = 0.9
M = 100


def reference_set() -> np.ndarray:
    """100 observations whose sample mean is exactly (0, 0) and sample covariance exactly
    [[1, 0.9], [0.9, 1]], so T² can be worked out by hand."""
    raw = np.random.default_rng(7).normal(size=(M, 2))
    centred = raw - raw.mean(axis=0)
    whiten = np.linalg.cholesky(np.cov(centred, rowvar=False))
    colour = np.linalg.cholesky(np.array([[1.0, RHO], [RHO, 1.0]]))
    return centred @ np.linalg.inv(whiten).T @ colour.T


def test_phase_two_ucl_for_two_parameters() -> None:
    # For p = 2 the F quantile has a closed form: F(1 − α; 2, ν) = (ν/2)·(α^(−2/ν) − 1).
    # m = 100, ν = 98: UCL = 2·101·99/(100·98) · 49·(0.0027^(−2/98) − 1).
    nu = M - 2
    f_quantile = (nu / 2) * (0.0027 ** (-2 / nu) - 1)
    expected = 2 * 101 * 99 / (100 * 98) * f_quantile

    assert phase_two_ucl(2, M) == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(12.828, abs=1e-3)


def test_t_squared_by_hand() -> None:
    # With mean 0 and unit variances, T² = (a² − 2ρab + b²)/(1 − ρ²).
    # (2, −2): (4 + 7.2 + 4)/0.19 = 80.   (1, 1): (1 − 1.8 + 1)/0.19 = 0.2/0.19 = 20/19.
    chart = hotelling_t2_chart(reference_set())

    assert chart.mean == pytest.approx([0.0, 0.0], abs=1e-12)
    assert chart.covariance == pytest.approx(np.array([[1.0, RHO], [RHO, 1.0]]), abs=1e-12)
    assert chart.reference_size == M
    assert chart.dimension == 2
    assert chart.t_squared([[2.0, -2.0], [1.0, 1.0]]) == pytest.approx([80.0, 20 / 19], rel=1e-9)


def test_correlated_drift_is_flagged_while_each_parameter_stays_in_its_limits() -> None:
    # Given two parameters that normally move together (ρ = 0.9),
    # when they drift apart by 0.25σ per observation, (a, −a) with a = 0.25·t,
    # then T² = (a² + 1.8a² + a²)/0.19 = 20a² = 1.25·t² passes the UCL 12.83 from t = 4 on …
    chart = hotelling_t2_chart(reference_set())
    steps = np.arange(11)
    drift = np.column_stack((0.25 * steps, -0.25 * steps))

    assert chart.t_squared(drift) == pytest.approx(1.25 * steps**2, rel=1e-9, abs=1e-12)
    assert chart.signals(drift) == [4, 5, 6, 7, 8, 9, 10]
    # … while each parameter, at most 2.5σ from its mean, never breaks its own 3σ limit.
    for column in range(2):
        individual = individuals_limits_known(0.0, 1.0)
        values = drift[:, column].tolist()
        assert evaluate_rules(values, center=0.0, sigma=1.0, enabled={1}) == []
        assert individual.location.lower < min(values) and max(values) < individual.location.upper


def test_alpha_moves_the_limit() -> None:
    chart = hotelling_t2_chart(reference_set(), alpha=0.05)

    assert chart.alpha == 0.05
    nu = M - 2
    assert chart.ucl == pytest.approx(
        2 * 101 * 99 / (100 * 98) * (nu / 2) * (0.05 ** (-2 / nu) - 1), rel=1e-9
    )


def test_estimates_are_read_only() -> None:
    chart = hotelling_t2_chart(reference_set())
    with pytest.raises(ValueError, match="read-only"):
        chart.mean[0] = 1.0


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ([[1.0, 2.0], [2.0, 3.0]], "more than 2 observations"),
        ([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [4.0, 5.0]], "singular"),
        ([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [4.0, 8.1]], None),
        ([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [4.0, 8.0]], "singular"),
        ([1.0, 2.0, 3.0], "two-dimensional"),
        ([[1.0, math.nan], [2.0, 1.0], [3.0, 0.0]], "finite"),
    ],
)
def test_unusable_reference_sets_are_refused(reference: list, message: str | None) -> None:
    if message is None:
        assert hotelling_t2_chart(reference).dimension == 2
        return
    with pytest.raises(ValueError, match=message):
        hotelling_t2_chart(reference)


def test_observations_of_the_wrong_width_are_refused() -> None:
    chart = hotelling_t2_chart(reference_set())
    with pytest.raises(ValueError, match="2 values"):
        chart.t_squared([[1.0, 2.0, 3.0]])
