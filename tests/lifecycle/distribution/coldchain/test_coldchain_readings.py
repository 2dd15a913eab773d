"""The reading series: holds, gaps as unknown time, and bad input refused visibly."""

from __future__ import annotations

import math
from datetime import timedelta, timezone

import numpy as np
import pytest
from tests.lifecycle.distribution.coldchain.series_steps import START, at, every, timed

from pharmaqms.lifecycle.distribution.coldchain import (
    Gap,
    Reading,
    ReadingsRefused,
    assemble_readings,
    fahrenheit_to_celsius,
    series_from_arrays,
)

MIN = 60.0  # seconds


def holds_min(series: object) -> list[float]:
    return [h / MIN for h in series.holds_s.tolist()]  # type: ignore[attr-defined]


def test_each_reading_holds_until_the_next_and_the_last_as_long_as_the_one_before() -> None:
    # Given readings at 0, 10, 25, 35 minutes (median interval 10: 15 is not a gap at 1.5×)
    series = timed([(0, 5.0), (10, 5.0), (25, 6.0), (35, 7.0)])

    assert holds_min(series) == [10.0, 15.0, 10.0, 10.0]
    assert series.unknown_s == 0.0
    assert series.gaps == ()
    assert series.expected_interval_s == 10 * MIN
    assert series.start == at(0)
    assert series.end == at(45)


def test_an_interval_beyond_the_gap_factor_is_unknown_time_not_a_long_hold() -> None:
    # Given a 10-minute logger that said nothing between 20 and 60 minutes
    series = timed([(0, 5.0), (10, 5.0), (20, 5.0), (60, 5.0), (70, 5.0)])

    # Then the 20-minute reading holds 10 minutes and the remaining 30 are unknown
    assert holds_min(series) == [10.0] * 5
    assert series.unknown_after_s.tolist() == [0.0, 0.0, 30 * MIN, 0.0, 0.0]
    assert (series.gap_after.tolist(), series.gap_s.tolist()) == ([2], [30 * MIN])
    assert series.followed_by_gap(np.array([0, 2, 4])).tolist() == [False, True, False]
    assert series.gaps == (Gap(start=at(30), end=at(60)),)
    assert series.gaps[0].duration_min == 30.0
    assert series.known_s == 50 * MIN
    assert series.unknown_s == 30 * MIN


def test_the_last_reading_after_a_gap_holds_one_interval_not_the_gap() -> None:
    series = timed([(0, 5.0), (10, 5.0), (20, 5.0), (60, 9.0)])

    assert holds_min(series) == [10.0, 10.0, 10.0, 10.0]
    assert series.gaps == (Gap(start=at(30), end=at(60)),)


def test_a_declared_interval_and_gap_factor_decide_what_is_a_gap() -> None:
    readings = [(0, 5.0), (5, 5.0), (10, 5.0)]

    declared = timed(readings, interval_min=2)
    tolerant = timed(readings, interval_min=2, gap_factor=3)

    # 5 minutes > 1.5 × 2: each reading holds 2 minutes and 3 are unknown
    assert holds_min(declared) == [2.0, 2.0, 2.0]
    assert declared.gaps == (Gap(at(2), at(5)), Gap(at(7), at(10)))
    # 5 minutes ≤ 3 × 2: no gap
    assert holds_min(tolerant) == [5.0, 5.0, 5.0]
    assert tolerant.gaps == ()


def test_one_reading_needs_hours_or_a_declared_interval() -> None:
    with pytest.raises(ReadingsRefused) as refused:
        timed([(0, 5.0)])
    assert refused.value.detail == (
        "reading 1 is the only reading: it has no duration without hours or a declared "
        "logging interval"
    )

    assert holds_min(timed([(0, 5.0)], interval_min=15)) == [15.0]


def test_stated_hours_are_the_holds() -> None:
    series = assemble_readings(
        [
            Reading(at(0), 4.0, hours=0.5, source="row 1"),
            Reading(at(30), 5.0, hours=0.25, source="row 2"),
            Reading(at(60), 6.0, hours=2.0, source="row 3"),
        ]
    )

    # The second reading covers 30–45: 45–60 is unknown, whatever the gap factor says
    assert holds_min(series) == [30.0, 15.0, 120.0]
    assert series.gaps == (Gap(at(45), at(60)),)
    assert series.end == at(180)


def test_stated_hours_may_be_rounded_by_a_second() -> None:
    # 0.0167 h is 60.12 s: a minute logger's hours written with three significant figures
    series = assemble_readings([Reading(at(m), 5.0, hours=0.0167) for m in range(3)])

    assert series.gaps == ()
    assert series.known_s == pytest.approx(3 * 60.12)


def test_stated_hours_that_run_past_the_next_reading_are_refused() -> None:
    readings = [
        Reading(at(0), 4.0, hours=1.0, source="row 1 (line 2)"),
        Reading(at(30), 5.0, hours=1.0, source="row 2 (line 3)"),
    ]

    with pytest.raises(ReadingsRefused) as refused:
        assemble_readings(readings)

    assert refused.value.detail == (
        "row 1 (line 2): its 1 h run past the time of row 2 (line 3): the same time would be "
        "counted twice"
    )
    assert refused.value.extra == {"index": 0}


@pytest.mark.parametrize("hours", [0.0, -1.0, math.inf])
def test_hours_must_be_positive(hours: float) -> None:
    with pytest.raises(ReadingsRefused, match="row 2: hours must be a positive number"):
        assemble_readings([Reading(at(0), 4.0, 0.5, "row 1"), Reading(at(30), 4.0, hours, "row 2")])


def test_either_every_reading_gives_hours_or_none_does() -> None:
    with pytest.raises(ReadingsRefused) as refused:
        assemble_readings([Reading(at(0), 4.0, 0.5, "row 1"), Reading(at(30), 4.0, None, "row 2")])
    assert refused.value.detail == "row 2: either every reading gives its hours or none does"


def test_readings_out_of_order_are_refused_naming_the_row_never_sorted() -> None:
    readings = [
        Reading(at(0), 5.0, source="row 1 (line 2)"),
        Reading(at(20), 5.0, source="row 2 (line 3)"),
        Reading(at(10), 5.0, source="row 3 (line 4)"),
    ]

    with pytest.raises(ReadingsRefused) as refused:
        assemble_readings(readings)

    assert refused.value.detail == (
        "row 3 (line 4): 2026-03-01T08:10:00+00:00 is earlier than row 2 (line 3) "
        "(2026-03-01T08:20:00+00:00): readings must be in time order"
    )
    assert refused.value.extra == {"index": 2}
    assert refused.value.code == "readings_refused"
    assert refused.value.status == 422


def test_an_exact_repeat_is_counted_once_with_a_warning() -> None:
    series = assemble_readings(
        [
            Reading(at(0), 5.0, source="row 1"),
            Reading(at(10), 6.0, source="row 2"),
            Reading(at(10), 6.0, source="row 3"),
            Reading(at(20), 7.0, source="row 4"),
        ]
    )

    assert len(series) == 3
    assert series.temperatures_c.tolist() == [5.0, 6.0, 7.0]
    assert series.warnings == ("row 3 repeats row 2 exactly: counted once",)


def test_the_same_time_with_another_value_is_refused_naming_both_rows() -> None:
    with pytest.raises(ReadingsRefused) as refused:
        assemble_readings(
            [
                Reading(at(0), 5.0, source="row 1"),
                Reading(at(10), 6.0, source="row 2"),
                Reading(at(10), 6.5, source="row 3"),
            ]
        )

    assert refused.value.detail == (
        "row 3 and row 2 give the same time 2026-03-01T08:10:00+00:00 with different values "
        "(6.5 °C and 6 °C)"
    )


def test_the_same_instant_written_in_two_offsets_is_the_same_time() -> None:
    paris = timezone(timedelta(hours=1))
    readings = [
        Reading(at(0), 5.0, source="row 1"),
        Reading(at(10).astimezone(paris), 5.0, source="row 2"),
        Reading(at(10), 5.0, source="row 3"),
    ]

    series = assemble_readings(readings)

    assert len(series) == 2
    assert series.warnings == ("row 3 repeats row 2 exactly: counted once",)


def test_a_time_without_offset_is_refused() -> None:
    with pytest.raises(ReadingsRefused) as refused:
        assemble_readings([Reading(at(0).replace(tzinfo=None), 5.0, source="row 1")])
    assert refused.value.detail == "row 1: 2026-03-01T08:00:00 has no UTC offset"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-300.0, "row 3: -300 °C is below absolute zero (-273.15 °C)"),
        (
            -250.0,
            "row 3: -250 °C is outside -200…150 °C, plausible for any pharmaceutical storage: "
            "a faulty sensor, not a reading",
        ),
        (
            151.0,
            "row 3: 151 °C is outside -200…150 °C, plausible for any pharmaceutical storage: "
            "a faulty sensor, not a reading",
        ),
        (math.nan, "row 3: the temperature is not a finite number"),
    ],
)
def test_impossible_temperatures_are_refused_naming_the_row(value: float, message: str) -> None:
    readings = [Reading(at(10 * i), t, source=f"row {i + 1}") for i, t in enumerate([5, 5, value])]

    with pytest.raises(ReadingsRefused) as refused:
        assemble_readings(readings)

    assert refused.value.detail == message
    assert refused.value.extra == {"index": 2}


def test_a_refusal_names_the_position_among_the_readings_given() -> None:
    # The repeat at position 1 is merged; the bad value is still the fourth reading given
    readings = [Reading(at(0), 5.0), Reading(at(0), 5.0), Reading(at(10), 5.0)]
    readings.append(Reading(at(20), 200.0))

    with pytest.raises(ReadingsRefused) as refused:
        assemble_readings(readings)

    assert refused.value.detail.startswith("reading 4: 200 °C is outside")
    assert refused.value.extra == {"index": 3}


def test_no_readings_is_refused() -> None:
    with pytest.raises(ReadingsRefused, match="no readings"):
        assemble_readings([])


def test_fahrenheit_is_converted_exactly_at_the_limits() -> None:
    # pint goes through kelvin: unrounded, 46.4 °F would be 8.000000000000057 °C
    converted = fahrenheit_to_celsius([46.4, 35.6, 32.0, 77.0, -40.0, 212.0])

    assert converted.tolist() == [8.0, 2.0, 0.0, 25.0, -40.0, 100.0]


def test_arrays_as_a_service_loads_them() -> None:
    times = np.datetime64("2026-03-01T08:00") + np.arange(4) * np.timedelta64(15, "m")

    series = series_from_arrays(times, [5.0, 6.0, 7.0, 8.0])

    assert series.start == START
    assert holds_min(series) == [15.0] * 4
    assert series.time_at(3) == at(45)
    with pytest.raises(ValueError, match="read-only"):
        series.temperatures_c[0] = 20.0


def test_arrays_refusals_name_the_reading() -> None:
    base = np.array([0, 60, 60, 120], dtype=np.int64) * 1_000_000

    with pytest.raises(ReadingsRefused) as same:
        series_from_arrays(base, [5.0] * 4)
    with pytest.raises(ReadingsRefused) as lengths:
        series_from_arrays(base, [5.0] * 3)
    with pytest.raises(ReadingsRefused) as factor:
        series_from_arrays(base[:2], [5.0] * 2, gap_factor=1.0)

    assert same.value.detail == "reading 3 has the same time as reading 2"
    assert same.value.extra == {"index": 2}
    assert lengths.value.detail == "times and temperatures must be two lists of the same length"
    assert factor.value.detail == "the gap factor must be a number above 1"


def test_a_regular_series_has_no_warnings() -> None:
    assert every(5, [5.0, 5.0]).warnings == ()
