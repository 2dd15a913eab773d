"""The stability budget: time per band outside the label, summed over a lot's journeys and
storage, unknown time counted against every band."""

from __future__ import annotations

import numpy as np
import pytest
from tests.lifecycle.distribution.coldchain.series_steps import every, timed

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.distribution.coldchain import (
    BudgetBand,
    BudgetConsumption,
    Disposition,
    StabilityBudget,
    TemperatureRange,
    assess_budget,
    consume,
)

COLD = TemperatureRange(2.0, 8.0)
VACCINE = StabilityBudget(
    COLD,
    (
        BudgetBand("8–25 °C", 8.0, 25.0, 72.0),
        BudgetBand("25–30 °C", 25.0, 30.0, 24.0),
        BudgetBand("above 30 °C", 30.0, None, 0.0),
        BudgetBand("freezing", None, 2.0, 0.0),
    ),
)


def remaining(assessment: object) -> dict[str, float]:
    return {u.band.name: u.remaining_h for u in assessment.bands}  # type: ignore[attr-defined]


def test_a_temperature_on_an_edge_counts_against_the_harsher_band() -> None:
    temperatures = np.array([2.0, 8.0, 8.5, 25.0, 29.9, 30.0, 45.0, 1.9, -40.0])

    assert VACCINE.band_of(temperatures).tolist() == [-1, -1, 0, 1, 1, 2, 2, 3, 3]


def test_edges_below_the_label_go_outwards_too() -> None:
    budget = StabilityBudget(
        COLD,
        (
            BudgetBand("warm", 8.0, None, 10.0),
            BudgetBand("chilled", 0.0, 2.0, 4.0),
            BudgetBand("frozen", None, 0.0, 0.0),
        ),
    )

    assert budget.band_of(np.array([1.0, 0.0, -0.1, 0.1])).tolist() == [1, 2, 2, 1]


def test_consumed_and_remaining_summed_over_a_journey_and_a_storage_period() -> None:
    # Given a journey read hourly (5, 20, 20, 26, 5 °C: 2 h at 8–25, 1 h at 25–30) and a
    # storage period read every 30 minutes (5, 24, 28, 5 °C: 0.5 h in each)
    journey = consume(VACCINE, every(60, [5.0, 20.0, 20.0, 26.0, 5.0]))
    storage = consume(VACCINE, every(30, [5.0, 24.0, 28.0, 5.0]))

    # When the lot's budget is assessed over both
    assessment = assess_budget(VACCINE, [journey, storage])

    # Then each band has what is left of its allowance and the lot is usable
    assert journey.in_band_s == (7200.0, 3600.0, 0.0, 0.0)
    assert [(u.out_of_range_h, u.consumed_h) for u in assessment.bands] == [
        (2.5, 2.5),
        (1.5, 1.5),
        (0.0, 0.0),
        (0.0, 0.0),
    ]
    assert remaining(assessment) == {
        "8–25 °C": 69.5,
        "25–30 °C": 22.5,
        "above 30 °C": 0.0,
        "freezing": 0.0,
    }
    assert assessment.disposition is Disposition.USABLE
    assert assessment.exhausted == ()


def test_ten_minutes_above_a_zero_allowance_rejects_the_lot() -> None:
    journey = consume(VACCINE, every(60, [5.0, 20.0, 5.0]))
    unloading = consume(VACCINE, every(10, [5.0, 31.0, 5.0]))

    assessment = assess_budget(VACCINE, [journey, unloading])

    assert assessment.disposition is Disposition.REJECT
    assert [u.band.name for u in assessment.exhausted] == ["above 30 °C"]
    assert remaining(assessment)["above 30 °C"] == pytest.approx(-1 / 6, abs=1e-12)
    assert assessment.decided_by_unknown_time is False


def test_unknown_time_counts_against_every_band() -> None:
    # Given a 10-minute logger silent for 30 minutes, every reading in range
    series = timed([(0, 5.0), (10, 5.0), (50, 5.0)], interval_min=10)
    budget = StabilityBudget(
        COLD, (BudgetBand("warm", 8.0, None, 1.0), BudgetBand("cold", None, 2.0, 0.25))
    )

    assessment = assess_budget(budget, [consume(budget, series)])

    # Then the 0.5 h could have been spent in either band: "cold" allows only 0.25 h
    assert assessment.unknown_h == 0.5
    assert [(u.out_of_range_h, u.unknown_h, u.consumed_h) for u in assessment.bands] == [
        (0.0, 0.5, 0.5),
        (0.0, 0.5, 0.5),
    ]
    assert remaining(assessment) == {"warm": 0.5, "cold": -0.25}
    assert assessment.disposition is Disposition.REJECT
    assert assessment.decided_by_unknown_time is True


def test_one_allowance_for_any_time_out_of_range() -> None:
    budget = StabilityBudget.out_of_range(COLD, allowed_h=0.5)
    series = every(10, [5.0, 9.0, 1.0, 5.0])

    assessment = assess_budget(budget, [consume(budget, series)])

    (usage,) = assessment.bands
    assert usage.consumed_h == pytest.approx(1 / 3, abs=1e-12)
    assert usage.remaining_h == pytest.approx(1 / 6, abs=1e-12)
    assert assessment.disposition is Disposition.USABLE


def test_exactly_the_allowance_is_still_usable() -> None:
    budget = StabilityBudget.out_of_range(COLD, allowed_h=0.5)

    assessment = assess_budget(budget, [consume(budget, every(30, [9.0, 5.0]))])

    assert assessment.bands[0].remaining_h == 0.0
    assert assessment.disposition is Disposition.USABLE


def test_a_lot_without_journeys_has_its_whole_budget() -> None:
    assessment = assess_budget(VACCINE, [])

    assert remaining(assessment)["8–25 °C"] == 72.0
    assert assessment.disposition is Disposition.USABLE


def test_a_consumption_against_another_budget_is_refused() -> None:
    other = StabilityBudget.out_of_range(COLD, allowed_h=1.0)
    consumption = consume(other, every(10, [5.0, 5.0]))

    with pytest.raises(InvalidInput, match="another stability budget"):
        assess_budget(VACCINE, [consumption])


def test_stored_consumptions_are_checked() -> None:
    with pytest.raises(InvalidInput, match="one time per band"):
        BudgetConsumption(VACCINE, (1.0,), 0.0)
    with pytest.raises(InvalidInput, match="finite and not negative"):
        BudgetConsumption(VACCINE, (1.0, 0.0, 0.0, -1.0), 0.0)


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ((), "a stability budget needs at least one band"),
        (
            (BudgetBand("warm", 9.0, None, 1.0), BudgetBand("cold", None, 2.0, 0.0)),
            "band warm leaves a hole before it above the labelled condition",
        ),
        (
            (
                BudgetBand("warm", 8.0, 30.0, 1.0),
                BudgetBand("hot", 25.0, None, 0.0),
                BudgetBand("cold", None, 2.0, 0.0),
            ),
            "band hot overlaps the band before it above the labelled condition",
        ),
        (
            (BudgetBand("warm", 8.0, 25.0, 1.0), BudgetBand("cold", None, 2.0, 0.0)),
            "the bands do not reach +∞ above the labelled condition",
        ),
        (
            (BudgetBand("warm", 8.0, None, 1.0), BudgetBand("cold", -5.0, 2.0, 0.0)),
            "the bands do not reach −∞ below the labelled condition",
        ),
        (
            (
                BudgetBand("warm", 8.0, None, 1.0),
                BudgetBand("cold", 0.0, 2.0, 1.0),
                BudgetBand("frozen", None, -1.0, 0.0),
            ),
            "band frozen leaves a hole before it below the labelled condition",
        ),
        (
            (BudgetBand("any", None, None, 1.0), BudgetBand("inside", 3.0, 7.0, 1.0)),
            "band inside lies inside the labelled condition 2–8 °C",
        ),
        (
            (BudgetBand("any", None, None, 1.0), BudgetBand("any", None, None, 2.0)),
            "the bands of a stability budget need different names",
        ),
    ],
)
def test_bands_must_cover_the_outside_of_the_label_exactly_once(
    bands: tuple[BudgetBand, ...], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        StabilityBudget(COLD, bands)
    assert refused.value.detail.startswith(message)


def test_a_label_open_below_needs_no_band_below() -> None:
    budget = StabilityBudget(TemperatureRange(None, 25.0), (BudgetBand("hot", 25.0, None, 0.0),))

    assert budget.band_of(np.array([-20.0, 25.0, 25.5])).tolist() == [-1, -1, 0]


@pytest.mark.parametrize(
    ("band", "message"),
    [
        (lambda: BudgetBand(" ", None, None, 1.0), "a budget band needs a name"),
        (lambda: BudgetBand("x", None, None, -1.0), "band x: the allowed time must be"),
        (lambda: BudgetBand("x", 5.0, 5.0, 1.0), "band x: its lower limit must be below"),
    ],
)
def test_a_band_that_means_nothing_is_refused(band: object, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        band()  # type: ignore[operator]
    assert refused.value.detail.startswith(message)
