"""Calendar months for trends: every quality KPI is counted per calendar month of the site's
time zone (kernel/timezones), so a record made late on the 31st in Berlin counts in that month
for every reader, wherever they read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pharmaqms.kernel.timezones import site_date, site_day_start_utc


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @property
    def start(self) -> datetime:
        return site_day_start_utc(date(self.year, self.month, 1))

    @property
    def end(self) -> datetime:
        return self.next().start

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def month_of(moment: datetime) -> Month:
    day = site_date(moment)
    return Month(day.year, day.month)


def months_back(now: datetime, count: int) -> list[Month]:
    """The ``count`` months ending with the month of ``now``, oldest first."""
    if count < 1:
        raise ValueError("count must be at least 1")
    months = [month_of(now)]
    while len(months) < count:
        months.append(months[-1].previous())
    return months[::-1]
