"""Firth's penalised logistic regression against known answers: the endometrial cancer data of
Heinze & Schemper (2002), where one factor separates the outcome (every patient with
neovasculation has high-grade histology); ordinary maximum likelihood on a large sample
without separation (computed here independently with SciPy's optimiser); and a fully
separated set, where ML diverges and Firth stays finite."""

from __future__ import annotations

import io

import numpy as np
import pytest
from scipy import optimize, stats

from pharmaqms.lifecycle.use.risk.firth import _CHI2_95, _maximise, firth_logit

# Endometrial cancer study (Asseryanis et al.; analysed by Heinze & Schemper 2002, Stat Med
# 21:2409–2419): NV neovasculation (0/1), PI pulsatility index, EH endometrium height, HG
# histology grade (the outcome). 79 patients.
ENDOMETRIAL = """NV,PI,EH,HG
0,13,1.64,0
0,16,2.26,0
0,8,3.14,0
0,34,2.68,0
0,20,1.28,0
0,5,2.31,0
0,17,1.8,0
0,10,1.68,0
0,26,1.56,0
0,17,2.31,0
0,8,2.01,0
0,7,1.89,0
0,20,3.15,0
0,10,1.23,0
0,18,1.27,0
0,16,1.76,0
0,18,2,0
0,8,2.64,1
0,29,0.88,1
0,12,1.27,1
0,20,1.37,1
1,38,0.97,1
1,22,1.14,1
1,7,0.88,1
1,25,0.91,1
1,15,0.58,1
0,7,0.97,1
0,28,1.5,0
0,11,1.33,0
0,19,2.37,0
0,10,1.82,0
0,10,3.13,0
0,18,1.31,0
0,14,1.92,0
0,21,1.64,0
0,11,2.01,0
0,17,1.88,0
0,25,1.93,0
0,16,2.11,0
0,19,1.29,0
0,15,1.72,0
0,33,0.75,0
0,24,1.92,0
0,48,1.84,1
0,12,1.11,1
0,19,1.61,1
0,2,1.18,1
1,22,1.44,1
1,40,1.18,1
1,5,0.93,1
1,0,1.17,1
0,21,1.19,1
0,15,1.06,1
0,29,2.02,0
0,15,2.29,0
0,12,2.33,0
0,3,2.9,0
0,20,1.7,0
0,23,1.41,0
0,12,2.25,0
0,22,1.54,0
0,42,1.97,0
0,15,1.75,0
0,13,2.16,0
0,14,2.57,0
0,19,1.37,0
0,12,3.61,0
0,13,2.04,0
0,10,2.17,0
0,12,1.69,1
1,49,0.27,1
0,6,1.84,1
0,5,1.3,1
0,17,0.96,1
1,11,1.01,1
1,21,0.98,1
0,5,0.35,1
1,19,1.02,1
0,33,0.85,1
"""
NAMES = ("(intercept)", "NV", "PI", "EH")


def endometrial() -> tuple[np.ndarray, np.ndarray]:
    rows = np.loadtxt(io.StringIO(ENDOMETRIAL), delimiter=",", skiprows=1)
    return np.column_stack([np.ones(len(rows)), rows[:, :3]]), rows[:, 3]


def test_the_endometrial_estimates_and_profile_intervals_are_those_of_logistf() -> None:
    # given the published data set, when fitted, then the coefficients are those of R's
    # logistf (Heinze & Schemper 2002, Table III: NV 2.93, 95 % PL CI 0.61 to 7.85), and the
    # profile penalised-likelihood intervals those logistf 1.24 prints
    x, y = endometrial()
    fit = firth_logit(x, y, NAMES)
    assert fit.coef == pytest.approx([3.77455951, 2.92927330, -0.03475175, -2.60416387], rel=1e-6)
    lows = [1.0825371, 0.6097244, -0.1244587, -4.3651832]
    highs = [7.2092805, 7.8546317, 0.0404555, -1.2327211]
    assert fit.profile_lo == pytest.approx(lows, rel=1e-5)
    assert fit.profile_hi == pytest.approx(highs, rel=1e-5)
    # NV separates the outcome: ML would run to infinity; Firth's odds ratio is finite
    assert 10 < np.exp(fit.coef[1]) < 30
    # EH is clearly associated; PI is not
    assert fit.p_value[3] < 1e-4 and fit.p_value[2] > 0.2


def test_at_a_profile_bound_the_penalised_deviance_is_the_chi_square_quantile() -> None:
    x, y = endometrial()
    fit = firth_logit(x, y, NAMES)
    free = np.array([True, False, True, True])
    for bound in (fit.profile_lo[1], fit.profile_hi[1]):
        assert bound is not None
        start = np.array(fit.coef)
        start[1] = bound
        _b, fixed, _n = _maximise(x, y, start, free)
        assert 2 * (fit.loglik - fixed) == pytest.approx(_CHI2_95, abs=1e-5)


def _ml(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    def negative(beta: np.ndarray) -> float:
        eta = x @ beta
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta))

    def gradient(beta: np.ndarray) -> np.ndarray:
        return x.T @ (1 / (1 + np.exp(-(x @ beta))) - y)

    found = optimize.minimize(
        negative, np.zeros(x.shape[1]), jac=gradient, method="BFGS", options={"gtol": 1e-10}
    )
    return np.asarray(found.x)


def test_with_many_cases_and_no_separation_firth_is_ordinary_maximum_likelihood() -> None:
    rng = np.random.default_rng(20261206)
    n = 20_000
    x = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=n)])
    truth = np.array([-1.0, 0.8, -0.5])
    y = (rng.random(n) < 1 / (1 + np.exp(-(x @ truth)))).astype(float)
    fit = firth_logit(x, y, ("c", "a", "b"), profile=False)
    ml = _ml(x, y)
    # the bias correction is O(1/n): negligible here
    assert fit.coef == pytest.approx(ml, abs=2e-3)
    assert fit.coef == pytest.approx(truth, abs=0.08)
    # and the Wald interval is the usual ±1.96 SE
    z = stats.norm.ppf(0.975)
    assert fit.wald_hi[1] - fit.wald_lo[1] == pytest.approx(2 * z * fit.se[1])


def test_a_fully_separated_factor_gets_a_finite_estimate_and_an_open_upper_bound() -> None:
    # 10 exposed cases, all serious; 20 unexposed, 5 serious: ML's odds ratio is infinite
    exposed = np.r_[np.ones(10), np.zeros(20)]
    y = np.r_[np.ones(10), np.ones(5), np.zeros(15)]
    x = np.column_stack([np.ones(30), exposed])
    fit = firth_logit(x, y, ("c", "exposed"))
    assert np.isfinite(fit.coef[1]) and 2 < fit.coef[1] < 6
    # a 2×2 table: Firth is the ML estimate with ½ added to every cell (Heinze & Schemper)
    assert fit.coef[1] == pytest.approx(np.log((10.5 / 0.5) / (5.5 / 15.5)), rel=1e-6)
    assert fit.profile_lo[1] is not None and fit.profile_lo[1] > 0
    assert fit.p_value[1] < 0.01
