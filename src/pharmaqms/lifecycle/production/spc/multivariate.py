"""Hotelling T² chart for individual observations of several correlated parameters.

Phase I: the mean vector x̄ and covariance S (n − 1) of m reference observations of p parameters.
Phase II: each new observation x gets T² = (x − x̄)ᵀ S⁻¹ (x − x̄), and the chart signals when
T² exceeds UCL = p(m + 1)(m − 1) / (m(m − p)) · F(1 − α; p, m − p) (Montgomery, §11.3; the new
observation is independent of the reference set, hence the F rather than the Beta limit).

Correlated parameters can each stay inside their own 3σ limits while their combination leaves
the region the process normally occupies; T² sees that, the separate charts do not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, stats

FloatArray = NDArray[np.float64]

# The false-alarm rate of a 3σ Shewhart chart, so a T² chart alarms as often as its neighbours.
DEFAULT_ALPHA = 0.0027


@dataclass(frozen=True, slots=True, eq=False)
class HotellingT2Chart:
    """Phase I estimates and the phase II upper control limit (the lower limit is 0).

    ``cholesky`` is the lower-triangular factor L of the covariance (S = L·Lᵀ).
    """

    mean: FloatArray
    covariance: FloatArray
    reference_size: int
    alpha: float
    ucl: float
    cholesky: FloatArray

    @property
    def dimension(self) -> int:
        return int(self.mean.size)

    def t_squared(self, observations: ArrayLike) -> FloatArray:
        """T² of each observation (one row of p values per observation)."""
        x = np.atleast_2d(np.asarray(observations, dtype=np.float64))
        if x.ndim != 2 or x.shape[1] != self.dimension:
            raise ValueError(f"each observation must have {self.dimension} values")
        if not np.all(np.isfinite(x)):
            raise ValueError("observations must be finite numbers")
        # Solving with the Cholesky factor avoids forming S⁻¹, which loses digits when the
        # parameters are strongly correlated (S nearly singular) — the case T² exists for.
        whitened = linalg.solve_triangular(self.cholesky, (x - self.mean).T, lower=True)
        return np.asarray(np.sum(whitened**2, axis=0), dtype=np.float64)

    def signals(self, observations: ArrayLike) -> list[int]:
        """0-based indices of the observations whose T² is above the UCL."""
        return [int(i) for i in np.flatnonzero(self.t_squared(observations) > self.ucl)]


def phase_two_ucl(dimension: int, reference_size: int, alpha: float = DEFAULT_ALPHA) -> float:
    """p(m + 1)(m − 1) / (m(m − p)) · F(1 − α; p, m − p)."""
    p, m = dimension, reference_size
    if p < 1:
        raise ValueError("at least one parameter is needed")
    if m <= p:
        raise ValueError(f"the reference set needs more than {p} observations, got {m}")
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must lie strictly between 0 and 1")
    quantile = float(stats.f.ppf(1.0 - alpha, p, m - p))
    return p * (m + 1) * (m - 1) / (m * (m - p)) * quantile


def hotelling_t2_chart(reference: ArrayLike, *, alpha: float = DEFAULT_ALPHA) -> HotellingT2Chart:
    """Estimate the chart from reference observations (m rows × p parameters)."""
    data = np.asarray(reference, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError("the reference set must be two-dimensional (observations × parameters)")
    if not np.all(np.isfinite(data)):
        raise ValueError("reference observations must be finite numbers")
    m, p = data.shape
    ucl = phase_two_ucl(p, m, alpha)
    mean = data.mean(axis=0)
    covariance = np.atleast_2d(np.cov(data, rowvar=False, ddof=1))
    # Rounding can leave a singular covariance with a tiny positive pivot that Cholesky accepts;
    # the rank test with NumPy's tolerance catches it before T² turns into noise.
    if int(np.linalg.matrix_rank(covariance, hermitian=True)) < p:
        raise ValueError(
            "the reference covariance is singular: a parameter is constant "
            "or a linear combination of the others"
        )
    cholesky = linalg.cholesky(covariance, lower=True)
    for array in (mean, covariance, cholesky):
        array.flags.writeable = False
    return HotellingT2Chart(
        mean=mean,
        covariance=covariance,
        reference_size=m,
        alpha=alpha,
        ucl=ucl,
        cholesky=cholesky,
    )
