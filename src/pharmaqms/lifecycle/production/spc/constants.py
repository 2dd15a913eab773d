"""Control chart constants for subgroup sizes 2..25.

The values are computed from their definitions instead of being read from a printed table:
published tables (ASTM E2587, Montgomery Appendix VI) round to three or four decimals, and limits
built on rounded factors disagree with the formulas they stand for (exact D4(3) = 2.5746, the table
says 2.574). The exact values round to the printed tables within 1e-3; the tests check that.

- d2(n) = E[W] and d3(n) = SD[W], W the range of n independent N(0, 1) values, by numerical
  integration of the range distribution (SciPy ``quad``).
- c4(n) = E[S]/σ for the sample SD of n normal values, from the gamma function.
- A2 = 3/(d2√n), A3 = 3/(c4√n), D3 = max(0, 1 − 3d3/d2), D4 = 1 + 3d3/d2,
  B3 = max(0, 1 − 3√(1 − c4²)/c4), B4 = 1 + 3√(1 − c4²)/c4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from scipy import integrate, special

MIN_SUBGROUP_SIZE = 2
MAX_SUBGROUP_SIZE = 25

# Beyond ±10 the normal density is below 1e-22, and a range above 14σ has a probability below
# 1e-40 even for n = 25: cutting the integrals there loses nothing at double precision and lets
# quad work on finite intervals, several times faster than on infinite ones.
_X_BOUND = 10.0
_W_BOUND = 14.0
_TOLERANCE = 1e-11
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _check_size(n: int) -> None:
    if not MIN_SUBGROUP_SIZE <= n <= MAX_SUBGROUP_SIZE:
        raise ValueError(
            f"subgroup size must be between {MIN_SUBGROUP_SIZE} and {MAX_SUBGROUP_SIZE}, got {n}"
        )


@cache
def d2(n: int) -> float:
    """Mean of the range of n standard normal values: ∫ 1 − Φ(x)ⁿ − (1 − Φ(x))ⁿ dx."""
    _check_size(n)

    def integrand(x: float) -> float:
        return float(1.0 - special.ndtr(x) ** n - special.ndtr(-x) ** n)

    value, _ = integrate.quad(
        integrand, -_X_BOUND, _X_BOUND, epsabs=_TOLERANCE, epsrel=_TOLERANCE, limit=200
    )
    return float(value)


def _range_survival(w: float, n: int) -> float:
    """P(W > w) = 1 − n ∫ φ(x) [Φ(x + w) − Φ(x)]ⁿ⁻¹ dx."""

    def integrand(x: float) -> float:
        density = _INV_SQRT_2PI * math.exp(-0.5 * x * x)
        return float(density * (special.ndtr(x + w) - special.ndtr(x)) ** (n - 1))

    value, _ = integrate.quad(
        integrand, -_X_BOUND, _X_BOUND, epsabs=_TOLERANCE / 10, epsrel=_TOLERANCE, limit=200
    )
    return 1.0 - n * float(value)


@cache
def d3(n: int) -> float:
    """Standard deviation of the range of n standard normal values.

    E[W²] = 2 ∫₀^∞ w·P(W > w) dw, and d3 = √(E[W²] − d2²).
    """
    _check_size(n)
    second_moment, _ = integrate.quad(
        lambda w: w * _range_survival(w, n),
        0.0,
        _W_BOUND,
        epsabs=_TOLERANCE,
        epsrel=_TOLERANCE,
        limit=200,
    )
    return math.sqrt(2.0 * float(second_moment) - d2(n) ** 2)


@cache
def c4(n: int) -> float:
    """E[S]/σ for n normal values: √(2/(n − 1))·Γ(n/2)/Γ((n − 1)/2)."""
    _check_size(n)
    # Log-gamma keeps the ratio accurate where the gamma values themselves grow large.
    log_ratio = math.lgamma(n / 2) - math.lgamma((n - 1) / 2)
    return math.sqrt(2.0 / (n - 1)) * math.exp(log_ratio)


@dataclass(frozen=True, slots=True)
class ChartConstants:
    """The factors for one subgroup size, named as in the SPC literature."""

    n: int
    d2: float
    d3: float
    c4: float
    A2: float
    A3: float
    B3: float
    B4: float
    D3: float
    D4: float


@cache
def chart_constants(n: int) -> ChartConstants:
    """All control chart factors for subgroup size n (2..25), computed exactly."""
    _check_size(n)
    range_mean, range_sd, sd_bias = d2(n), d3(n), c4(n)
    root_n = math.sqrt(n)
    sd_spread = 3.0 * math.sqrt(1.0 - sd_bias**2) / sd_bias
    return ChartConstants(
        n=n,
        d2=range_mean,
        d3=range_sd,
        c4=sd_bias,
        A2=3.0 / (range_mean * root_n),
        A3=3.0 / (sd_bias * root_n),
        B3=max(0.0, 1.0 - sd_spread),
        B4=1.0 + sd_spread,
        D3=max(0.0, 1.0 - 3.0 * range_sd / range_mean),
        D4=1.0 + 3.0 * range_sd / range_mean,
    )
