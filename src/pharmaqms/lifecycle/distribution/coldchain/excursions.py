"""Excursions: continuous time outside the labelled range, by sample-and-hold.

Conventions:

- The range's limits are inside it: with 2–8 °C, a reading of 8.0 °C is in range, 8.01 °C out.
  A range may be open on one side ("below 25 °C").
- A reading outside the range starts an excursion at its time; the excursion lasts until the
  next reading inside the range (each reading holds until the next, :mod:`.readings`). So the
  duration is the sum of the holds of its readings and ``end = start + duration``.
- **Degree-minutes** = ∫ distance outside the range dt, sample-and-hold: Σ over the excursion's
  readings of (T − HIGH above the range, LOW − T below it) × hold in minutes, in °C·min.
- A gap (unknown time) ends an excursion: the readings on either side are not known to be one
  continuous excursion. The excursion says so (``gap_before``: it may have begun during the
  gap; ``gap_after``: it may have lasted into it), and the unknown time is reported with the
  gaps, never counted as in range. An excursion that reaches the last reading
  (``until_last_reading``) may still be going on.
- An excursion that goes from above the range to below it without a reading in range between
  is one excursion (``side`` "both").
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import numpy as np

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.distribution.coldchain.readings import (
    BoolArray,
    FloatArray,
    Gap,
    IntArray,
    TemperatureSeries,
    from_microseconds,
)


@dataclass(frozen=True, slots=True)
class TemperatureRange:
    """A labelled storage range in °C, limits included; None leaves a side open."""

    low_c: float | None
    high_c: float | None

    def __post_init__(self) -> None:
        if self.low_c is None and self.high_c is None:
            raise InvalidInput("a temperature range needs a lower or an upper limit")
        for limit in (self.low_c, self.high_c):
            if limit is not None and not math.isfinite(limit):
                raise InvalidInput("the limits of a temperature range must be finite numbers")
        if self.low_c is not None and self.high_c is not None and not self.low_c < self.high_c:
            raise InvalidInput(
                f"the lower limit {self.low_c:g} °C must be below the upper {self.high_c:g} °C"
            )

    @classmethod
    def parse(cls, text: str) -> TemperatureRange:
        """``"2,8"``; ``",25"`` for "not above 25 °C"; ``"-25,"`` for "not below −25 °C"."""
        parts = text.split(",")
        if len(parts) != 2:
            raise InvalidInput(f"{text!r} is not a range LOW,HIGH (e.g. 2,8)")
        limits: list[float | None] = []
        for part in parts:
            cell = part.strip()
            if not cell:
                limits.append(None)
                continue
            try:
                limits.append(float(cell))
            except ValueError:
                raise InvalidInput(f"{cell!r} in the range {text!r} is not a number") from None
        return cls(limits[0], limits[1])

    def __str__(self) -> str:
        if self.low_c is None:
            return f"≤ {self.high_c:g} °C"
        if self.high_c is None:
            return f"≥ {self.low_c:g} °C"
        return f"{self.low_c:g}–{self.high_c:g} °C"

    def above(self, temperatures_c: FloatArray) -> BoolArray:
        if self.high_c is None:
            return np.zeros(temperatures_c.shape, dtype=np.bool_)
        return temperatures_c > self.high_c

    def below(self, temperatures_c: FloatArray) -> BoolArray:
        if self.low_c is None:
            return np.zeros(temperatures_c.shape, dtype=np.bool_)
        return temperatures_c < self.low_c

    def outside(self, temperatures_c: FloatArray) -> BoolArray:
        if self.low_c is None:
            return self.above(temperatures_c)
        if self.high_c is None:
            return self.below(temperatures_c)
        return (temperatures_c > self.high_c) | (temperatures_c < self.low_c)

    def distance(self, temperatures_c: FloatArray) -> FloatArray:
        """How far outside the range each temperature is, in °C (0 inside)."""
        distance = np.zeros(temperatures_c.shape, dtype=np.float64)
        if self.high_c is not None:
            distance += np.maximum(temperatures_c - self.high_c, 0.0)
        if self.low_c is not None:
            distance += np.maximum(self.low_c - temperatures_c, 0.0)
        return distance


class Side(StrEnum):
    ABOVE = "above"
    BELOW = "below"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class Excursion:
    """One excursion; ``first_reading``/``last_reading`` are positions in the series."""

    start: datetime
    duration_s: float
    min_c: float
    max_c: float
    degree_minutes: float
    side: Side
    gap_before: bool
    gap_after: bool
    until_last_reading: bool
    first_reading: int
    last_reading: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration_s)

    @property
    def duration_min(self) -> float:
        return self.duration_s / 60.0


@dataclass(frozen=True, slots=True, eq=False)
class Excursions:
    """The excursions of a series as columns (one entry per excursion, in time order);
    indexing or iterating gives :class:`Excursion` values."""

    limits: TemperatureRange
    first_reading: IntArray
    last_reading: IntArray
    start_us: IntArray
    duration_s: FloatArray
    min_c: FloatArray
    max_c: FloatArray
    degree_minutes: FloatArray
    gap_before: BoolArray
    gap_after: BoolArray
    readings: int

    def __len__(self) -> int:
        return int(self.first_reading.size)

    def _side(self, index: int) -> Side:
        above = self.limits.high_c is not None and self.max_c[index] > self.limits.high_c
        below = self.limits.low_c is not None and self.min_c[index] < self.limits.low_c
        if above and below:
            return Side.BOTH
        return Side.ABOVE if above else Side.BELOW

    def __getitem__(self, index: int) -> Excursion:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index %= len(self)
        last = int(self.last_reading[index])
        return Excursion(
            start=from_microseconds(int(self.start_us[index])),
            duration_s=float(self.duration_s[index]),
            min_c=float(self.min_c[index]),
            max_c=float(self.max_c[index]),
            degree_minutes=float(self.degree_minutes[index]),
            side=self._side(index),
            gap_before=bool(self.gap_before[index]),
            gap_after=bool(self.gap_after[index]),
            until_last_reading=last == self.readings - 1,
            first_reading=int(self.first_reading[index]),
            last_reading=last,
        )

    def __iter__(self) -> Iterator[Excursion]:
        return (self[i] for i in range(len(self)))


@dataclass(frozen=True, slots=True)
class ExcursionReport:
    """What a series shows against a range: its excursions, the minutes out of range (known
    time), and the unknown time with its gaps."""

    limits: TemperatureRange
    excursions: Excursions
    total_minutes_out: float
    unknown_minutes: float
    gaps: tuple[Gap, ...]


def find_excursions(series: TemperatureSeries, limits: TemperatureRange) -> ExcursionReport:
    temperatures, holds = series.temperatures_c, series.holds_s
    out = np.flatnonzero(limits.outside(temperatures))
    out_temperatures = temperatures[out]
    out_holds = holds[out]
    # A new excursion where the previous reading out of range is not the one just before, or a
    # gap separates them.
    starts_new = np.empty(out.size, dtype=np.bool_)
    if out.size:
        starts_new[0] = True
        starts_new[1:] = (np.diff(out) != 1) | series.followed_by_gap(out[:-1])
    first_of = np.flatnonzero(starts_new)
    last_of = np.empty_like(first_of)
    last_of[:-1] = first_of[1:] - 1
    if out.size:
        last_of[-1] = out.size - 1
    first, last = out[first_of], out[last_of]
    unknown_before = (first > 0) & series.followed_by_gap(first - 1)
    if out.size:
        degree_seconds = limits.distance(out_temperatures) * out_holds
        durations = np.add.reduceat(out_holds, first_of)
        degree_minutes = np.add.reduceat(degree_seconds, first_of) / 60.0
        minima = np.minimum.reduceat(out_temperatures, first_of)
        maxima = np.maximum.reduceat(out_temperatures, first_of)
    else:
        durations = degree_minutes = minima = maxima = np.zeros(0, dtype=np.float64)
    excursions = Excursions(
        limits=limits,
        first_reading=first.astype(np.int64),
        last_reading=last.astype(np.int64),
        start_us=series.times_us[first],
        duration_s=durations,
        min_c=minima,
        max_c=maxima,
        degree_minutes=degree_minutes,
        gap_before=unknown_before,
        gap_after=series.followed_by_gap(last),
        readings=len(series),
    )
    return ExcursionReport(
        limits=limits,
        excursions=excursions,
        total_minutes_out=float(out_holds.sum()) / 60.0,
        unknown_minutes=series.unknown_s / 60.0,
        gaps=series.gaps,
    )
