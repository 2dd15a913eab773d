"""MGPS: posterior scores against an independent numerical integration, against the values
the domain reference records for openEBGM's test hyperparameters (checked there against
vigipy 3.5.1), against vigipy on the same table, and the prior fit recovering the
hyperparameters of counts simulated from a known prior."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import vigipy
from scipy import integrate, optimize, stats

from pharmaqms.lifecycle.use.signals import SignalInputError, mgps

# openEBGM tests/testthat/testEBGM.R: "Theta values from previous run on included caers
# dataset (as of 12/30/2016)".
OPENEBGM_TEST = mgps.GammaMixturePrior(3.25280367, 0.39983376, 2.02490400, 1.90726819, 0.06536416)
# DuMouchel 1999's estimates for the FDA database (vigipy's default starting prior).
DUMOUCHEL = mgps.GammaMixturePrior(0.2041, 0.05816, 1.415, 1.838, 0.0969)


def posterior_by_integration(prior: mgps.GammaMixturePrior, n: int, e: float) -> tuple:
    """EBGM, EB05, EB95 by quadrature over the posterior density and root finding on its
    integrated CDF: no closed form shared with the code under test."""
    like1 = stats.nbinom.pmf(n, prior.alpha1, prior.beta1 / (prior.beta1 + e))
    like2 = stats.nbinom.pmf(n, prior.alpha2, prior.beta2 / (prior.beta2 + e))
    q = prior.p * like1 / (prior.p * like1 + (1 - prior.p) * like2)

    def density(x: float) -> float:
        first = stats.gamma.pdf(x, prior.alpha1 + n, scale=1 / (prior.beta1 + e))
        second = stats.gamma.pdf(x, prior.alpha2 + n, scale=1 / (prior.beta2 + e))
        return q * first + (1 - q) * second

    top = 50 * (n + 5) / min(prior.beta1 + e, prior.beta2 + e)
    mean_log = integrate.quad(lambda x: math.log(x) * density(x), 0, top, limit=500)[0]

    def quantile(p: float) -> float:
        cdf = lambda x: integrate.quad(density, 0, x, limit=500)[0]  # noqa: E731
        return optimize.brentq(lambda x: cdf(x) - p, 1e-12, top, xtol=1e-13)

    return math.exp(mean_log), quantile(0.05), quantile(0.95)


def test_domain_reference_example_drug_a_hepatitis() -> None:
    # Domain reference §4: DrugA–Hepatitis, n = 12, E = 3.731343 under openEBGM's test θ →
    # EBGM 2.515302, EB05 1.533, EB95 4.1168. (Quadrature gives EB95 = 4.116740: the
    # reference's last digit is vigipy's bisection tolerance, hence 1e-4 here.)
    assert float(mgps.ebgm(OPENEBGM_TEST, 12, 3.731343)) == pytest.approx(2.515302, abs=5e-7)
    eb05 = mgps.posterior_quantile(OPENEBGM_TEST, 12, 3.731343, 0.05)
    eb95 = mgps.posterior_quantile(OPENEBGM_TEST, 12, 3.731343, 0.95)
    assert float(eb05) == pytest.approx(1.533, abs=5e-4)
    assert float(eb95) == pytest.approx(4.1168, abs=1e-4)


@pytest.mark.parametrize("prior", [OPENEBGM_TEST, DUMOUCHEL], ids=["openEBGM", "DuMouchel"])
@pytest.mark.parametrize(("n", "e"), [(1, 0.01), (1, 2.0), (3, 0.2), (12, 3.731343), (40, 5.5)])
def test_scores_equal_numerical_integration_of_the_posterior(prior, n, e) -> None:
    gm, low, high = posterior_by_integration(prior, n, e)
    assert float(mgps.ebgm(prior, n, e)) == pytest.approx(gm, rel=1e-7)
    assert float(mgps.posterior_quantile(prior, n, e, 0.05)) == pytest.approx(low, rel=1e-7)
    assert float(mgps.posterior_quantile(prior, n, e, 0.95)) == pytest.approx(high, rel=1e-7)


def test_scores_equal_vigipy_gps_with_the_same_prior() -> None:
    # Given vigipy's own drug × event table and the same fixed prior, EBGM and the 5 % and
    # 95 % quantiles agree pair by pair (vigipy takes E = row·column/N of its table).
    frame = pd.DataFrame(
        {
            "name": ["A", "A", "B", "B", "C", "A", "C", "D", "D"],
            "AE": ["X", "Y", "X", "Z", "Y", "X", "Z", "X", "Z"],
            "count": [10, 3, 4, 7, 2, 5, 9, 1, 30],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = vigipy.gps(
            vigipy.convert(frame),
            min_events=1,
            prior_param=list(OPENEBGM_TEST.as_tuple()),
            decision_metric="signals",
            decision_thres=0,
        ).all_signals
    n = result["Count"].to_numpy()
    e = result["Expected Count"].to_numpy()
    assert mgps.ebgm(OPENEBGM_TEST, n, e) == pytest.approx(result["EBGM"].to_numpy(), rel=1e-7)
    low = mgps.posterior_quantile(OPENEBGM_TEST, n, e, 0.05)
    high = mgps.posterior_quantile(OPENEBGM_TEST, n, e, 0.95)
    assert low == pytest.approx(result["LowerBound"].to_numpy(), rel=1e-4)
    assert high == pytest.approx(result["UpperBound"].to_numpy(), rel=1e-4)


def test_quantiles_solve_the_mixture_cdf_for_many_pairs_at_once() -> None:
    rng = np.random.default_rng(3)
    n = rng.integers(1, 200, 5_000).astype(float)
    e = np.exp(rng.normal(0, 2, 5_000))
    for probability in (0.05, 0.95):
        x = mgps.posterior_quantile(DUMOUCHEL, n, e, probability)
        q = mgps.posterior_weight(DUMOUCHEL, n, e)
        cdf = q * stats.gamma.cdf(x, DUMOUCHEL.alpha1 + n, scale=1 / (DUMOUCHEL.beta1 + e)) + (
            1 - q
        ) * stats.gamma.cdf(x, DUMOUCHEL.alpha2 + n, scale=1 / (DUMOUCHEL.beta2 + e))
        assert np.abs(cdf - probability).max() < 1e-9
    assert (mgps.posterior_quantile(DUMOUCHEL, n, e, 0.05) < mgps.ebgm(DUMOUCHEL, n, e)).all()


def test_quantiles_from_the_interpolated_start_equal_those_from_the_bracket() -> None:
    # 60,000 pairs over 20 counts: enough for the per-count table of starting points.
    rng = np.random.default_rng(4)
    n = rng.integers(1, 21, 60_000).astype(float)
    e = np.exp(rng.normal(-1, 2, 60_000))
    for probability in (0.05, 0.95):
        table = mgps.posterior_quantile(DUMOUCHEL, n, e, probability)
        bracket = mgps.posterior_quantile(DUMOUCHEL, n, e, probability, interpolate=False)
        assert table == pytest.approx(bracket, rel=1e-9)


def test_the_interval_solved_in_a_helper_process_is_the_same_to_the_last_bit() -> None:
    rng = np.random.default_rng(5)
    n = rng.integers(1, 30, 20_000).astype(float)
    e = np.exp(rng.normal(-1, 2, 20_000))
    alone = (
        mgps.posterior_quantile(DUMOUCHEL, n, e, 0.05),
        mgps.posterior_quantile(DUMOUCHEL, n, e, 0.95),
    )
    for parallel in (True, False):
        low, high = mgps.posterior_interval(DUMOUCHEL, n, e, parallel=parallel)
        assert np.array_equal(low, alone[0]) and np.array_equal(high, alone[1])


def simulate(prior: mgps.GammaMixturePrior, cells: int, seed: int) -> tuple:
    """Counts of ``cells`` pairs with E log-normal and λ drawn from ``prior``; only the pairs
    reported at least once are returned, as a database would hold them."""
    rng = np.random.default_rng(seed)
    e = np.exp(rng.normal(0.0, 1.0, cells))
    first = rng.random(cells) < prior.p
    lam = np.where(
        first,
        rng.gamma(prior.alpha1, 1 / prior.beta1, cells),
        rng.gamma(prior.alpha2, 1 / prior.beta2, cells),
    )
    n = rng.poisson(lam * e)
    seen = n >= 1
    return n[seen], e[seen]


def test_fit_recovers_the_prior_counts_were_simulated_from() -> None:
    # Given 150,000 pairs simulated from a known two-gamma prior (95,000 or so reported at
    # least once); when the prior is fitted (squashed, n ≥ 1 truncated likelihood); then
    # each hyperparameter is recovered within 5 %.
    true = mgps.GammaMixturePrior(2.0, 0.5, 5.0, 5.0, 0.2)
    n, e = simulate(true, 150_000, seed=7)
    fit = mgps.fit_prior(n, e)
    assert fit.converged
    assert fit.pairs == n.size
    assert fit.points < n.size / 10
    assert fit.prior.as_tuple() == pytest.approx(true.as_tuple(), rel=0.05)


def test_squashing_keeps_every_pair_and_nearly_the_likelihood() -> None:
    true = mgps.GammaMixturePrior(2.0, 0.5, 5.0, 5.0, 0.2)
    n, e = simulate(true, 100_000, seed=11)
    points = mgps.squash(n, e)
    everything = mgps.SquashedPoints(n.astype(float), e, np.ones(n.size))
    assert points.weight.sum() == n.size
    for count in (1, 2, 7):
        kept = points.n == count
        assert points.weight[kept].sum() == (n == count).sum()
        # the weighted mean of the bins is the mean E of the pairs with that count
        assert np.average(points.expected[kept], weights=points.weight[kept]) == pytest.approx(
            e[n == count].mean(), rel=1e-12
        )
    squashed, full = mgps.log_likelihood(true, points), mgps.log_likelihood(true, everything)
    assert abs(squashed - full) < 1e-4 * abs(full)


def test_small_counts_are_kept_point_by_point() -> None:
    points = mgps.squash([5, 5, 1, 9], [0.3, 0.1, 2.0, 0.7])
    assert points.n.tolist() == [1.0, 5.0, 5.0, 9.0]
    assert points.expected.tolist() == [2.0, 0.1, 0.3, 0.7]
    assert points.weight.tolist() == [1.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2,3", "a prior is five numbers A1,B1,A2,B2,P; got 3"),
        ("1,2,x,4,0.5", "a prior is five numbers A1,B1,A2,B2,P: could not convert"),
        ("1,2,3,4,1", "P, the weight of the first component, must be below 1"),
        ("1,-2,3,4,0.5", "alpha1, beta1, alpha2, beta2 and P must be positive numbers"),
        ("1,2,3,nan,0.5", "alpha1, beta1, alpha2, beta2 and P must be positive numbers"),
    ],
)
def test_malformed_priors_are_refused(text, message) -> None:
    with pytest.raises(SignalInputError) as error:
        mgps.GammaMixturePrior.parse(text)
    assert error.value.detail.startswith(message)


def test_fit_refuses_when_no_pair_was_reported() -> None:
    with pytest.raises(SignalInputError, match="no pair with a count of at least 1"):
        mgps.fit_prior([0, 0], [1.0, 2.0])
