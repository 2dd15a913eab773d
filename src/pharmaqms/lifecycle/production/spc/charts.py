"""Shewhart variables charts: individuals/moving range (I-MR), X̄-R and X̄-S.

Limits are either estimated from a reference (phase I) data set or derived from a known centre and
process sigma. Every limit is written as centre ± 3·σ of the plotted statistic, which is the same
number as the factor form (X̄̄ ± A2·R̄, x̄ ± 3·MR̄/d2 …) but lets the run rules and the plotted limits
use the very same thresholds: the factor form can differ from it in the last bit.

The factors are the exact ones of :mod:`.constants`, so I-MR limits are x̄ ± 2.6587·MR̄, not the
rounded 2.66·MR̄ of printed tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pharmaqms.lifecycle.production.spc.constants import (
    MAX_SUBGROUP_SIZE,
    MIN_SUBGROUP_SIZE,
    chart_constants,
)

FloatArray = NDArray[np.float64]

# A moving range is the range of a subgroup of two consecutive readings.
_MOVING_RANGE_SPAN = 2


class ChartKind(StrEnum):
    INDIVIDUALS = "I-MR"
    XBAR_R = "Xbar-R"
    XBAR_S = "Xbar-S"

    @property
    def location_label(self) -> str:
        return "I" if self is ChartKind.INDIVIDUALS else "Xbar"

    @property
    def dispersion_label(self) -> str:
        return {ChartKind.INDIVIDUALS: "MR", ChartKind.XBAR_R: "R", ChartKind.XBAR_S: "S"}[self]


class SigmaSource(StrEnum):
    ESTIMATED = "estimated"
    KNOWN = "known"


@dataclass(frozen=True, slots=True)
class Limits:
    center: float
    lower: float
    upper: float


@dataclass(frozen=True, slots=True)
class ControlChartLimits:
    """Centre lines and 3σ limits of a location chart and its dispersion chart.

    ``sigma`` is the process sigma of individual values; ``location_sigma`` is the sigma of the
    plotted location statistic (σ for individuals, σ/√n for subgroup means), which is what the run
    rule zones are measured in.
    """

    kind: ChartKind
    subgroup_size: int
    sigma: float
    sigma_source: SigmaSource
    location_sigma: float
    location: Limits
    dispersion: Limits


@dataclass(frozen=True, slots=True)
class ChartPoints:
    """The statistics plotted on a chart.

    ``dispersion_indices`` places each dispersion point on the location axis: a moving range
    belongs to the later of its two readings, so it starts at index 1.
    """

    location: FloatArray
    dispersion: FloatArray
    dispersion_indices: NDArray[np.int64]


def _as_values(values: ArrayLike, *, minimum: int) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError("individual values must be a one-dimensional sequence")
    if array.size < minimum:
        raise ValueError(f"at least {minimum} values are needed, got {array.size}")
    if not np.all(np.isfinite(array)):
        raise ValueError("values must be finite numbers")
    return array


def _as_subgroups(subgroups: ArrayLike) -> FloatArray:
    try:
        array = np.asarray(subgroups, dtype=np.float64)
    except ValueError as error:
        raise ValueError("subgroups must all have the same size") from error
    if array.ndim != 2:
        raise ValueError("subgroups must be a two-dimensional array (one row per subgroup)")
    if array.shape[0] < 1:
        raise ValueError("at least one subgroup is needed")
    _check_subgroup_size(array.shape[1])
    if not np.all(np.isfinite(array)):
        raise ValueError("values must be finite numbers")
    return array


def _check_subgroup_size(n: int) -> None:
    if not MIN_SUBGROUP_SIZE <= n <= MAX_SUBGROUP_SIZE:
        raise ValueError(
            f"subgroup size must be between {MIN_SUBGROUP_SIZE} and {MAX_SUBGROUP_SIZE}, got {n}"
        )


def _check_known(center: float, sigma: float) -> None:
    if not math.isfinite(center):
        raise ValueError("centre must be a finite number")
    if not (math.isfinite(sigma) and sigma > 0.0):
        raise ValueError("sigma must be a positive finite number")


def _check_estimate(sigma: float, what: str) -> float:
    # All-equal readings give σ̂ = 0 and limits that every other value violates; refuse instead.
    if not sigma > 0.0:
        raise ValueError(f"sigma cannot be estimated: all {what} are zero")
    return sigma


def moving_ranges(values: ArrayLike) -> FloatArray:
    """|xᵢ − xᵢ₋₁| for i = 1..n−1."""
    return np.abs(np.diff(_as_values(values, minimum=2)))


def subgroup_means(subgroups: ArrayLike) -> FloatArray:
    return np.asarray(_as_subgroups(subgroups).mean(axis=1), dtype=np.float64)


def subgroup_ranges(subgroups: ArrayLike) -> FloatArray:
    array = _as_subgroups(subgroups)
    return np.asarray(array.max(axis=1) - array.min(axis=1), dtype=np.float64)


def subgroup_std_devs(subgroups: ArrayLike) -> FloatArray:
    return np.asarray(_as_subgroups(subgroups).std(axis=1, ddof=1), dtype=np.float64)


def _scaled(center: float, lower_factor: float, upper_factor: float) -> Limits:
    return Limits(center=center, lower=lower_factor * center, upper=upper_factor * center)


def _dispersion_limits(kind: ChartKind, n: int, center: float) -> Limits:
    # D3·R̄..D4·R̄ (or B3·S̄..B4·S̄) around the mean dispersion; with a known sigma the centre is
    # d2·σ (or c4·σ), which turns the same products into D1·σ..D2·σ (or B5·σ..B6·σ).
    factors = chart_constants(n)
    if kind is ChartKind.XBAR_S:
        return _scaled(center, factors.B3, factors.B4)
    return _scaled(center, factors.D3, factors.D4)


def _expected_dispersion(kind: ChartKind, n: int, sigma: float) -> float:
    factors = chart_constants(n)
    return (factors.c4 if kind is ChartKind.XBAR_S else factors.d2) * sigma


def _chart(
    kind: ChartKind,
    n: int,
    *,
    center: float,
    sigma: float,
    dispersion_center: float,
    source: SigmaSource,
) -> ControlChartLimits:
    location_sigma = sigma if kind is ChartKind.INDIVIDUALS else sigma / math.sqrt(n)
    span = _MOVING_RANGE_SPAN if kind is ChartKind.INDIVIDUALS else n
    spread = 3.0 * location_sigma
    return ControlChartLimits(
        kind=kind,
        subgroup_size=n,
        sigma=sigma,
        sigma_source=source,
        location_sigma=location_sigma,
        location=Limits(center=center, lower=center - spread, upper=center + spread),
        dispersion=_dispersion_limits(kind, span, dispersion_center),
    )


def _known(kind: ChartKind, n: int, center: float, sigma: float) -> ControlChartLimits:
    _check_known(center, sigma)
    span = _MOVING_RANGE_SPAN if kind is ChartKind.INDIVIDUALS else n
    if kind is not ChartKind.INDIVIDUALS:
        _check_subgroup_size(n)
    return _chart(
        kind,
        n,
        center=float(center),
        sigma=float(sigma),
        dispersion_center=_expected_dispersion(kind, span, float(sigma)),
        source=SigmaSource.KNOWN,
    )


def _estimated(kind: ChartKind, subgroups: ArrayLike) -> ControlChartLimits:
    array = _as_subgroups(subgroups)
    n = array.shape[1]
    dispersion = subgroup_ranges(array) if kind is ChartKind.XBAR_R else subgroup_std_devs(array)
    mean_dispersion = float(dispersion.mean())
    factors = chart_constants(n)
    unbias = factors.d2 if kind is ChartKind.XBAR_R else factors.c4
    what = "subgroup ranges" if kind is ChartKind.XBAR_R else "subgroup SDs"
    return _chart(
        kind,
        n,
        center=float(subgroup_means(array).mean()),
        sigma=_check_estimate(mean_dispersion / unbias, what),
        dispersion_center=mean_dispersion,
        source=SigmaSource.ESTIMATED,
    )


def individuals_limits(values: ArrayLike) -> ControlChartLimits:
    """I-MR limits estimated from reference readings: x̄ ± 3·MR̄/d2, MR chart D3·MR̄..D4·MR̄."""
    array = _as_values(values, minimum=2)
    mean_moving_range = float(moving_ranges(array).mean())
    sigma = mean_moving_range / chart_constants(_MOVING_RANGE_SPAN).d2
    return _chart(
        ChartKind.INDIVIDUALS,
        1,
        center=float(array.mean()),
        sigma=_check_estimate(sigma, "moving ranges"),
        dispersion_center=mean_moving_range,
        source=SigmaSource.ESTIMATED,
    )


def individuals_limits_known(center: float, sigma: float) -> ControlChartLimits:
    """I-MR limits for a known centre and process sigma: μ ± 3σ, MR chart D1·σ..D2·σ."""
    return _known(ChartKind.INDIVIDUALS, 1, center, sigma)


def xbar_r_limits(subgroups: ArrayLike) -> ControlChartLimits:
    """X̄-R limits from reference subgroups: X̄̄ ± A2·R̄, R chart D3·R̄..D4·R̄."""
    return _estimated(ChartKind.XBAR_R, subgroups)


def xbar_r_limits_known(center: float, sigma: float, subgroup_size: int) -> ControlChartLimits:
    """X̄-R limits for a known centre and process sigma: μ ± 3σ/√n, R chart D1·σ..D2·σ."""
    return _known(ChartKind.XBAR_R, subgroup_size, center, sigma)


def xbar_s_limits(subgroups: ArrayLike) -> ControlChartLimits:
    """X̄-S limits from reference subgroups: X̄̄ ± A3·S̄, S chart B3·S̄..B4·S̄."""
    return _estimated(ChartKind.XBAR_S, subgroups)


def xbar_s_limits_known(center: float, sigma: float, subgroup_size: int) -> ControlChartLimits:
    """X̄-S limits for a known centre and process sigma: μ ± 3σ/√n, S chart B5·σ..B6·σ."""
    return _known(ChartKind.XBAR_S, subgroup_size, center, sigma)


def chart_points(kind: ChartKind, data: ArrayLike) -> ChartPoints:
    """The plotted statistics: readings and moving ranges, or subgroup means and ranges/SDs."""
    if kind is ChartKind.INDIVIDUALS:
        values = _as_values(data, minimum=2)
        return ChartPoints(
            location=values,
            dispersion=moving_ranges(values),
            dispersion_indices=np.arange(1, values.size, dtype=np.int64),
        )
    subgroups = _as_subgroups(data)
    dispersion = (
        subgroup_ranges(subgroups) if kind is ChartKind.XBAR_R else subgroup_std_devs(subgroups)
    )
    return ChartPoints(
        location=subgroup_means(subgroups),
        dispersion=dispersion,
        dispersion_indices=np.arange(subgroups.shape[0], dtype=np.int64),
    )


def outside(value: float, limits: Limits) -> bool:
    """Whether one point lies strictly above the upper or below the lower limit (a point on a
    limit is inside; a lower limit of 0 can't be broken): ``points_outside`` for one point, for
    a caller that judges points one by one as they arrive."""
    return value > limits.upper or value < limits.lower


def points_outside(points: Sequence[float] | FloatArray, limits: Limits) -> list[int]:
    """Indices of points strictly above the upper or below the lower limit (see ``outside``)."""
    array = np.asarray(points, dtype=np.float64)
    outside = (array > limits.upper) | (array < limits.lower)
    return [int(i) for i in np.flatnonzero(outside)]
