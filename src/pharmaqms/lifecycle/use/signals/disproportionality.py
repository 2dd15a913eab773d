"""Frequentist and Bayesian-shrinkage figures of a drug–event 2×2 table, vectorised.

Every function takes NumPy arrays (or scalars) of the four cells and returns arrays of the
same shape, so one call scores every drug–event pair of a database at once:

                        event     other events
    drug                  a            b            a+b = reports naming the drug
    other drugs           c            d
                         a+c                        N = a+b+c+d

A figure that is undefined for a table (a division by zero, a log of zero) comes back as NaN,
never as ±inf; the scan turns NaN into a null. Formulas (domain reference §4):

- PRR = [a/(a+b)] / [c/(c+d)], 95 % CI exp(ln PRR ± 1.96·SE) with
  SE = √(1/a − 1/(a+b) + 1/c − 1/(c+d)) (Evans, Waller & Davis 2001; the log-normal interval
  of a ratio of two binomial proportions). a = 0 gives PRR 0 and no interval.
- χ² = N(ad − bc)² / ((a+b)(c+d)(a+c)(b+d)), Pearson, 1 df, no continuity correction (the
  analysts' contract); the Yates-corrected value is offered beside it.
- ROR = ad/(bc), 95 % CI exp(ln ROR ± 1.96·√(1/a + 1/b + 1/c + 1/d)).
- E = (a+b)(a+c)/N, the count expected if drug and event were reported independently.
- IC = log₂((a + ½)/(E + ½)) and IC025 = log₂ of the 2.5 % quantile of
  Gamma(shape a + ½, rate E + ½) (Norén, Hopstadius & Bate 2013, shrinkage ½; the exact gamma
  quantile, not the normal approximation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

Floats = NDArray[np.float64]

Z95: Final = 1.959963984540054  # the 97.5 % point of the standard normal
IC_SHRINKAGE: Final = 0.5


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with its lower and upper 95 % bounds (NaN where undefined)."""

    estimate: Floats
    lower: Floats
    upper: Floats


def _floats(value: ArrayLike) -> Floats:
    return np.asarray(value, dtype=np.float64)


def _divide(numerator: Floats, denominator: Floats) -> Floats:
    """numerator / denominator, NaN where the denominator is 0 (no warning, no inf)."""
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _log_interval(estimate: Floats, se: Floats, z: float) -> Interval:
    """exp(ln estimate ± z·SE), NaN where the estimate is 0 or undefined or the SE is."""
    ok = (estimate > 0) & np.isfinite(estimate) & np.isfinite(se)
    log_estimate = np.log(estimate, out=np.full_like(estimate, np.nan), where=ok)
    lower = np.where(ok, np.exp(log_estimate - z * se), np.nan)
    upper = np.where(ok, np.exp(log_estimate + z * se), np.nan)
    return Interval(estimate, lower, upper)


def cells_from_margins(
    a: ArrayLike, n_drug: ArrayLike, n_event: ArrayLike, n_total: ArrayLike
) -> tuple[Floats, Floats, Floats, Floats]:
    """The four cells from a pair's count and the margins: b = n_drug − a, c = n_event − a,
    d = N − n_drug − n_event + a (reports naming neither)."""
    a_, drug, event, total = _floats(a), _floats(n_drug), _floats(n_event), _floats(n_total)
    return a_, drug - a_, event - a_, total - drug - event + a_


def expected_count(a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike) -> Floats:
    """E = (a+b)(a+c)/N."""
    a_, b_, c_, d_ = _floats(a), _floats(b), _floats(c), _floats(d)
    return _divide((a_ + b_) * (a_ + c_), a_ + b_ + c_ + d_)


def proportional_reporting_ratio(
    a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike, *, z: float = Z95
) -> Interval:
    """PRR with its log-normal interval; a = 0 gives 0 and no interval."""
    a_, b_, c_, d_ = _floats(a), _floats(b), _floats(c), _floats(d)
    estimate = _divide(_divide(a_, a_ + b_), _divide(c_, c_ + d_))
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = 1 / a_ - 1 / (a_ + b_) + 1 / c_ - 1 / (c_ + d_)
    variance = np.where((a_ > 0) & (c_ > 0), variance, np.nan)
    return _log_interval(estimate, np.sqrt(np.maximum(variance, 0.0)), z)


def reporting_odds_ratio(
    a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike, *, z: float = Z95
) -> Interval:
    """ROR = ad/(bc) with its Woolf interval; no interval when any cell is 0."""
    a_, b_, c_, d_ = _floats(a), _floats(b), _floats(c), _floats(d)
    estimate = _divide(a_ * d_, b_ * c_)
    all_cells = (a_ > 0) & (b_ > 0) & (c_ > 0) & (d_ > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(1 / a_ + 1 / b_ + 1 / c_ + 1 / d_)
    return _log_interval(estimate, np.where(all_cells, se, np.nan), z)


def chi_square(
    a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike, *, yates: bool = False
) -> Floats:
    """Pearson's χ² (1 df) of the table; with ``yates`` the continuity-corrected form
    N(max(0, |ad − bc| − N/2))² / (product of the margins). NaN when a margin is 0."""
    a_, b_, c_, d_ = _floats(a), _floats(b), _floats(c), _floats(d)
    total = a_ + b_ + c_ + d_
    difference = np.abs(a_ * d_ - b_ * c_)
    if yates:
        difference = np.maximum(difference - total / 2, 0.0)
    margins = (a_ + b_) * (c_ + d_) * (a_ + c_) * (b_ + d_)
    return _divide(total * difference**2, margins)


def information_component(
    a: ArrayLike, expected: ArrayLike, *, quantile: float = 0.025
) -> Interval:
    """IC = log₂((a+½)/(E+½)) with its lower (``quantile``) and upper (1 − ``quantile``)
    credibility bounds from Gamma(a+½, rate E+½). Always defined for a ≥ 0, E ≥ 0."""
    shape = _floats(a) + IC_SHRINKAGE
    rate = _floats(expected) + IC_SHRINKAGE
    estimate = np.log2(shape / rate)
    return Interval(
        estimate,
        gamma_quantile(shape, quantile) - np.log2(rate),
        gamma_quantile(shape, 1 - quantile) - np.log2(rate),
    )


def gamma_quantile(shape: ArrayLike, probability: float, *, log2: bool = True) -> Floats:
    """The ``probability`` quantile of Gamma(shape, rate 1) (log₂ of it by default).

    Counts repeat a lot (most pairs have a = 1, 2, 3…), and the inverse incomplete gamma is
    the slowest function here, so it is evaluated once per distinct shape."""
    shapes = _floats(shape)
    distinct, where = np.unique(shapes, return_inverse=True)
    quantiles = special.gammaincinv(distinct, probability)
    values = np.log2(quantiles) if log2 else quantiles
    result: Floats = values[where].reshape(shapes.shape)
    return result


def ic025_approximation(a: ArrayLike, expected: ArrayLike) -> Floats:
    """Norén's closed-form approximation IC − 3.3(a+½)^−½ − 2(a+½)^−3/2, kept to compare with
    the exact quantile (it is what older publications tabulate)."""
    shape = _floats(a) + IC_SHRINKAGE
    estimate = np.log2(shape / (_floats(expected) + IC_SHRINKAGE))
    result: Floats = estimate - 3.3 * shape**-0.5 - 2 * shape**-1.5
    return result


def as_optional(value: Any) -> float | None:
    """A figure for JSON: None for NaN or ±inf, else a plain float."""
    number = float(value)
    return number if np.isfinite(number) else None
