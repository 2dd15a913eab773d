"""How a parameter's readings become the points of its control chart. Pure: no database.

The series of a parameter is every reading of its product, step and parameter, in the order
they were measured (ties by reading id), from the moment its control limits apply. An I-MR chart
plots each reading. An X̄-R or X̄-S chart of subgroup size n plots the mean of n consecutive
readings *of the same batch*, counted from the batch's first reading: a subgroup never mixes two
batches, and the readings left over when a batch ends (fewer than n) make no point. This rule is
what lets the live evaluation, a rebuild from storage and the chart page agree on every point
and its index without keeping anything but the readings.

Units. The series holds every reading whose unit converts to the parameter's (pint, through the
platform's ``governance.units``: 25 000 N is 25 kN on a kN chart, 98.6 °F is 37 °C), converted.
A reading in a unit of another kind (kg on a kN chart), in a unit pint does not know, or sent
without a unit is *not* part of the series: the live monitoring raises a data-quality alert for
it instead (see ``engine``). A reading without a unit is refused rather than read in the
parameter's unit, as the QC module refuses it: a source that sends bare numbers declares their
unit in its mapping, and the platform then stores the reading in that unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from pharmaqms.lifecycle.production.spc import ChartKind
from pharmaqms.platform.governance.units import UnitProblem, convert

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


# Data-quality rules: why a reading is not part of its parameter's series.
UNIT_NOT_CONVERTIBLE = 1
NO_UNIT = 2


@dataclass(frozen=True, slots=True)
class Conversion:
    """value in the reading's unit → value in the parameter's: scale·value + offset (pint's
    conversions between units of one kind are affine; the offset is a temperature's)."""

    scale: float
    offset: float

    def __call__(self, value: float) -> float:
        return value * self.scale + self.offset


@dataclass(frozen=True, slots=True)
class UnitIssue:
    """Why a reading in this unit can't be charted (a data-quality rule and its explanation)."""

    rule: int
    reason: str


SAME = Conversion(1.0, 0.0)


@lru_cache(maxsize=1024)
def conversion(given: str, unit: str) -> Conversion | UnitIssue:
    """How a reading sent in ``given`` joins a series in ``unit``."""
    if given == unit:
        return SAME
    if not given.strip():
        return UnitIssue(NO_UNIT, f"sent without a unit; the chart is in {unit!r}")
    if given.strip().lower() == unit.strip().lower():
        return SAME  # a label pint does not know ("pH", "NTU"), spelled alike
    try:
        offset = convert(0.0, given, unit)
        scale = convert(1.0, given, unit) - offset
    except UnitProblem as err:
        return UnitIssue(UNIT_NOT_CONVERTIBLE, f"{err}; the chart is in {unit!r}")
    return SAME if (scale, offset) == (1.0, 0.0) else Conversion(scale, offset)


def dispersion_of(kind: ChartKind, values: Sequence[float]) -> float:
    """A subgroup's range (X̄-R) or sample SD (X̄-S)."""
    return _dispersion(kind, values)


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
