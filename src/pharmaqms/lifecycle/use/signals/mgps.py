"""DuMouchel's multi-item gamma Poisson shrinker (MGPS): the empirical Bayes geometric mean.

Model (DuMouchel 1999, Am Stat 53:177): a pair's count n is Poisson(λ·E), and the relative
reporting ratios λ of all pairs are draws from one prior, a mixture of two gammas

    π(λ) = P·Γ(λ; α₁, β₁) + (1 − P)·Γ(λ; α₂, β₂)        (shape α, rate β).

Given E, n is then a mixture of negative binomials, NB(size α, prob β/(β+E)), and the
posterior of λ is the gamma mixture Qₙ·Γ(α₁+n, β₁+E) + (1 − Qₙ)·Γ(α₂+n, β₂+E) with
Qₙ = P·f₁(n) / (P·f₁(n) + (1 − P)·f₂(n)). The scores:

- EBGM = exp(E[ln λ | n]) = exp(Qₙ(ψ(α₁+n) − ln(β₁+E)) + (1−Qₙ)(ψ(α₂+n) − ln(β₂+E)));
- EB05, EB95 = the 5 % and 95 % quantiles of that posterior mixture.

The five hyperparameters θ are fitted by maximum likelihood over the pairs that were reported
at least once, with the likelihood of each conditioned on n ≥ 1 (the pairs never reported are
not enumerated: openEBGM's ``N_star = 1``), after squashing the (n, E) points into weighted
bins (DuMouchel & Pregibon 2001; openEBGM's ``squashData``).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from pharmaqms.lifecycle.use.signals.disproportionality import gamma_quantile
from pharmaqms.lifecycle.use.signals.errors import SignalInputError

Floats = NDArray[np.float64]

# Starting points of the fit, openEBGM's documented examples for theta_init: a fit that
# converges from several of them to the same optimum is not a local accident.
STARTS: Final = (
    (0.2, 0.1, 2.0, 4.0, 1 / 3),
    (0.1, 0.1, 10.0, 10.0, 0.2),
    (0.3, 0.5, 6.0, 6.0, 0.5),
    (0.5, 0.3, 12.0, 12.0, 0.8),
    (0.2, 0.2, 5.0, 5.0, 0.4),
)
# A count whose pairs number at most this many is kept point by point; above, its points
# are squashed into this many bins of consecutive E (equal numbers of points per bin).
KEEP_POINTS: Final = 200
BINS_PER_COUNT: Final = 200
_BOUND: Final = 1e-8  # shapes, rates and P stay inside (0, ∞) and (0, 1)
HALLEY_LAST_STEP: Final = 1e-5


@dataclass(frozen=True, slots=True)
class GammaMixturePrior:
    """θ = (α₁, β₁, α₂, β₂, P): shapes, rates, and the weight P of the first component."""

    alpha1: float
    beta1: float
    alpha2: float
    beta2: float
    p: float

    def __post_init__(self) -> None:
        values = (self.alpha1, self.beta1, self.alpha2, self.beta2, self.p)
        if not all(np.isfinite(v) and v > 0 for v in values):
            raise SignalInputError("alpha1, beta1, alpha2, beta2 and P must be positive numbers")
        if not self.p < 1:
            raise SignalInputError("P, the weight of the first component, must be below 1")

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        return (self.alpha1, self.beta1, self.alpha2, self.beta2, self.p)

    @classmethod
    def parse(cls, text: str) -> GammaMixturePrior:
        """``"A1,B1,A2,B2,P"`` as the command line takes it."""
        parts = [part.strip() for part in text.split(",")]
        if len(parts) != 5:
            raise SignalInputError(f"a prior is five numbers A1,B1,A2,B2,P; got {len(parts)}")
        try:
            values = [float(part) for part in parts]
        except ValueError as error:
            raise SignalInputError(f"a prior is five numbers A1,B1,A2,B2,P: {error}") from error
        return cls(*values)


@dataclass(frozen=True, slots=True)
class SquashedPoints:
    """(n, E) points with weights: each stands for ``weight`` pairs of count n."""

    n: Floats
    expected: Floats
    weight: Floats


@dataclass(frozen=True, slots=True)
class PriorFit:
    """The fitted prior and how the fit went."""

    prior: GammaMixturePrior
    log_likelihood: float
    pairs: int
    points: int
    converged: bool
    starts_converged: int


def _log_nbinom(n: Floats, alpha: float, beta: float, expected: Floats) -> Floats:
    """log NB(n; size α, prob β/(β+E)), the marginal of n under one gamma component."""
    log_rate = np.log(beta + expected)
    result: Floats = (
        special.gammaln(alpha + n)
        - special.gammaln(alpha)
        - special.gammaln(n + 1)
        + alpha * (np.log(beta) - log_rate)
        + special.xlogy(n, expected)
        - n * log_rate
    )
    return result


def posterior_weight(prior: GammaMixturePrior, n: ArrayLike, expected: ArrayLike) -> Floats:
    """Qₙ, the posterior probability that λ comes from the first component."""
    n_, e_ = np.asarray(n, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    log1 = np.log(prior.p) + _log_nbinom(n_, prior.alpha1, prior.beta1, e_)
    log2 = np.log1p(-prior.p) + _log_nbinom(n_, prior.alpha2, prior.beta2, e_)
    result: Floats = special.expit(log1 - log2)
    return result


def ebgm(prior: GammaMixturePrior, n: ArrayLike, expected: ArrayLike) -> Floats:
    """The empirical Bayes geometric mean exp(E[ln λ | n, E])."""
    n_, e_ = np.asarray(n, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    q = posterior_weight(prior, n_, e_)
    mean_log1 = special.digamma(prior.alpha1 + n_) - np.log(prior.beta1 + e_)
    mean_log2 = special.digamma(prior.alpha2 + n_) - np.log(prior.beta2 + e_)
    result: Floats = np.exp(q * mean_log1 + (1 - q) * mean_log2)
    return result


def posterior_quantile(
    prior: GammaMixturePrior,
    n: ArrayLike,
    expected: ArrayLike,
    probability: float,
    *,
    tolerance: float = 1e-9,
    max_iterations: int = 100,
    interpolate: bool = True,
) -> Floats:
    """The ``probability`` quantile of each pair's posterior gamma mixture (EB05: 0.05).

    The mixture's quantile lies between its two components' quantiles, which scipy gives
    exactly. Inside that bracket, every pair at once takes a Halley step on ln x (the
    posterior density and its slope are cheap next to the CDF) when it stays inside the
    bracket, else an Illinois false-position step (regula falsi that halves the weight of an
    end kept twice), so that a bimodal posterior cannot stall it."""
    if not 0 < probability < 1:
        raise ValueError("a quantile's probability lies strictly between 0 and 1")
    n_, e_ = np.broadcast_arrays(
        np.asarray(n, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    )
    shape = n_.shape
    n_, e_ = n_.ravel(), e_.ravel()
    q = posterior_weight(prior, n_, e_)
    shape1, rate1 = prior.alpha1 + n_, prior.beta1 + e_
    shape2, rate2 = prior.alpha2 + n_, prior.beta2 + e_
    log_rate1, log_rate2 = np.log(rate1), np.log(rate2)
    log_gamma1, log_gamma2 = special.gammaln(shape1), special.gammaln(shape2)
    quantile1 = np.log(gamma_quantile(shape1, probability, log2=False)) - log_rate1
    quantile2 = np.log(gamma_quantile(shape2, probability, log2=False)) - log_rate2
    first_lower = quantile1 <= quantile2
    lower = np.where(first_lower, quantile1, quantile2)
    upper = np.where(first_lower, quantile2, quantile1)
    # CDF − probability at the ends: the component whose quantile it is contributes exactly
    # ``probability``; the other one is evaluated once.
    other_at_lower = special.gammainc(
        np.where(first_lower, shape2, shape1), np.where(first_lower, rate2, rate1) * np.exp(lower)
    )
    other_at_upper = special.gammainc(
        np.where(first_lower, shape1, shape2), np.where(first_lower, rate1, rate2) * np.exp(upper)
    )
    weight_lower = np.where(first_lower, 1 - q, q)  # weight of the *other* component
    f_lower = weight_lower * (other_at_lower - probability)
    f_upper = (1 - weight_lower) * (other_at_upper - probability)
    # Start at the false-position point of the bracket: closer than either end when the
    # posterior is bimodal (a tight background component, a broad signal component); for
    # many pairs, from a table of exact quantiles per count interpolated in ln E instead.
    with np.errstate(divide="ignore", invalid="ignore"):
        root = lower - f_lower * (upper - lower) / (f_upper - f_lower)
    root = np.where(np.isfinite(root), root, (lower + upper) / 2)
    if interpolate:
        table = _interpolated_start(prior, n_, e_, probability)
        if table is not None:
            root = np.clip(table, lower, upper)
    side = np.zeros(root.size, dtype=np.int8)  # which end moved last: −1 lower, +1 upper
    active = np.flatnonzero(upper - lower > tolerance)
    for _ in range(max_iterations):
        if active.size == 0:
            break
        u = root[active]
        qa = q[active]
        s1, s2 = shape1[active], shape2[active]
        x1, x2 = rate1[active] * np.exp(u), rate2[active] * np.exp(u)
        excess = qa * special.gammainc(s1, x1) + (1 - qa) * special.gammainc(s2, x2)
        excess -= probability
        # d CDF / d ln x = x·pdf(x) = Σ weight·exp(s ln(r x) − r x − ln Γ(s)), and its
        # derivative in ln x, Σ weight·x·pdf_k(x)·(s − r x), for Halley's step.
        part1 = qa * np.exp(s1 * np.log(x1) - x1 - log_gamma1[active])
        part2 = (1 - qa) * np.exp(s2 * np.log(x2) - x2 - log_gamma2[active])
        slope = part1 + part2
        bend = part1 * (s1 - x1) + part2 * (s2 - x2)
        low, high = lower[active], upper[active]
        f_low, f_high, last = f_lower[active], f_upper[active], side[active]
        below = excess < 0
        above = excess > 0
        # Illinois: an end kept while the other moves twice in a row has its value halved.
        f_high = np.where(below & (last == -1), f_high / 2, f_high)
        f_low = np.where(above & (last == 1), f_low / 2, f_low)
        low = np.where(below, u, low)
        f_low = np.where(below, excess, f_low)
        high = np.where(above, u, high)
        f_high = np.where(above, excess, f_high)
        last = np.where(below, -1, np.where(above, 1, last)).astype(np.int8)
        with np.errstate(divide="ignore", invalid="ignore"):
            halley = u - 2 * excess * slope / (2 * slope**2 - excess * bend)
            secant = low - f_low * (high - low) / (f_high - f_low)
        inside = np.isfinite(halley) & (halley > low) & (halley < high)
        secant = np.where(np.isfinite(secant), secant, (low + high) / 2)
        new = np.where(inside, halley, secant)
        new = np.where(excess == 0, u, new)
        lower[active], upper[active], root[active] = low, high, new
        f_lower[active], f_upper[active], side[active] = f_low, f_high, last
        # Halley converges cubically: a step of 1e-5 leaves an error near 1e-15, so such a
        # step ends the pair's search instead of costing one more round to confirm it.
        step = np.abs(new - u) / np.maximum(1.0, np.abs(u))
        done = (
            (step <= tolerance) | (inside & (step <= HALLEY_LAST_STEP)) | (high - low <= tolerance)
        )
        active = active[~done]
    result: Floats = np.exp(root)
    return result.reshape(shape)


# From this many pairs on, the two quantiles are computed at the same time in two processes
# (SciPy's incomplete gamma holds the GIL, so threads would not run it in parallel). Below,
# starting a process costs more than it saves.
PARALLEL_PAIRS: Final = 200_000


def posterior_interval(
    prior: GammaMixturePrior,
    n: ArrayLike,
    expected: ArrayLike,
    *,
    low: float = 0.05,
    high: float = 0.95,
    parallel: bool | None = None,
) -> tuple[Floats, Floats]:
    """EB05 and EB95 (the ``low`` and ``high`` posterior quantiles) of each pair.

    With many pairs on a machine with two cores or more, the ``low`` quantile is solved in a
    helper process while this one solves the ``high`` one: each is the same computation on
    the same arrays as :func:`posterior_quantile` alone, so the figures are identical to the
    last bit. ``parallel`` forces (True) or forbids (False) the helper process."""
    n_, e_ = np.broadcast_arrays(
        np.asarray(n, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    )
    use_helper = (
        parallel
        if parallel is not None
        else n_.size >= PARALLEL_PAIRS
        and (os.cpu_count() or 1) >= 2
        and "fork" in multiprocessing.get_all_start_methods()
    )
    if not use_helper:
        return (
            posterior_quantile(prior, n_, e_, low),
            posterior_quantile(prior, n_, e_, high),
        )
    # A forked helper: it starts at once with the arrays already in its memory and runs only
    # NumPy/SciPy code. (A spawned one would re-import the caller's main module, which breaks
    # any script without a ``__main__`` guard; Polars' thread pool, which makes forking risky
    # for a child that uses Polars, is never touched by it.)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as helper:
        lower = helper.submit(posterior_quantile, prior, n_, e_, low)
        upper = posterior_quantile(prior, n_, e_, high)
        return lower.result(), upper


_GRID: Final = 24  # E points per count in the table of starting quantiles


def _interpolated_start(
    prior: GammaMixturePrior, n: Floats, expected: Floats, probability: float
) -> Floats | None:
    """ln quantiles interpolated (linearly in ln E) from exact ones on a grid of ``_GRID``
    values of E per distinct count: a start one or two Halley steps from the root. None when
    the table would not be much smaller than the pairs themselves."""
    counts, where = np.unique(n, return_inverse=True)
    if n.size < 8 * counts.size * _GRID:
        return None
    log_e = np.log(expected)
    low = np.full(counts.size, np.inf)
    high = np.full(counts.size, -np.inf)
    np.minimum.at(low, where, log_e)
    np.maximum.at(high, where, log_e)
    width = np.maximum(high - low, 1e-12)
    steps = np.linspace(0.0, 1.0, _GRID)
    grid_e = np.exp(low[:, None] + width[:, None] * steps[None, :])
    grid_n = np.repeat(counts, _GRID).reshape(counts.size, _GRID)
    table = np.log(
        posterior_quantile(prior, grid_n, grid_e, probability, interpolate=False)
    ).reshape(counts.size, _GRID)
    position = (log_e - low[where]) / width[where] * (_GRID - 1)
    left = np.clip(np.floor(position).astype(np.int64), 0, _GRID - 2)
    fraction = position - left
    start: Floats = table[where, left] * (1 - fraction) + table[where, left + 1] * fraction
    return start


def squash(
    n: ArrayLike,
    expected: ArrayLike,
    *,
    keep_points: int = KEEP_POINTS,
    bins_per_count: int = BINS_PER_COUNT,
) -> SquashedPoints:
    """Bin the (n, E) points of each count n by consecutive E into weighted points.

    A count held by at most ``keep_points`` pairs keeps every point (weight 1); a more
    frequent count is cut into ``bins_per_count`` bins of consecutive E with (nearly) equal
    numbers of points, each represented by its mean E and weighted by its size."""
    n_ = np.asarray(n, dtype=np.float64).ravel()
    e_ = np.asarray(expected, dtype=np.float64).ravel()
    if n_.size == 0:
        return SquashedPoints(n_, e_, np.ones(0))
    order = np.lexsort((e_, n_))
    n_sorted, e_sorted = n_[order], e_[order]
    starts = np.flatnonzero(np.r_[True, n_sorted[1:] != n_sorted[:-1]])
    sizes = np.diff(np.r_[starts, n_sorted.size])
    group = np.repeat(np.arange(starts.size), sizes)
    rank = np.arange(n_sorted.size) - starts[group]
    size = sizes[group]
    bins = np.where(size <= keep_points, size, np.minimum(size, bins_per_count))
    local_bin = (rank * bins) // size
    segment = np.flatnonzero(
        np.r_[True, (group[1:] != group[:-1]) | (local_bin[1:] != local_bin[:-1])]
    )
    weight = np.diff(np.r_[segment, n_sorted.size]).astype(np.float64)
    mean_e = np.add.reduceat(e_sorted, segment) / weight
    return SquashedPoints(n_sorted[segment], mean_e, weight)


def _unpack(free: Floats) -> tuple[float, float, float, float, float]:
    a1, b1, a2, b2 = np.exp(free[:4])
    p = float(special.expit(free[4]))
    return float(a1), float(b1), float(a2), float(b2), min(max(p, _BOUND), 1 - _BOUND)


def _negative_log_likelihood(free: Floats, points: SquashedPoints) -> tuple[float, Floats]:
    """−log L of θ over the points (truncated at n ≥ 1) and its gradient in the free
    parameters (ln α₁, ln β₁, ln α₂, ln β₂, logit P)."""
    a1, b1, a2, b2, p = _unpack(free)
    n, e, w = points.n, points.expected, points.weight
    log_f1 = _log_nbinom(n, a1, b1, e)
    log_f2 = _log_nbinom(n, a2, b2, e)
    log_g1 = a1 * (np.log(b1) - np.log(b1 + e))  # P(n = 0) under each component
    log_g2 = a2 * (np.log(b2) - np.log(b2 + e))
    log_mix = np.logaddexp(np.log(p) + log_f1, np.log1p(-p) + log_f2)
    zero = p * np.exp(log_g1) + (1 - p) * np.exp(log_g2)
    log_seen = np.log1p(-np.minimum(zero, 1 - 1e-300))
    total = float(np.sum(w * (log_mix - log_seen)))

    # Responsibilities of each component in the count's probability and in P(n = 0).
    r1 = np.exp(np.log(p) + log_f1 - log_mix)
    r2 = 1 - r1
    seen = np.exp(log_seen)
    z1 = p * np.exp(log_g1) / seen
    z2 = (1 - p) * np.exp(log_g2) / seen
    log_ratio1 = np.log(b1) - np.log(b1 + e)
    log_ratio2 = np.log(b2) - np.log(b2 + e)
    d_a1 = special.digamma(a1 + n) - special.digamma(a1) + log_ratio1
    d_a2 = special.digamma(a2 + n) - special.digamma(a2) + log_ratio2
    d_b1 = a1 / b1 - (a1 + n) / (b1 + e)
    d_b2 = a2 / b2 - (a2 + n) / (b2 + e)
    g_b1 = a1 / b1 - a1 / (b1 + e)
    g_b2 = a2 / b2 - a2 / (b2 + e)
    grad = np.array(
        [
            a1 * np.sum(w * (r1 * d_a1 + z1 * log_ratio1)),
            b1 * np.sum(w * (r1 * d_b1 + z1 * g_b1)),
            a2 * np.sum(w * (r2 * d_a2 + z2 * log_ratio2)),
            b2 * np.sum(w * (r2 * d_b2 + z2 * g_b2)),
            p * (1 - p) * np.sum(w * ((r1 / p - r2 / (1 - p)) + (z1 / p - z2 / (1 - p)))),
        ]
    )
    return -total, -grad


def log_likelihood(prior: GammaMixturePrior, points: SquashedPoints) -> float:
    """The (n ≥ 1 truncated) log-likelihood of a prior over squashed points."""
    free = np.log(np.array(prior.as_tuple()[:4]))
    free = np.r_[free, special.logit(prior.p)]
    return -_negative_log_likelihood(free, points)[0]


def fit_prior(
    n: ArrayLike,
    expected: ArrayLike,
    *,
    starts: tuple[tuple[float, float, float, float, float], ...] = STARTS,
    keep_points: int = KEEP_POINTS,
    bins_per_count: int = BINS_PER_COUNT,
) -> PriorFit:
    """Maximum likelihood θ over the pairs with n ≥ 1, after squashing, from several starts;
    the best optimum found is kept."""
    n_ = np.asarray(n, dtype=np.float64).ravel()
    e_ = np.asarray(expected, dtype=np.float64).ravel()
    usable = (n_ >= 1) & (e_ > 0) & np.isfinite(e_)
    if not np.any(usable):
        raise SignalInputError("no pair with a count of at least 1 and a positive expected count")
    points = squash(n_[usable], e_[usable], keep_points=keep_points, bins_per_count=bins_per_count)
    # L-BFGS-B works on 5-vectors: OpenBLAS threads woken for each of its tiny products only
    # spin (more than half the fit's CPU time, none of its progress), so BLAS runs on one.
    with threadpool_limits(limits=1, user_api="blas"):
        best, converged = _fit_from(starts, points)
    if best is None:
        raise SignalInputError("the likelihood could not be evaluated from any starting point")
    return PriorFit(
        prior=GammaMixturePrior(*_unpack(best[1])),
        log_likelihood=-best[0],
        pairs=int(usable.sum()),
        points=int(points.n.size),
        converged=best[2],
        starts_converged=converged,
    )


def _fit_from(
    starts: tuple[tuple[float, float, float, float, float], ...],
    points: SquashedPoints,
) -> tuple[tuple[float, Floats, bool] | None, int]:
    """The best optimum reached from the starts, and how many starts converged."""
    best: tuple[float, Floats, bool] | None = None
    converged = 0
    optima: list[float] = []
    for start in starts:
        if len(optima) >= 2 and abs(optima[0] - optima[1]) <= 1e-6 * max(1.0, abs(optima[0])):
            break  # two starts reached the same optimum: the others would too (autoHyper)
        free0 = np.r_[np.log(start[:4]), special.logit(start[4])]
        result = optimize.minimize(
            _negative_log_likelihood,
            free0,
            args=(points,),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-12.0, 12.0)] * 4 + [(-18.0, 18.0)],
            options={"maxiter": 300, "ftol": 1e-12, "gtol": 1e-6},
        )
        if not np.isfinite(result.fun):
            continue
        converged += bool(result.success)
        if result.success:
            optima = sorted([*optima, float(result.fun)])[:2]
        if best is None or result.fun < best[0]:
            best = (float(result.fun), np.asarray(result.x), bool(result.success))
    return best, converged
