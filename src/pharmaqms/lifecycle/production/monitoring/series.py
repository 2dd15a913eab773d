"""How a parameter's readings become the points of its control chart. Pure: no database.

The series of a parameter is every reading of its product, step and parameter, in the order
they were measured (ties by reading id), from the moment its control limits apply. An I-MR chart
plots each reading. An X̄-R or X̄-S chart of subgroup size n plots the mean of n consecutive
readings *of the same batch*, counted from the batch's first reading: a subgroup never mixes two
batches, and the readings left over when a batch ends (fewer than n) make no point. This rule is
what lets the live evaluation, a rebuild from storage and the chart page agree on every point
and its index without keeping anything but the readings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pharmaqms.lifecycle.production.spc import ChartKind

# (product code, unit procedure, operation, phase, parameter)
SeriesKey = tuple[str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class StoredReading:
    reading_id: int
    batch_id: int
    value: float
    measured_at: datetime


@dataclass(frozen=True, slots=True)
class Point:
    """One plotted point: the reading (I-MR) or subgroup mean, and its dispersion statistic —
    the moving range to the previous point, or the subgroup's range or SD (None for the first
    point of an I chart)."""

    index: int
    value: float
    dispersion: float | None
    batch_id: int
    reading_id: int  # the reading that completed the point
    measured_at: datetime


def _dispersion(kind: ChartKind, values: Sequence[float]) -> float:
    if kind is ChartKind.XBAR_R:
        return max(values) - min(values)
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def points_of(
    readings: Sequence[StoredReading], kind: ChartKind, subgroup_size: int, *, first_index: int = 0
) -> list[Point]:
    """The points of consecutive readings that start at a subgroup boundary; the first point gets
    ``first_index``. A trailing incomplete subgroup makes no point."""
    points: list[Point] = []
    if kind is ChartKind.INDIVIDUALS:
        previous: float | None = None
        for offset, r in enumerate(readings):
            moving_range = None if previous is None else abs(r.value - previous)
            points.append(
                Point(
                    first_index + offset,
                    r.value,
                    moving_range,
                    r.batch_id,
                    r.reading_id,
                    r.measured_at,
                )
            )
            previous = r.value
        return points
    pending: list[StoredReading] = []
    for r in readings:
        if pending and pending[0].batch_id != r.batch_id:
            pending = []
        pending.append(r)
        if len(pending) == subgroup_size:
            values = [p.value for p in pending]
            points.append(
                Point(
                    first_index + len(points),
                    sum(values) / subgroup_size,
                    _dispersion(kind, values),
                    r.batch_id,
                    r.reading_id,
                    r.measured_at,
                )
            )
            pending = []
    return points


def complete_subgroups(readings: Sequence[StoredReading], subgroup_size: int) -> list[list[float]]:
    """The values of each complete subgroup (per batch, from the batch's first reading)."""
    groups: list[list[float]] = []
    pending: list[float] = []
    batch: int | None = None
    for r in readings:
        if r.batch_id != batch:
            pending, batch = [], r.batch_id
        pending.append(r.value)
        if len(pending) == subgroup_size:
            groups.append(pending)
            pending = []
    return groups
