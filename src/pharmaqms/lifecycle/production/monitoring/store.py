"""Reading a parameter's series from storage: the readings of a window, and the recent readings
a monitor or a chart is rebuilt from, cut at a subgroup boundary with the index of the first
point (see ``series`` for how readings make points).

A reading's place in the series is (measured_at, id): the time it was measured, and for two
readings of the same instant, the order they were stored.

Readings of every unit are read, and those whose unit converts to the parameter's are kept,
converted (see ``series``): which units convert is pint's to say, not SQL's, so counts are read
per unit and summed over the units that do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from pharmaqms.lifecycle.production.monitoring.series import (
    Conversion,
    SeriesKey,
    StoredReading,
    conversion,
)
from pharmaqms.platform.masterdata.models import Lot, LotKind
from pharmaqms.platform.timeseries.models import ProcessReading

Place = tuple[datetime, int]
R = ProcessReading


@dataclass(frozen=True)
class Series:
    """Which stored readings make a parameter's series."""

    key: SeriesKey
    unit: str
    since: datetime | None = None  # when the limits in force apply; None: all readings

    def converts(self, unit: str) -> Conversion | None:
        """How a reading in ``unit`` joins the series; None: it does not."""
        found = conversion(unit, self.unit)
        return found if isinstance(found, Conversion) else None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The stored readings of the parameter, in any unit (``converts`` says which count)."""
        product, unit_procedure, operation, phase, parameter = self.key
        found = [
            R.parameter == parameter,
            R.unit_procedure == unit_procedure,
            R.operation == operation,
            R.phase == phase,
            R.batch_id.in_(
                select(Lot.id).where(Lot.kind == LotKind.FINISHED, Lot.item_code == product)
            ),
        ]
        if self.since is not None:
            found.append(R.measured_at >= self.since)
        return found


def before(place: Place) -> ColumnElement[bool]:
    at, reading_id = place
    return or_(R.measured_at < at, and_(R.measured_at == at, R.id < reading_id))


def _after(place: Place) -> ColumnElement[bool]:
    at, reading_id = place
    return or_(R.measured_at > at, and_(R.measured_at == at, R.id > reading_id))


def not_before(place: Place) -> ColumnElement[bool]:
    at, reading_id = place
    return or_(R.measured_at > at, and_(R.measured_at == at, R.id >= reading_id))


def _select(series: Series) -> Select[int, int, float, datetime, str]:
    return select(R.id, R.batch_id, R.value, R.measured_at, R.unit).where(*series.conditions())


def _stored(
    series: Series, rows: Iterable[tuple[int, int, float, datetime, str]]
) -> list[StoredReading]:
    """The rows that belong to the series, in its unit."""
    found = []
    for r in rows:
        convert = series.converts(r[4])
        if convert is not None:
            found.append(StoredReading(r[0], r[1], convert(r[2]), r[3]))
    return found


def _count(session: Session, series: Series, *where: ColumnElement[bool]) -> int:
    """How many readings of the series meet these conditions."""
    rows = session.execute(
        select(R.unit, func.count()).where(*series.conditions(), *where).group_by(R.unit)
    )
    return sum(int(n) for unit, n in rows if series.converts(unit) is not None)


def readings(
    session: Session,
    series: Series,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    batch_ids: Sequence[int] | None = None,
    from_place: Place | None = None,
    after: Place | None = None,
) -> list[StoredReading]:
    """The series' readings in order, within [start, end), of these batches, from a place on
    (``from_place`` included, ``after`` not)."""
    query = _select(series)
    if start is not None:
        query = query.where(R.measured_at >= start)
    if end is not None:
        query = query.where(R.measured_at < end)
    if batch_ids is not None:
        query = query.where(R.batch_id.in_(list(batch_ids)))
    if from_place is not None:
        query = query.where(not_before(from_place))
    if after is not None:
        query = query.where(_after(after))
    return _stored(series, session.execute(query.order_by(R.measured_at, R.id)))


@dataclass(frozen=True, slots=True)
class Stray:
    reading_id: int
    batch_id: int
    step: tuple[str, str, str, str]  # unit procedure, operation, phase, parameter
    unit: str
    measured_at: datetime


def strays(
    session: Session,
    keys: Sequence[SeriesKey],
    since: datetime,
    until: datetime,
    runs: Iterable[int | None],
) -> list[Stray]:
    """Readings of these parameters measured in [since, until] that other deliveries stored
    (not the runs given): what a monitor may have missed. The caller matches them to series."""
    delivered = sorted(r for r in set(runs) if r is not None)
    query = select(
        R.id, R.batch_id, R.unit_procedure, R.operation, R.phase, R.parameter, R.unit, R.measured_at
    ).where(
        R.parameter.in_(sorted({k[4] for k in keys})),
        R.measured_at >= since,
        R.measured_at <= until,
    )
    if delivered:
        query = query.where(or_(R.run_id.is_(None), R.run_id.not_in(delivered)))
    return [
        Stray(row[0], row[1], (row[2], row[3], row[4], row[5]), row[6], row[7])
        for row in session.execute(query)
    ]


@dataclass(frozen=True)
class Window:
    """Recent readings of a series starting at a subgroup boundary; ``first_index`` is the index
    of the point the first of them belongs to."""

    first_index: int
    readings: list[StoredReading]


def _points_before(session: Session, series: Series, subgroup_size: int, place: Place) -> int:
    if subgroup_size == 1:
        return _count(session, series, before(place))
    rows = session.execute(
        select(R.batch_id, R.unit, func.count())
        .where(*series.conditions(), before(place))
        .group_by(R.batch_id, R.unit)
    )
    per_batch: dict[int, int] = {}
    for batch_id, unit, count in rows:
        if series.converts(unit) is not None:
            per_batch[batch_id] = per_batch.get(batch_id, 0) + int(count)
    return sum(count // subgroup_size for count in per_batch.values())


def recent(
    session: Session,
    series: Series,
    subgroup_size: int,
    points: int,
    *,
    until: Place | None = None,
) -> Window:
    """The readings of about the last ``points`` points of the series before ``until`` (all
    readings when None), and the index of the first."""
    limit = (points + 1) * subgroup_size
    query = _select(series)
    if until is not None:
        query = query.where(before(until))
    newest_first = query.order_by(R.measured_at.desc(), R.id.desc())
    read = session.execute(newest_first.limit(limit)).all()
    rows = _stored(series, reversed(read))
    if len(rows) < len(read) == limit:
        # Readings in another kind of unit among them: read on back until the window is full.
        rows = _stored(series, reversed(session.execute(newest_first).all()))
        if len(rows) <= limit:
            return Window(0, rows)
        rows = rows[-limit:]
    elif len(read) < limit:
        return Window(0, rows)
    first = rows[0]
    skip = 0
    if subgroup_size > 1:
        # Subgroups count from each batch's first reading: skip to the next boundary.
        earlier = _count(session, series, R.batch_id == first.batch_id, before(_place(first)))
        wanted = (-earlier) % subgroup_size
        while skip < wanted and skip < len(rows) and rows[skip].batch_id == first.batch_id:
            skip += 1
    # At least two subgroups' worth of rows were kept and fewer than one skipped.
    kept = rows[skip:]
    return Window(_points_before(session, series, subgroup_size, _place(kept[0])), kept)


def _place(reading: StoredReading) -> Place:
    return (reading.measured_at, reading.reading_id)


def products_of(session: Session, batch_ids: Iterable[int]) -> dict[int, str]:
    """The product code of each finished batch."""
    wanted = sorted(set(batch_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Lot.id, Lot.item_code).where(Lot.id.in_(wanted), Lot.kind == LotKind.FINISHED)
    )
    return {int(lot_id): str(code) for lot_id, code in rows}
