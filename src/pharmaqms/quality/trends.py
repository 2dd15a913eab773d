"""Calendar months for trends: every quality KPI is counted per UTC month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

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
    moment = moment.astimezone(UTC)
    return Month(moment.year, moment.month)


def months_back(now: datetime, count: int) -> list[Month]:
    """The ``count`` months ending with the month of ``now``, oldest first."""
    if count < 1:
        raise ValueError("count must be at least 1")
    months = [month_of(now)]
    while len(months) < count:
        months.append(months[-1].previous())
    return months[::-1]
