"""Mean kinetic temperature: USP <1079.2> arithmetic on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.lifecycle.distribution.coldchain.series_steps import at, every, timed

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.distribution.coldchain import (
    GAS_CONSTANT_J_PER_MOL_K,
    Reading,
    assemble_readings,
    mean_kinetic_temperature,
    summarise,
    summarise_all,
)

ACTIVATION_K = 83_144 / 8.3144  # ΔH/R = 10 000 K with the project's R


def test_the_gas_constant_is_the_one_the_domain_reference_states() -> None:
    assert GAS_CONSTANT_J_PER_MOL_K == 8.3144


def test_a_constant_profile_has_its_own_temperature_as_mkt() -> None:
    # Given a logger that read 5 °C all day
    series = every(15, [5.0] * 96)

    # When the MKT is computed
    summary = summarise(series)

    # Then it is 5 °C, as are the mean, the minimum and the maximum
    assert summary.mkt_c == pytest.approx(5.0, abs=1e-9)
    assert (summary.arithmetic_mean_c, summary.min_c, summary.max_c) == (5.0, 5.0, 5.0)
    assert summary.hours == 24.0


def test_two_readings_20_and_30_give_26_26() -> None:
    # USP <1079.2>'s example: equal time at 20 °C and 30 °C, ΔH = 83.144 kJ/mol.
    assert round(mean_kinetic_temperature([20.0, 30.0]), 2) == 26.26


def test_the_two_reading_example_from_a_logger_file_shape() -> None:
    # Given 20 °C at 08:00 and 30 °C at 09:00: each holds one hour (the last as long as the
    # interval before it)
    summary = summarise(timed([(0, 20.0), (60, 30.0)]))

    assert round(summary.mkt_c, 2) == 26.26
    assert summary.arithmetic_mean_c == 25.0
    assert summary.hours == 2.0
    assert summary.readings == 2


def test_the_mkt_is_weighted_by_the_time_each_reading_holds() -> None:
    # 20 °C for three hours and 30 °C for one: by hand
    # MKT = 10000 / −ln((3·e^(−10000/293.15) + e^(−10000/303.15)) / 4) − 273.15 = 23.6445 °C
    by_hand = 23.6444539343305
    three_to_two = summarise(timed([(0, 20.0), (180, 30.0), (240, 30.0)]))
    hourly = summarise(every(60, [20.0, 20.0, 20.0, 30.0]))
    stated_hours = summarise(
        assemble_readings([Reading(at(0), 20.0, hours=3.0), Reading(at(180), 30.0, hours=1.0)])
    )

    assert mean_kinetic_temperature([20.0, 30.0], [3.0, 1.0]) == pytest.approx(by_hand, abs=1e-9)
    assert hourly.mkt_c == pytest.approx(by_hand, abs=1e-9)
    assert stated_hours.mkt_c == pytest.approx(by_hand, abs=1e-9)
    assert stated_hours.arithmetic_mean_c == pytest.approx(22.5, abs=1e-12)
    assert stated_hours.hours == 4.0
    # Readings at 0 h, 3 h, 4 h (median interval 2 h, so 3 h is no gap): 20 °C holds 3 h, the
    # first 30 °C 1 h, the last 30 °C as long as the interval before it (1 h): 3:2.
    assert three_to_two.hours == 5.0
    assert three_to_two.mkt_c == pytest.approx(
        mean_kinetic_temperature([20.0, 30.0], [3.0, 2.0]), abs=1e-12
    )


def test_equal_weights_by_default() -> None:
    # (2, 8, 25) °C at equal weights, by hand: 17.0163 °C
    assert mean_kinetic_temperature([2.0, 8.0, 25.0]) == pytest.approx(17.01633858370576, abs=1e-9)


def test_a_larger_activation_energy_weighs_the_warm_readings_more() -> None:
    low = mean_kinetic_temperature([2.0, 8.0, 25.0], delta_h_kj_per_mol=60.0)
    default = mean_kinetic_temperature([2.0, 8.0, 25.0])
    high = mean_kinetic_temperature([2.0, 8.0, 25.0], delta_h_kj_per_mol=120.0)

    assert 11.6666 < low < default < high < 25.0


def test_a_large_activation_energy_on_deep_frozen_readings_does_not_underflow() -> None:
    # exp(−ΔH/(R·T)) at ΔH = 1000 kJ/mol and −200 °C is e^−1644: zero in floating point. With
    # the largest term factored out the MKT of (−200, −190) °C is, to within e^−197,
    # (ΔH/R) / (ΔH/R / 83.15 + ln 2) − 273.15.
    ratio = 1_000_000 / 8.3144
    expected = ratio / (ratio / 83.15 + math.log(2)) - 273.15

    result = mean_kinetic_temperature([-200.0, -190.0], delta_h_kj_per_mol=1000.0)

    assert result == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("temperatures", "weights", "delta_h", "message"),
    [
        ([], None, 83.144, "no temperatures"),
        ([5.0], None, 0.0, "ΔH must be a positive number of kJ/mol, got 0"),
        ([5.0], None, math.nan, "ΔH must be a positive number of kJ/mol, got nan"),
        ([-274.0], None, 83.144, "temperatures must be finite and above absolute zero"),
        ([5.0, math.inf], None, 83.144, "temperatures must be finite and above absolute zero"),
        ([5.0, 6.0], [1.0], 83.144, "one weight per temperature"),
        ([5.0, 6.0], [1.0, -1.0], 83.144, "weights must be finite, not negative"),
        ([5.0, 6.0], [0.0, 0.0], 83.144, "weights must be finite, not negative"),
    ],
)
def test_inputs_the_formula_cannot_take_are_refused(
    temperatures: list[float], weights: list[float] | None, delta_h: float, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        mean_kinetic_temperature(temperatures, weights, delta_h_kj_per_mol=delta_h)
    assert refused.value.detail.startswith(message)


def test_unknown_time_is_not_weighted_and_is_reported() -> None:
    # Given 15-minute readings with an hour missing after the third: 5, 5, 5 | gap | 9, 9
    series = timed([(0, 5.0), (15, 5.0), (30, 5.0), (90, 9.0), (105, 9.0)])

    summary = summarise(series)

    # Then the 5 °C before the gap holds 15 minutes, not 60; 45 minutes are unknown
    assert summary.hours == 1.25
    assert summary.unknown_hours == 0.75
    assert summary.arithmetic_mean_c == pytest.approx((3 * 5 + 2 * 9) / 5, abs=1e-12)
    assert summary.mkt_c == pytest.approx(
        mean_kinetic_temperature([5.0, 5.0, 5.0, 9.0, 9.0]), abs=1e-12
    )


def test_one_mkt_over_a_lots_journeys_and_storage() -> None:
    # Given a journey at 20 °C for 3 h and a storage period at 30 °C for 1 h
    journey = every(60, [20.0, 20.0, 20.0])
    storage = every(30, [30.0, 30.0])

    summary = summarise_all([journey, storage])

    assert summary.mkt_c == pytest.approx(23.6444539343305, abs=1e-9)
    assert summary.hours == 4.0
    assert summary.readings == 5
    assert (summary.min_c, summary.max_c) == (20.0, 30.0)


def test_summarising_nothing_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no series of readings"):
        summarise_all([])


def test_the_mkt_is_computed_on_arrays_as_given() -> None:
    temperatures = np.array([4.0, 6.0, 12.0])
    weights = np.array([1.0, 1.0, 0.5])

    result = mean_kinetic_temperature(temperatures, weights)

    terms = np.exp(-ACTIVATION_K / (temperatures + 273.15))
    by_formula = ACTIVATION_K / -math.log(float((weights * terms).sum() / weights.sum())) - 273.15
    assert result == pytest.approx(by_formula, abs=1e-9)
