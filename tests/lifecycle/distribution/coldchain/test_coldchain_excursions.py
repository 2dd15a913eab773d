"""Excursions by sample-and-hold, degree-minutes by hand, gaps never taken as in range."""

from __future__ import annotations

import pytest
from tests.lifecycle.distribution.coldchain.series_steps import at, every, timed

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.distribution.coldchain import (
    Excursion,
    Gap,
    Side,
    TemperatureRange,
    find_excursions,
)

COLD = TemperatureRange(2.0, 8.0)


def test_excursions_across_both_limits_by_hand() -> None:
    # Given 15-minute readings 5, 7, 9, 11, 6, 1, 4 °C against 2–8 °C
    series = every(15, [5.0, 7.0, 9.0, 11.0, 6.0, 1.0, 4.0])

    report = find_excursions(series, COLD)

    # Then 9 and 11 (30–60 min) are one excursion: (1 + 3) °C × 15 min = 60 °C·min; 1 °C
    # (75–90 min) another: (2 − 1) °C × 15 min = 15 °C·min
    assert list(report.excursions) == [
        Excursion(
            start=at(30),
            duration_s=1800.0,
            min_c=9.0,
            max_c=11.0,
            degree_minutes=60.0,
            side=Side.ABOVE,
            gap_before=False,
            gap_after=False,
            until_last_reading=False,
            first_reading=2,
            last_reading=3,
        ),
        Excursion(
            start=at(75),
            duration_s=900.0,
            min_c=1.0,
            max_c=1.0,
            degree_minutes=15.0,
            side=Side.BELOW,
            gap_before=False,
            gap_after=False,
            until_last_reading=False,
            first_reading=5,
            last_reading=5,
        ),
    ]
    assert report.total_minutes_out == 45.0
    assert report.unknown_minutes == 0.0
    assert report.gaps == ()
    assert report.excursions[0].end == at(60)
    assert report.excursions[0].duration_min == 30.0
    assert report.excursions[-1].end == at(90)


def test_an_excursion_lasts_until_the_next_reading_in_range_whatever_its_spacing() -> None:
    # 12 °C at 10:00 and the next reading, in range, at 10:07: seven minutes out, however
    # soon after 10:00 the temperature really came back
    series = timed([(0, 5.0), (5, 5.0), (10, 12.0), (17, 6.0), (22, 6.0)])

    (excursion,) = find_excursions(series, COLD).excursions

    assert (excursion.start, excursion.end) == (at(10), at(17))
    assert excursion.degree_minutes == pytest.approx(4.0 * 7, abs=1e-12)


def test_the_limits_are_inside_the_range() -> None:
    series = every(10, [2.0, 8.0, 8.0, 2.0])

    report = find_excursions(series, COLD)

    assert len(report.excursions) == 0
    assert report.total_minutes_out == 0.0


def test_an_excursion_still_going_at_the_last_reading_says_so() -> None:
    series = every(10, [5.0, 9.0, 10.0])

    (excursion,) = find_excursions(series, COLD).excursions

    # The last reading holds as long as the interval before it
    assert excursion.until_last_reading is True
    assert (excursion.start, excursion.end) == (at(10), at(30))
    assert excursion.degree_minutes == pytest.approx(1.0 * 10 + 2.0 * 10, abs=1e-12)


def test_a_gap_splits_an_excursion_and_is_flagged_on_both_sides() -> None:
    # Given 10 °C before and after 40 minutes without readings (10-minute logger)
    series = timed([(0, 5.0), (10, 10.0), (20, 10.0), (60, 10.0), (70, 5.0)])

    report = find_excursions(series, COLD)

    first, second = report.excursions
    assert (first.start, first.end, first.gap_before, first.gap_after) == (
        at(10),
        at(30),
        False,
        True,
    )
    assert (second.start, second.end, second.gap_before, second.gap_after) == (
        at(60),
        at(70),
        True,
        False,
    )
    # The 30 unknown minutes are neither out nor in: reported apart
    assert report.total_minutes_out == 30.0
    assert report.unknown_minutes == 30.0
    assert report.gaps == (Gap(at(30), at(60)),)


def test_an_excursion_from_above_to_below_without_a_reading_in_range_is_one() -> None:
    series = every(10, [5.0, 10.0, 0.0, 5.0])

    (excursion,) = find_excursions(series, COLD).excursions

    assert excursion.side is Side.BOTH
    assert (excursion.min_c, excursion.max_c) == (0.0, 10.0)
    assert excursion.degree_minutes == pytest.approx(2.0 * 10 + 2.0 * 10, abs=1e-12)


def test_a_range_open_on_one_side() -> None:
    not_above_25 = TemperatureRange(None, 25.0)
    series = every(60, [-30.0, 24.0, 27.5, 20.0])

    report = find_excursions(series, not_above_25)

    (excursion,) = report.excursions
    assert (excursion.start, excursion.degree_minutes) == (at(120), pytest.approx(150.0))
    assert report.total_minutes_out == 60.0


def test_no_readings_out_of_range() -> None:
    report = find_excursions(every(10, [5.0, 6.0]), COLD)

    assert list(report.excursions) == []
    assert len(report.excursions) == 0


def test_excursions_are_indexed_like_a_sequence() -> None:
    excursions = find_excursions(every(10, [9.0, 5.0, 9.0]), COLD).excursions

    assert excursions[-1].start == at(20)
    with pytest.raises(IndexError):
        excursions[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2,8", TemperatureRange(2.0, 8.0)),
        (" -25 , -15 ", TemperatureRange(-25.0, -15.0)),
        (",25", TemperatureRange(None, 25.0)),
        ("-20,", TemperatureRange(-20.0, None)),
    ],
)
def test_ranges_are_read_from_text(text: str, expected: TemperatureRange) -> None:
    assert TemperatureRange.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2", "'2' is not a range LOW,HIGH (e.g. 2,8)"),
        ("2,8,9", "'2,8,9' is not a range LOW,HIGH (e.g. 2,8)"),
        ("2,x", "'x' in the range '2,x' is not a number"),
        (",", "a temperature range needs a lower or an upper limit"),
        ("8,2", "the lower limit 8 °C must be below the upper 2 °C"),
        ("5,5", "the lower limit 5 °C must be below the upper 5 °C"),
        ("nan,8", "the limits of a temperature range must be finite numbers"),
    ],
)
def test_ranges_that_mean_nothing_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        TemperatureRange.parse(text)
    assert refused.value.detail == message


def test_ranges_read_as_people_write_them() -> None:
    assert [str(r) for r in (COLD, TemperatureRange(None, 25), TemperatureRange(-20, None))] == [
        "2–8 °C",
        "≤ 25 °C",
        "≥ -20 °C",
    ]
