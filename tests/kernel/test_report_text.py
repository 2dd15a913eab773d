"""How a time and a value are put into words for a reader: one function, offset always shown,
never microseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from pharmaqms.kernel.reports.text import format_time, format_value, humanize, parse_time


def test_a_time_is_shown_to_the_minute_with_its_offset_and_no_microseconds() -> None:
    moment = datetime(2026, 12, 6, 14, 3, 27, 456006, tzinfo=UTC)

    assert format_time(moment) == "2026-12-06 14:03 UTC (+00:00)"
    assert format_time(moment, seconds=True) == "2026-12-06 14:03:27 UTC (+00:00)"


def test_a_time_in_another_zone_is_shown_as_the_same_instant_in_utc() -> None:
    vienna = timezone(timedelta(hours=1))
    moment = datetime(2026, 12, 6, 15, 3, tzinfo=vienna)

    assert format_time(moment) == "2026-12-06 14:03 UTC (+00:00)"


def test_a_naive_time_is_read_as_utc_not_as_the_server_s_local_time() -> None:
    assert format_time(datetime(2026, 1, 2, 3, 4)) == "2026-01-02 03:04 UTC (+00:00)"


def test_stored_iso_times_in_an_audit_entry_read_as_times() -> None:
    assert parse_time("2026-01-02T19:43:16.456006Z") == datetime(
        2026, 1, 2, 19, 43, 16, 456006, tzinfo=UTC
    )
    assert format_value("2026-01-02T19:43:16.456006Z") == "2026-01-02 19:43 UTC (+00:00)"
    # Text that merely contains a date or a colon stays text.
    assert format_value("2026-01-02") == "2026-01-02"
    assert format_value("ratio 3:1") == "ratio 3:1"
    assert parse_time("not a time") is None


def test_values_read_as_words() -> None:
    assert format_value(None) == "—"
    assert format_value("") == "—"
    assert format_value([]) == "—"
    assert format_value(True) == "yes"
    assert format_value(["a", "b"]) == "a; b"
    assert format_value({"machine": ["punch fatigue"]}) == "Machine: punch fatigue"
    assert humanize("investigator_id") == "Investigator"
    assert humanize("root_cause") == "Root cause"
