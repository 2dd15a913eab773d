"""Properties that hold for any readings: MKT between the extremes and never below the mean,
time out of range never more than the time covered, budget bands adding up."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pharmaqms.lifecycle.distribution.coldchain import (
    BudgetBand,
    StabilityBudget,
    TemperatureRange,
    TemperatureSeries,
    consume,
    find_excursions,
    mean_kinetic_temperature,
    series_from_arrays,
    summarise,
)

TOLERANCE = 1e-9
temperatures = st.floats(min_value=-60.0, max_value=70.0, allow_nan=False)
steps = st.integers(min_value=1, max_value=4 * 3600)


@st.composite
def logger_series(draw: st.DrawFn) -> TemperatureSeries:
    readings = draw(st.lists(st.tuples(steps, temperatures), min_size=2, max_size=80))
    seconds = np.cumsum([step for step, _ in readings])
    factor = draw(st.floats(min_value=1.01, max_value=5.0))
    return series_from_arrays(seconds * 1_000_000, [t for _, t in readings], gap_factor=factor)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(temperatures, min_size=1, max_size=50),
    st.floats(min_value=10.0, max_value=300.0),
    st.data(),
)
def test_mkt_lies_between_the_extremes_and_never_below_the_mean(
    values: list[float], delta_h: float, data: st.DataObject
) -> None:
    weights = data.draw(
        st.lists(
            st.floats(min_value=0.001, max_value=1000.0),
            min_size=len(values),
            max_size=len(values),
        )
    )

    mkt = mean_kinetic_temperature(values, weights, delta_h_kj_per_mol=delta_h)

    mean = float(np.dot(weights, values) / np.sum(weights))
    assert min(values) - TOLERANCE <= mkt <= max(values) + TOLERANCE
    assert mkt >= mean - TOLERANCE


@settings(max_examples=200, deadline=None)
@given(logger_series(), temperatures, st.floats(min_value=0.1, max_value=30.0))
def test_time_out_of_range_never_exceeds_the_time_covered(
    series: TemperatureSeries, low: float, width: float
) -> None:
    limits = TemperatureRange(low, low + width)

    report = find_excursions(series, limits)
    summary = summarise(series)

    covered_min = series.known_s / 60
    assert report.total_minutes_out <= covered_min + TOLERANCE
    assert sum(e.duration_min for e in report.excursions) == pytest.approx(
        report.total_minutes_out, abs=1e-6
    )
    farthest = float(limits.distance(series.temperatures_c).max())
    for excursion in report.excursions:
        assert excursion.end > excursion.start
        assert 0 < excursion.degree_minutes <= farthest * excursion.duration_min + TOLERANCE
    # Known and unknown time together span the readings, the last hold included
    span_s = (series.times_us[-1] - series.times_us[0]) / 1e6 + series.holds_s[-1]
    assert series.known_s + series.unknown_s == pytest.approx(span_s, rel=1e-12)
    assert summary.min_c - TOLERANCE <= summary.mkt_c <= summary.max_c + TOLERANCE
    assert summary.mkt_c >= summary.arithmetic_mean_c - TOLERANCE


@settings(max_examples=200, deadline=None)
@given(logger_series(), st.floats(min_value=-10.0, max_value=10.0))
def test_the_bands_share_out_exactly_the_time_out_of_range(
    series: TemperatureSeries, low: float
) -> None:
    label = TemperatureRange(low, low + 6.0)
    budget = StabilityBudget(
        label,
        (
            BudgetBand("warm", low + 6.0, low + 20.0, 72.0),
            BudgetBand("hot", low + 20.0, None, 0.0),
            BudgetBand("cold", None, low, 0.0),
        ),
    )

    consumption = consume(budget, series)

    minutes_out = find_excursions(series, label).total_minutes_out
    assert sum(consumption.in_band_s) / 60 == pytest.approx(minutes_out, abs=1e-6)
    assert consumption.unknown_s == series.unknown_s
