"""Timestamps from outside onto the UTC time line, safely.

``datetime.astimezone`` raises ``OverflowError`` for an instant that lies outside the years
1–9999 once in UTC (``0001-01-01T00:00:00+14:00`` is in year 0; ``9999-12-31T23:59:59-01:00``
in year 10000). A device or a lab system can send either; it is a reason to quarantine the row,
never a traceback that loses the delivery."""

from __future__ import annotations

from datetime import UTC, datetime

OUT_OF_RANGE = "timestamp_out_of_range"


class TimeProblem(ValueError):
    """A timestamp that can't be placed on the UTC time line, with its reason code."""

    def __init__(self, message: str, code: str = OUT_OF_RANGE) -> None:
        super().__init__(message)
        self.code = code


def to_utc(moment: datetime, *, name: str = "timestamp") -> datetime:
    """``moment`` (aware) in UTC; ``TimeProblem`` when UTC has no such year."""
    if moment.tzinfo is None:
        raise TimeProblem(f"{name}: {moment.isoformat()} has no UTC offset", "no_time_zone")
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise TimeProblem(
            f"{name}: {moment.isoformat()} lies outside the years 1 to 9999 in UTC"
        ) from None
