"""I-MR, X̄-R and X̄-S limits, estimated and from a known centre and sigma."""

import math
from collections.abc import Callable

import numpy as np
import pytest

from pharmaqms.lifecycle.production.spc.charts import (
    ChartKind,
    ControlChartLimits,
    Limits,
    SigmaSource,
    chart_points,
    individuals_limits,
    individuals_limits_known,
    points_outside,
    xbar_r_limits,
    xbar_r_limits_known,
    xbar_s_limits,
    xbar_s_limits_known,
)

SQRT_PI = math.sqrt(math.pi)


def assert_limits(actual: Limits, lower: float, center: float, upper: float) -> None:
    assert actual.lower == pytest.approx(lower, abs=1e-9)
    assert actual.center == pytest.approx(center, abs=1e-9)
    assert actual.upper == pytest.approx(upper, abs=1e-9)


def test_individuals_limits_from_reference_readings() -> None:
    # Given readings 10, 12, 11, 13, 12: x̄ = 58/5 = 11.6, moving ranges 2, 1, 2, 1, MR̄ = 1.5.
    # σ̂ = MR̄/d2(2) = 1.5/(2/√π) = 0.75√π, so the I limits are 11.6 ± 2.25√π.
    # D4(2) = 1 + 3·d3/d2 = 1 + 3·√(2 − 4/π)·√π/2 = 1 + 1.5·√(2π − 4).
    chart = individuals_limits([10, 12, 11, 13, 12])

    assert chart.kind is ChartKind.INDIVIDUALS
    assert chart.subgroup_size == 1
    assert chart.sigma_source is SigmaSource.ESTIMATED
    assert chart.sigma == pytest.approx(0.75 * SQRT_PI, abs=1e-10)
    assert chart.location_sigma == chart.sigma
    assert_limits(chart.location, 11.6 - 2.25 * SQRT_PI, 11.6, 11.6 + 2.25 * SQRT_PI)
    assert_limits(chart.dispersion, 0.0, 1.5, 1.5 * (1 + 1.5 * math.sqrt(2 * math.pi - 4)))
    # The textbook shortcut x̄ + 2.66·MR̄ = 15.59 agrees to the rounding of 2.66.
    assert chart.location.upper == pytest.approx(11.6 + 2.66 * 1.5, abs=0.01)


def test_xbar_r_limits_from_reference_subgroups() -> None:
    # Given subgroup means 2, 3, 5 (X̄̄ = 10/3) and ranges 2, 2, 5 (R̄ = 3):
    # d2(3) = 3/√π so σ̂ = R̄/d2 = √π, σ of a mean = √π/√3, limits 10/3 ± 3·√(π/3)
    # (A2(3)·R̄ = √(π/3)·3, the same number).
    chart = xbar_r_limits([[1, 2, 3], [2, 3, 4], [3, 4, 8]])

    assert chart.kind is ChartKind.XBAR_R
    assert chart.subgroup_size == 3
    assert chart.sigma == pytest.approx(SQRT_PI, abs=1e-10)
    assert chart.location_sigma == pytest.approx(math.sqrt(math.pi / 3), abs=1e-10)
    spread = 3 * math.sqrt(math.pi / 3)
    assert_limits(chart.location, 10 / 3 - spread, 10 / 3, 10 / 3 + spread)
    assert chart.dispersion.lower == 0.0
    assert chart.dispersion.center == 3.0
    # D4(3)·R̄ with the printed D4(3) = 2.574 is 7.722; the exact factor gives 7.7238.
    assert chart.dispersion.upper == pytest.approx(2.574 * 3, abs=3e-3)
    assert chart.dispersion.upper == pytest.approx(7.72377, abs=1e-5)


def test_xbar_s_limits_from_reference_subgroups() -> None:
    # Given subgroups (2, 4) and (3, 7): means 3 and 5 (X̄̄ = 4), SDs √2 and 2√2 (S̄ = 1.5√2).
    # c4(2) = √(2/π), so σ̂ = S̄/c4 = 1.5√π and the limits are 4 ± 3·1.5√π/√2 = 4 ± 4.5√(π/2).
    # B4(2) = 1 + 3·√(1 − c4²)/c4 = 1 + 3·√(π/2 − 1).
    chart = xbar_s_limits([[2, 4], [3, 7]])

    assert chart.kind is ChartKind.XBAR_S
    assert chart.sigma == pytest.approx(1.5 * SQRT_PI, abs=1e-12)
    spread = 4.5 * math.sqrt(math.pi / 2)
    assert_limits(chart.location, 4 - spread, 4.0, 4 + spread)
    s_bar = 1.5 * math.sqrt(2)
    assert_limits(chart.dispersion, 0.0, s_bar, s_bar * (1 + 3 * math.sqrt(math.pi / 2 - 1)))


def test_individuals_limits_for_a_known_centre_and_sigma() -> None:
    # MR of two readings: centre d2(2)·σ = 2σ/√π, upper (d2 + 3d3)·σ, lower max(0, d2 − 3d3)·σ.
    chart = individuals_limits_known(100.0, 2.0)

    assert chart.sigma_source is SigmaSource.KNOWN
    assert chart.location == Limits(center=100.0, lower=94.0, upper=106.0)
    d2, d3 = 2 / SQRT_PI, math.sqrt(2 - 4 / math.pi)
    assert_limits(chart.dispersion, 0.0, 2 * d2, 2 * (d2 + 3 * d3))


def test_xbar_r_limits_for_a_known_centre_and_sigma() -> None:
    # σ = 2, n = 4: σ of a mean = 1, limits 97..103; Montgomery D2(4) = 4.698, D1(4) = 0.
    chart = xbar_r_limits_known(100.0, 2.0, 4)

    assert chart.location_sigma == 1.0
    assert chart.location == Limits(center=100.0, lower=97.0, upper=103.0)
    assert chart.dispersion.lower == 0.0
    assert chart.dispersion.center == pytest.approx(2 * 2.059, abs=2e-3)
    assert chart.dispersion.upper == pytest.approx(2 * 4.698, abs=2e-3)
    # n = 7 is the first size with a positive lower range limit: D1(7) = 0.204, D2(7) = 5.204.
    seven = xbar_r_limits_known(0.0, 1.0, 7).dispersion
    assert seven.lower == pytest.approx(0.204, abs=1e-3)
    assert seven.center == pytest.approx(2.704, abs=1e-3)
    assert seven.upper == pytest.approx(5.204, abs=1e-3)


def test_xbar_s_limits_for_a_known_centre_and_sigma() -> None:
    # n = 6: Montgomery B5(6) = 0.029, c4(6) = 0.9515, B6(6) = 1.874.
    chart = xbar_s_limits_known(10.0, 1.0, 6)

    spread = 3 / math.sqrt(6)
    assert_limits(chart.location, 10 - spread, 10.0, 10 + spread)
    assert chart.dispersion.lower == pytest.approx(0.029, abs=1e-3)
    assert chart.dispersion.center == pytest.approx(0.9515, abs=1e-4)
    assert chart.dispersion.upper == pytest.approx(1.874, abs=1e-3)


def test_limits_are_frozen() -> None:
    chart = individuals_limits_known(0.0, 1.0)
    with pytest.raises(AttributeError):
        chart.sigma = 2.0  # type: ignore[misc]
    assert isinstance(chart, ControlChartLimits)


def test_chart_points_place_moving_ranges_on_their_later_reading() -> None:
    points = chart_points(ChartKind.INDIVIDUALS, [1.0, 4.0, 2.0])

    assert points.location.tolist() == [1.0, 4.0, 2.0]
    assert points.dispersion.tolist() == [3.0, 2.0]
    assert points.dispersion_indices.tolist() == [1, 2]


def test_chart_points_of_subgroups() -> None:
    subgroups = [[1.0, 2.0, 6.0], [4.0, 4.0, 4.0]]

    ranges = chart_points(ChartKind.XBAR_R, subgroups)
    sds = chart_points(ChartKind.XBAR_S, subgroups)

    assert ranges.location.tolist() == [3.0, 4.0]
    assert ranges.dispersion.tolist() == [5.0, 0.0]
    assert ranges.dispersion_indices.tolist() == [0, 1]
    # SD of 1, 2, 6: mean 3, squares 4 + 1 + 9 = 14, /2 = 7.
    assert sds.dispersion.tolist() == pytest.approx([math.sqrt(7), 0.0], abs=1e-12)


def test_points_outside_are_strictly_beyond_the_limits() -> None:
    limits = Limits(center=0.0, lower=-3.0, upper=3.0)

    assert points_outside([0.5, 3.0, 3.1, -3.2, -3.0], limits) == [2, 3]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: individuals_limits([5.0, 5.0, 5.0]), "all moving ranges are zero"),
        (lambda: individuals_limits([5.0]), "at least 2 values"),
        (lambda: individuals_limits([1.0, math.nan]), "finite"),
        (lambda: xbar_r_limits([[1, 1], [2, 2]]), "all subgroup ranges are zero"),
        (lambda: xbar_s_limits([[3, 3], [2, 2]]), "all subgroup SDs are zero"),
        (lambda: xbar_r_limits([[1, 2, 3], [4, 5]]), "same size"),
        (lambda: xbar_r_limits(np.arange(52.0).reshape(2, 26)), "between 2 and 25"),
        (lambda: xbar_r_limits([1.0, 2.0]), "two-dimensional"),
        (lambda: individuals_limits_known(0.0, 0.0), "sigma must be a positive"),
        (lambda: xbar_s_limits_known(math.inf, 1.0, 5), "centre must be a finite"),
        (lambda: xbar_r_limits_known(0.0, 1.0, 1), "between 2 and 25"),
    ],
)
def test_unusable_input_is_refused(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()
