"""Firth's penalised logistic regression (Firth 1993; Heinze & Schemper 2002, Stat Med 21:2409).

The log-likelihood is penalised by half the log-determinant of the Fisher information,
l*(β) = l(β) + ½·log|X'WX|, which removes the first-order bias of the maximum-likelihood
estimate and keeps it finite when a factor separates the outcome (every exposed case serious),
the usual situation with a few dozen reports. Its gradient is the Firth-modified score
U*_j = Σ (y_i − p_i + h_i(½ − p_i))·x_ij, h the diagonal of the hat matrix; solved by Newton
steps on the Fisher information with step halving on l*.

Confidence intervals: Wald (from the inverse information) and profile penalised likelihood
(the points where 2·(l*(β̂) − max l* with β_j fixed) = χ²₁(0.95)), which Heinze & Schemper
recommend because the penalised likelihood is asymmetric at small n. p-values are penalised
likelihood-ratio tests of β_j = 0. Pure NumPy/SciPy: no database, testable on its own."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

Array = NDArray[np.float64]

_MAX_STEP = 5.0  # a Newton step never moves a coefficient further than this (log-odds)
_CHI2_95 = float(stats.chi2.ppf(0.95, 1))


class FitFailed(ValueError):
    """The penalised likelihood did not converge (a degenerate design)."""


@dataclass(frozen=True)
class FirthFit:
    names: tuple[str, ...]
    coef: tuple[float, ...]
    se: tuple[float, ...]
    wald_lo: tuple[float, ...]
    wald_hi: tuple[float, ...]
    profile_lo: tuple[float | None, ...]  # None: the bound was not found (reported as such)
    profile_hi: tuple[float | None, ...]
    p_value: tuple[float, ...]  # penalised likelihood-ratio test of β_j = 0
    loglik: float  # the penalised log-likelihood at the estimate
    iterations: int


def _penalised(x: Array, y: Array, beta: Array) -> tuple[float, Array, Array]:
    """(l*, the modified score, the information) at β."""
    eta = x @ beta
    p = 1.0 / (1.0 + np.exp(-eta))
    w = p * (1.0 - p)
    info = x.T @ (x * w[:, None])
    sign, logdet = np.linalg.slogdet(info)
    if sign <= 0:
        raise FitFailed("the information matrix is singular: a factor has no variation")
    # log(1 + e^η) computed without overflow
    loglik = float(np.sum(y * eta - np.logaddexp(0.0, eta))) + 0.5 * float(logdet)
    inverse = np.linalg.inv(info)
    # hat diagonal of W^½ X (X'WX)⁻¹ X' W^½
    h = np.sum((x @ inverse) * x, axis=1) * w
    score = x.T @ (y - p + h * (0.5 - p))
    return loglik, score, info


def _maximise(
    x: Array, y: Array, start: Array, free: NDArray[np.bool_], *, max_iter: int = 100
) -> tuple[Array, float, int]:
    """Newton on the free coefficients (the others held where they are)."""
    beta = start.copy()
    loglik, score, info = _penalised(x, y, beta)
    for iteration in range(1, max_iter + 1):
        sub = info[np.ix_(free, free)]
        step = np.zeros_like(beta)
        step[free] = np.linalg.solve(sub, score[free])
        largest = float(np.max(np.abs(step))) if step.size else 0.0
        if largest > _MAX_STEP:
            step *= _MAX_STEP / largest
        for _halving in range(30):
            candidate = beta + step
            new_loglik, new_score, new_info = _penalised(x, y, candidate)
            if new_loglik >= loglik - 1e-12:
                break
            step /= 2.0
        else:
            raise FitFailed("the penalised likelihood would not increase")
        beta, loglik, score, info = candidate, new_loglik, new_score, new_info
        # converged: the free part of the score is nil (its square, through the information,
        # is twice the gain still to be had in l*: far below what any interval resolves)
        if float(np.max(np.abs(score[free]), initial=0.0)) < 1e-7:
            return beta, loglik, iteration
    raise FitFailed(f"no convergence in {max_iter} iterations")


def _profile(
    x: Array, y: Array, beta: Array, loglik: float, j: int, se: float
) -> tuple[float | None, float | None]:
    """The profile penalised-likelihood interval of β_j: where the deviance reaches χ²₁(0.95)."""
    free = np.ones(beta.size, dtype=bool)
    free[j] = False

    def excess(value: float) -> float:
        start = beta.copy()
        start[j] = value
        _b, fixed_loglik, _n = _maximise(x, y, start, free)
        return 2.0 * (loglik - fixed_loglik) - _CHI2_95

    bounds: list[float | None] = []
    for direction in (-1.0, 1.0):
        width = max(se, 0.1)
        found: float | None = None
        inner = float(beta[j])
        for _widen in range(12):
            outer = float(beta[j]) + direction * width
            try:
                if excess(outer) > 0:
                    found = float(optimize.brentq(excess, *sorted((inner, outer)), xtol=1e-7))
                    break
            except FitFailed:
                break
            inner, width = outer, width * 2.0
        bounds.append(found)
    return bounds[0], bounds[1]


def firth_logit(x: Array, y: Array, names: tuple[str, ...], *, profile: bool = True) -> FirthFit:
    """Fit y (0/1) on the columns of x (which must include the intercept column)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 2 or x.shape[0] != y.size or x.shape[1] != len(names):
        raise ValueError("x must be n × k with k names, and y of length n")
    k = x.shape[1]
    every = np.ones(k, dtype=bool)
    beta, loglik, iterations = _maximise(x, y, np.zeros(k), every)
    _l, _s, info = _penalised(x, y, beta)
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    z = float(stats.norm.ppf(0.975))
    p_values, lows, highs = [], [], []
    for j in range(k):
        free = every.copy()
        free[j] = False
        start = beta.copy()
        start[j] = 0.0
        _b, null_loglik, _n = _maximise(x, y, start, free)
        deviance = max(0.0, 2.0 * (loglik - null_loglik))
        p_values.append(float(stats.chi2.sf(deviance, 1)))
        if profile:
            lo, hi = _profile(x, y, beta, loglik, j, float(se[j]))
        else:
            lo = hi = None
        lows.append(lo)
        highs.append(hi)
    return FirthFit(
        names=names,
        coef=tuple(float(b) for b in beta),
        se=tuple(float(s) for s in se),
        wald_lo=tuple(float(b - z * s) for b, s in zip(beta, se, strict=True)),
        wald_hi=tuple(float(b + z * s) for b, s in zip(beta, se, strict=True)),
        profile_lo=tuple(lows),
        profile_hi=tuple(highs),
        p_value=tuple(p_values),
        loglik=loglik,
        iterations=iterations,
    )


def odds_ratio(log_odds: float | None) -> float | None:
    if log_odds is None:
        return None
    return math.exp(min(log_odds, 700.0))
