"""What the pages show: the alarm register with its flags, and the curve of a place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import NotFound
from pharmaqms.lifecycle.distribution import profiles
from pharmaqms.lifecycle.distribution.curve import Curve, Mark, Trace, gaps_of
from pharmaqms.lifecycle.distribution.models import AlarmProfile, AlarmStatus, ColdChainAlarm
from pharmaqms.platform.timeseries.models import Sensor, SensorReading


@dataclass(frozen=True)
class BoardRow:
    alarm: ColdChainAlarm
    unacknowledged: bool
    overdue: bool


def board(session: Session, *, status: str = "", limit: int = 300) -> list[BoardRow]:
    now = clock.now()
    query = select(ColdChainAlarm).order_by(ColdChainAlarm.id.desc()).limit(limit)
    if status == "open":
        query = query.where(ColdChainAlarm.status != AlarmStatus.CLOSED.value)
    elif status:
        query = query.where(ColdChainAlarm.status == status)
    rows = []
    for alarm in session.scalars(query):
        unacknowledged = alarm.status == AlarmStatus.RAISED
        rows.append(
            BoardRow(alarm, unacknowledged, unacknowledged and alarm.acknowledge_due_at < now)
        )
    return rows


def open_counts(session: Session) -> tuple[int, int]:
    """(open alarms, of which not yet acknowledged) — what the board lists with
    ``status=open`` and ``status=raised``, counted without loading the alarms."""
    still_open = ColdChainAlarm.status != AlarmStatus.CLOSED.value
    total = session.scalar(select(func.count()).where(still_open)) or 0
    raised = ColdChainAlarm.status == AlarmStatus.RAISED.value
    unacknowledged = session.scalar(select(func.count()).where(raised)) or 0
    return int(total), int(unacknowledged)


def places(session: Session) -> list[AlarmProfile]:
    return list(
        session.scalars(
            select(AlarmProfile)
            .where(AlarmProfile.status == "in_force")
            .order_by(AlarmProfile.place_code)
        )
    )


def place_curve(session: Session, place_key: str, *, hours: float = 24.0) -> Curve:
    """The last ``hours`` up to the newest reading of the place (not 'now': a logger read after
    a trip shows its trip)."""
    profile = profiles.in_force(session, place_key)
    if profile is None:
        raise NotFound(f"no alarm profile for {place_key}")
    column = (
        SensorReading.shipment_id == profile.shipment_id
        if profile.shipment_id is not None
        else SensorReading.location_id == profile.location_id
    )
    newest: datetime | None = session.scalar(
        select(SensorReading.measured_at)
        .where(column)
        .order_by(SensorReading.measured_at.desc())
        .limit(1)
    )
    end = newest or clock.now()
    start = end - timedelta(hours=hours)
    rows = session.execute(
        select(Sensor.code, SensorReading.measured_at, SensorReading.temperature_c)
        .join(Sensor, Sensor.id == SensorReading.sensor_id)
        .where(column, SensorReading.measured_at >= start, SensorReading.temperature_c.is_not(None))
        .order_by(Sensor.code, SensorReading.measured_at)
    ).all()
    by_sensor: dict[str, list[tuple[datetime, float]]] = {}
    for code, at, value in rows:
        by_sensor.setdefault(code, []).append((at, float(value or 0.0)))  # None filtered out
    allowed = timedelta(minutes=profile.interval_min * profile.silent_intervals)
    gaps = [gap for points in by_sensor.values() for gap in gaps_of(points, allowed)]
    marks = [
        Mark(a.triggered_at, a.number, a.kind)
        for a in session.scalars(
            select(ColdChainAlarm).where(
                ColdChainAlarm.place_key == place_key,
                ColdChainAlarm.triggered_at >= start,
                ColdChainAlarm.triggered_at <= end,
            )
        )
    ]
    return Curve(
        title=f"{profile.place_code}: {profile.condition} "
        f"(profile {profile.number} rev. {profile.revision})",
        start=start,
        end=end,
        traces=[Trace(code, points) for code, points in by_sensor.items()],
        low_c=profile.low_c,
        high_c=profile.high_c,
        pre=(profile.pre_low_c, profile.pre_high_c),
        alarm=(profile.alarm_low_c, profile.alarm_high_c),
        gaps=gaps,
        marks=marks,
    )
