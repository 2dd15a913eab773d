"""Reading a parameter's series from storage: the readings of a window, and the recent readings
a monitor or a chart is rebuilt from, cut at a subgroup boundary with the index of the first
point (see ``series`` for how readings make points).

A reading's place in the series is (measured_at, id): the time it was measured, and for two
readings of the same instant, the order they were stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from pharmaqms.lifecycle.production.monitoring.series import SeriesKey, StoredReading
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

    def conditions(self) -> list[ColumnElement[bool]]:
        product, unit_procedure, operation, phase, parameter = self.key
        found = [
            R.parameter == parameter,
            R.unit_procedure == unit_procedure,
            R.operation == operation,
            R.phase == phase,
            # A reading sent without a unit is read in the parameter's unit (see engine).
            R.unit.in_(sorted({self.unit, ""})),
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


def _select(series: Series) -> Select[int, int, float, datetime]:
    return select(R.id, R.batch_id, R.value, R.measured_at).where(*series.conditions())


def _stored(rows: Iterable[tuple[int, int, float, datetime]]) -> list[StoredReading]:
    return [StoredReading(r[0], r[1], r[2], r[3]) for r in rows]


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
    return _stored(session.execute(query.order_by(R.measured_at, R.id)))


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
    where = [*series.conditions(), before(place)]
    if subgroup_size == 1:
        return int(session.execute(select(func.count()).select_from(R).where(*where)).scalar_one())
    per_batch = session.execute(
        select(func.count()).select_from(R).where(*where).group_by(R.batch_id)
    ).scalars()
    return sum(int(count) // subgroup_size for count in per_batch)


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
    rows = _stored(session.execute(query.order_by(R.measured_at.desc(), R.id.desc()).limit(limit)))
    rows.reverse()
    if len(rows) < limit:
        return Window(0, rows)
    first = rows[0]
    skip = 0
    if subgroup_size > 1:
        # Subgroups count from each batch's first reading: skip to the next boundary.
        earlier = session.execute(
            select(func.count())
            .select_from(R)
            .where(*series.conditions(), R.batch_id == first.batch_id, before(_place(first)))
        ).scalar_one()
        wanted = (-int(earlier)) % subgroup_size
        while skip < wanted and skip < len(rows) and rows[skip].batch_id == first.batch_id:
            skip += 1
    # At least two subgroups' worth of rows were read and fewer than one skipped.
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
