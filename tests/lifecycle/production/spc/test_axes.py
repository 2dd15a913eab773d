"""The axes of a control chart: round values on the y axis, and the points' times on the x axis
in the reader's zone — through a daylight-saving change and across zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pharmaqms.lifecycle.production.spc.axes import (
    moment_text,
    nice_step,
    nice_ticks,
    point_ticks,
    tick_text,
    time_labels,
)

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("low", "high", "target", "expected"),
    [
        (0.0, 10.0, 5, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]),
        (11.25, 12.79, 5, [11.25, 11.5, 11.75, 12.0, 12.25, 12.5, 12.75]),
        (11.1, 12.9, 4, [11.5, 12.0, 12.5]),
        (0.0, 0.9477, 3, [0.0, 0.25, 0.5, 0.75]),
        (-0.05, 0.31, 5, [0.0, 0.1, 0.2, 0.3]),
        (0.1, 0.3, 2, [0.1, 0.2, 0.3]),
        (995.0, 1005.0, 4, [995.0, 997.5, 1000.0, 1002.5, 1005.0]),
        (-3.2, -1.1, 4, [-3.0, -2.5, -2.0, -1.5]),
        (0.0, 100.0, 3, [0.0, 50.0, 100.0]),
    ],
)
def test_nice_ticks_are_round_values_inside_the_range(
    low: float, high: float, target: int, expected: list[float]
) -> None:
    assert nice_ticks(low, high, target) == expected


def test_nice_ticks_never_accumulate_rounding_errors_and_take_the_ends_in_either_order() -> None:
    ticks = nice_ticks(0.0, 1.0, 10)

    assert ticks == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert nice_ticks(10.0, 0.0, 5) == nice_ticks(0.0, 10.0, 5)
    assert nice_ticks(3.0, 3.0) == [3.0]


def test_a_span_that_is_no_number_is_refused() -> None:
    with pytest.raises(ValueError, match="positive finite"):
        nice_step(0.0, 5)
    with pytest.raises(ValueError, match="finite numbers"):
        nice_ticks(0.0, float("inf"))


def test_tick_text_has_the_decimals_its_step_needs() -> None:
    assert [tick_text(v, 2.5) for v in (995.0, 997.5)] == ["995.0", "997.5"]
    assert tick_text(12.0, 0.5) == "12.0"
    assert tick_text(0.25, 0.05) == "0.25"
    assert tick_text(20.0, 10.0) == "20"
    assert tick_text(0.0003, 0.0001) == "0.0003"


def test_point_ticks_spread_about_the_target_number_of_labels_from_the_first_point() -> None:
    assert point_ticks(0) == []
    assert point_ticks(5, 6) == [0, 1, 2, 3, 4]
    assert point_ticks(100, 6) == [0, 20, 40, 60, 80]
    assert point_ticks(32, 6) == [0, 5, 10, 15, 20, 25, 30]


def test_time_labels_are_the_wall_clock_of_the_zone_with_the_date_where_the_day_changes() -> None:
    times = [datetime(2026, 3, 2, 22, 30, tzinfo=UTC) + timedelta(hours=h) for h in range(4)]

    # Shanghai is UTC+8 all year: 06:30 on 3 March, the next day already.
    assert time_labels(times, SHANGHAI) == ["2026-03-03 06:30", "07:30", "08:30", "09:30"]
    # Berlin, UTC+1 in March: the day changes after the second point.
    assert time_labels(times, BERLIN) == ["2026-03-02 23:30", "2026-03-03 00:30", "01:30", "02:30"]
    assert time_labels(times, ZoneInfo("UTC")) == [
        "2026-03-02 22:30",
        "23:30",
        "2026-03-03 00:30",
        "01:30",
    ]


def test_the_autumn_night_shows_its_repeated_hour_twice_told_apart_by_the_zone() -> None:
    # Berlin leaves summer time at 01:00 UTC on 25 October 2026: 02:30 happens twice.
    times = [datetime(2026, 10, 25, 0, 30, tzinfo=UTC) + timedelta(hours=h) for h in range(3)]

    assert time_labels(times, BERLIN) == ["2026-10-25 02:30", "02:30 CET", "03:30"]
    assert moment_text(times[0], BERLIN) == "2026-10-25 02:30:00 CEST"
    assert moment_text(times[1], BERLIN) == "2026-10-25 02:30:00 CET"


def test_the_spring_night_skips_its_missing_hour() -> None:
    # Berlin starts summer time at 01:00 UTC on 29 March 2026: 02:00–03:00 never shows.
    times = [datetime(2026, 3, 29, 0, 30, tzinfo=UTC) + timedelta(minutes=30 * k) for k in range(3)]

    assert time_labels(times, BERLIN) == ["2026-03-29 01:30", "03:00 CEST", "03:30"]


def test_a_time_without_a_zone_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="carry their zone"):
        time_labels([datetime(2026, 3, 2, 8, 0)], BERLIN)
