"""HL7 TS with the precision sent: partial dates stay partial, zoned times become UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pharmaqms.lifecycle.use.e2b.dates import HL7Time, Precision, from_datetime


@pytest.mark.parametrize(
    ("literal", "precision"),
    [
        ("2009", Precision.YEAR),
        ("200906", Precision.MONTH),
        ("20090622", Precision.DAY),
        ("2009062213", Precision.HOUR),
        ("200906221305", Precision.MINUTE),
        ("20090622130559", Precision.SECOND),
    ],
)
def test_a_partial_date_keeps_exactly_the_precision_sent(
    literal: str, precision: Precision
) -> None:
    value = HL7Time.parse(literal)
    assert value.precision is precision
    assert value.format() == literal


def test_a_year_is_not_widened_into_the_first_of_january() -> None:
    value = HL7Time.parse("2009")
    assert (value.month, value.day) == (None, None)
    assert value != HL7Time.parse("20090101")


def test_a_time_with_a_zone_is_held_in_utc() -> None:
    value = HL7Time.parse("20120720100001+0900")
    assert value == HL7Time(2012, 7, 20, 1, 0, 1, utc_offset=0)
    assert value.format() == "20120720010001+0000"


def test_an_hours_only_zone_and_a_negative_zone_are_read() -> None:
    assert HL7Time.parse("20120720100001+09") == HL7Time(2012, 7, 20, 1, 0, 1, utc_offset=0)
    assert HL7Time.parse("201207202330-0500") == HL7Time(2012, 7, 21, 4, 30, utc_offset=0)


def test_a_date_keeps_its_zone_since_no_time_can_be_invented_to_move_it() -> None:
    value = HL7Time.parse("20120720+0900")
    assert value == HL7Time(2012, 7, 20, utc_offset=540)
    assert value.format() == "20120720+0900"


def test_an_hour_cannot_carry_a_half_hour_zone_shift_so_it_keeps_its_zone() -> None:
    assert HL7Time.parse("2012072010+0530") == HL7Time(2012, 7, 20, 10, utc_offset=330)


def test_fractions_of_a_second_are_kept_as_sent() -> None:
    value = HL7Time.parse("20120720100001.0500")
    assert value.fraction == "0500"
    assert value.format() == "20120720100001.0500"


@pytest.mark.parametrize(
    "literal",
    [
        "2009-06-22",
        "20091345",
        "20090230",
        "200906221",
        "20090622256000",
        "0999",
        "",
        "2009+25",
        "2009.5",
        "20090622130559.12345",
    ],
)
def test_what_is_not_an_hl7_timestamp_is_refused(literal: str) -> None:
    with pytest.raises(ValueError):
        HL7Time.parse(literal)


def test_a_component_without_the_ones_before_it_is_refused() -> None:
    with pytest.raises(ValueError):
        HL7Time(2009, None, 22)


def test_bounds_cover_the_whole_period_and_every_zone_when_none_was_given() -> None:
    month = HL7Time.parse("202311")
    assert month.earliest() == datetime(2023, 10, 31, 10, 0, tzinfo=UTC)  # 1 Nov at UTC+14
    assert month.latest() == datetime(2023, 12, 1, 12, 0, tzinfo=UTC)  # 30 Nov ends at UTC-12
    zoned = HL7Time.parse("20231105+0100")
    assert zoned.earliest() == datetime(2023, 11, 4, 23, 0, tzinfo=UTC)
    assert zoned.latest() == datetime(2023, 11, 5, 23, 0, tzinfo=UTC)


def test_our_own_stamp_is_utc_to_the_precision_asked() -> None:
    moment = datetime(2024, 3, 15, 13, 30, 5, tzinfo=UTC)
    assert from_datetime(moment).format() == "20240315133005+0000"
    assert from_datetime(moment, Precision.DAY).format() == "20240315"
    with pytest.raises(ValueError):
        from_datetime(datetime(2024, 3, 15))


@given(
    st.builds(
        HL7Time,
        st.integers(1000, 9998),
        st.integers(1, 12),
        st.integers(1, 28),
        st.none() | st.integers(0, 23),
    )
)
def test_format_then_parse_gives_the_same_value(value: HL7Time) -> None:
    assert HL7Time.parse(value.format()) == value
