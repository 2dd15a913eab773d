"""HL7 v3 point in time (TS) with the precision the sender gave.

E2B dates come as YYYY, YYYYMM, YYYYMMDD, YYYYMMDDhh, YYYYMMDDhhmm or YYYYMMDDhhmmss[.f],
optionally followed by a zone (+hh or +hhmm). "2009" means "some day in 2009", not
1 January 2009, so a partial date is never widened into a full one: :class:`HL7Time` keeps
the components that were sent and nothing else. Comparisons go through :meth:`earliest` and
:meth:`latest`, the bounds of the period the value may stand for.

Zones: a value with a time of day and a zone is converted to UTC (offset 0) on reading, as
everything else in the system is UTC. A value without a zone is the sender's local time and is
kept as such (no naive datetime is ever made of it); its bounds allow for any zone on Earth
(UTC−12 to UTC+14). A date without a time keeps the zone it came with, if any: a calendar date
cannot be moved to UTC without inventing a time.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import IntEnum
from typing import Final

_TS: Final = re.compile(
    r"(?P<digits>\d{4}(?:\d{2}){0,5})(?:\.(?P<fraction>\d{1,4}))?"
    r"(?:(?P<sign>[+-])(?P<zh>\d{2})(?P<zm>\d{2})?)?"
)
# The widest offsets in use: a local time without a zone may be any of these.
_EAST: Final = timedelta(hours=14)
_WEST: Final = timedelta(hours=12)


class Precision(IntEnum):
    """How much of the timestamp was sent, by number of digits."""

    YEAR = 4
    MONTH = 6
    DAY = 8
    HOUR = 10
    MINUTE = 12
    SECOND = 14


@dataclass(frozen=True)
class HL7Time:
    """A point in time to the precision given; ``utc_offset`` in minutes, ``None`` if no zone."""

    year: int
    month: int | None = None
    day: int | None = None
    hour: int | None = None
    minute: int | None = None
    second: int | None = None
    fraction: str | None = None  # digits after the decimal point of the seconds, as sent
    utc_offset: int | None = None

    def __post_init__(self) -> None:
        parts = (self.month, self.day, self.hour, self.minute, self.second)
        given = [p is not None for p in parts]
        if given != sorted(given, reverse=True):
            raise ValueError("a timestamp component is given without the ones before it")
        if not 1000 <= self.year <= 9998:  # keeps every bound below inside datetime's range
            raise ValueError(f"year {self.year} out of range")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} out of range")
        if self.day is not None and self.month is not None:
            last = calendar.monthrange(self.year, self.month)[1]
            if not 1 <= self.day <= last:
                raise ValueError(f"day {self.day} out of range for {self.year}-{self.month:02}")
        if self.hour is not None and not 0 <= self.hour <= 23:
            raise ValueError(f"hour {self.hour} out of range")
        if self.minute is not None and not 0 <= self.minute <= 59:
            raise ValueError(f"minute {self.minute} out of range")
        if self.second is not None and not 0 <= self.second <= 59:
            raise ValueError(f"second {self.second} out of range")
        if self.fraction is not None and (
            self.second is None or not re.fullmatch(r"\d{1,4}", self.fraction)
        ):
            raise ValueError("a fraction needs seconds and 1 to 4 digits")
        if self.utc_offset is not None and not -14 * 60 <= self.utc_offset <= 14 * 60:
            raise ValueError(f"zone offset {self.utc_offset} min out of range")

    @property
    def precision(self) -> Precision:
        count = sum(p is not None for p in (self.month, self.day, self.hour, self.minute))
        count += self.second is not None
        return Precision(4 + 2 * count)

    @classmethod
    def parse(cls, text: str) -> HL7Time:
        """Read an HL7 TS literal; raises ``ValueError`` for anything else."""
        match = _TS.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not an HL7 timestamp")
        digits = match["digits"]
        parts: list[int | None] = [int(digits[i : i + 2]) for i in range(4, len(digits), 2)]
        parts += [None] * (5 - len(parts))
        offset = None
        if match["sign"]:
            offset = int(match["zh"]) * 60 + int(match["zm"] or 0)
            offset = -offset if match["sign"] == "-" else offset
        month, day, hour, minute, second = parts
        value = cls(int(digits[0:4]), month, day, hour, minute, second, match["fraction"], offset)
        return value.to_utc()

    def to_utc(self) -> HL7Time:
        """The same instant in UTC, where that can be said without inventing digits."""
        if self.utc_offset in (None, 0) or self.hour is None:
            return self
        if self.minute is None and self.utc_offset % 60:
            return self  # an hour-precision value cannot carry a half-hour zone shift
        moment = datetime(
            self.year,
            self.month or 1,
            self.day or 1,
            self.hour,
            self.minute or 0,
            self.second or 0,
            tzinfo=timezone(timedelta(minutes=self.utc_offset)),
        ).astimezone(UTC)
        return HL7Time(
            moment.year,
            moment.month,
            moment.day,
            moment.hour,
            moment.minute if self.minute is not None else None,
            moment.second if self.second is not None else None,
            self.fraction,
            0,
        )

    def format(self) -> str:
        """The HL7 TS literal, with exactly the precision held."""
        out = f"{self.year:04}"
        for part in (self.month, self.day, self.hour, self.minute, self.second):
            if part is None:
                break
            out += f"{part:02}"
        if self.fraction is not None:
            out += f".{self.fraction}"
        if self.utc_offset is not None:
            sign = "-" if self.utc_offset < 0 else "+"
            hours, minutes = divmod(abs(self.utc_offset), 60)
            out += f"{sign}{hours:02}{minutes:02}"
        return out

    def local_bounds(self) -> tuple[datetime, datetime]:
        """The period covered, [start, end), as wall-clock times in the value's own (possibly
        unknown) zone, written on a UTC clock face so that arithmetic stays aware. Two values
        from one sender without a zone compare on these."""
        start = datetime(
            self.year,
            self.month or 1,
            self.day or 1,
            self.hour or 0,
            self.minute or 0,
            self.second or 0,
            tzinfo=UTC,
        )
        if self.month is None:
            end = start.replace(year=self.year + 1)
        elif self.day is None:
            end = start + timedelta(days=calendar.monthrange(self.year, self.month)[1])
        elif self.hour is None:
            end = start + timedelta(days=1)
        elif self.minute is None:
            end = start + timedelta(hours=1)
        elif self.second is None:
            end = start + timedelta(minutes=1)
        else:
            end = start + timedelta(seconds=1)
        return start, end

    def earliest(self) -> datetime:
        """The earliest UTC instant the value may stand for."""
        start, _ = self.local_bounds()
        shift = _EAST if self.utc_offset is None else timedelta(minutes=self.utc_offset)
        return start - shift

    def latest(self) -> datetime:
        """The UTC instant just after the latest one the value may stand for."""
        _, end = self.local_bounds()
        shift = -_WEST if self.utc_offset is None else timedelta(minutes=self.utc_offset)
        return end - shift

    def __str__(self) -> str:
        return self.format()


def from_datetime(moment: datetime, precision: Precision = Precision.SECOND) -> HL7Time:
    """An aware datetime as a UTC HL7Time cut to ``precision`` (for stamping our own messages)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not accepted")
    moment = moment.astimezone(UTC)
    keep = (precision - 4) // 2
    parts = [moment.month, moment.day, moment.hour, moment.minute, moment.second]
    month, day, hour, minute, second = [p if i < keep else None for i, p in enumerate(parts)]
    offset = 0 if precision >= Precision.HOUR else None
    return HL7Time(moment.year, month, day, hour, minute, second, utc_offset=offset)
