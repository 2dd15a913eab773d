"""Gaps in a sensor's numbering of its readings: readings that never arrived.

A device may number its readings (``seq`` in the MQTT payload). After each delivery is stored,
``check_sequences`` walks the delivery's new readings per sensor, in the order received, against
where the sensor's numbering stood (``SensorSequence``, in the database, so a restarted worker
and the other workers of a shared subscription continue from it):

- the next number: the numbering moves on;
- a number beyond the next: the numbers between are a gap (``SensorSequenceGap``, open);
- a number inside an open gap: a late arrival (a shared subscription delivers out of order);
  it fills its place, and the gap shrinks, splits or is filled;
- a number inside a reported gap: counted on the gap as a late arrival; the finding stays;
- any other number on a reading older than the last one: counted as out of order (a reading
  of the count before a reboot, or one from before the first number seen);
- a number already passed, on a reading newer than the last: the device counts again (a
  reboot); the numbering continues from it and the restart is counted;
- the same reading delivered again (a redelivery) is not stored again, so it is not counted.

A gap still open ``grace`` after it was found is reported (``confirm_due_gaps``): the
listeners registered here raise the data-loss finding (the quality module registers one that
raises a deviation through the quality-events API; the platform never imports it). Each gap
is reported once, in the transaction that marks it reported."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.sensors.models import SensorSequence, SensorSequenceGap
from pharmaqms.platform.timeseries.models import Sensor

log = logging.getLogger("pharmaqms.sensors.sequence")

OPEN, FILLED, REPORTED = "open", "filled", "reported"


@dataclass(frozen=True)
class LostReadings:
    """A confirmed gap, as the listeners get it."""

    gap_id: int
    sensor_code: str
    first_missing: int
    last_missing: int
    after_measured_at: datetime
    before_measured_at: datetime
    detected_at: datetime
    run_id: int | None

    @property
    def count(self) -> int:
        return self.last_missing - self.first_missing + 1

    @property
    def numbers(self) -> str:
        if self.first_missing == self.last_missing:
            return f"reading {self.first_missing}"
        return f"readings {self.first_missing}–{self.last_missing}"


# Called in the reporting transaction; returns the label of the finding it raised.
GapListener = Callable[[Session, Actor, LostReadings], str | None]
_LISTENERS: list[GapListener] = []


def add_gap_listener(listener: GapListener) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def remove_gap_listener(listener: GapListener) -> None:
    if listener in _LISTENERS:
        _LISTENERS.remove(listener)


@dataclass(frozen=True)
class SequenceOutcome:
    gaps_opened: int = 0
    filled: int = 0
    restarts: int = 0
    out_of_order: int = 0


def _state(session: Session, sensor_id: int) -> SensorSequence | None:
    # Row lock on PostgreSQL: two workers of a shared subscription take turns per sensor (and,
    # sensors taken in id order, never in a cycle); SQLite's writer lock already serialises.
    return session.scalars(
        select(SensorSequence).where(SensorSequence.sensor_id == sensor_id).with_for_update()
    ).one_or_none()


def _insert_ignoring_conflict(
    session: Session, sensor_id: int, seq: int, measured_at: datetime, now: datetime
) -> None:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(SensorSequence)
        .values(
            sensor_id=sensor_id,
            last_seq=seq,
            last_measured_at=measured_at,
            restarts=0,
            out_of_order=0,
            updated_at=now,
        )
        .on_conflict_do_nothing()
    )


def _gap_holding(session: Session, sensor_id: int, seq: int) -> SensorSequenceGap | None:
    return session.scalars(
        select(SensorSequenceGap)
        .where(
            SensorSequenceGap.sensor_id == sensor_id,
            SensorSequenceGap.status.in_((OPEN, REPORTED)),
            SensorSequenceGap.first_missing <= seq,
            SensorSequenceGap.last_missing >= seq,
        )
        .order_by(SensorSequenceGap.id)
        .limit(1)
    ).one_or_none()


def _fill(session: Session, gap: SensorSequenceGap, seq: int) -> None:
    if gap.status == REPORTED:
        gap.late_arrivals += 1
        return
    first, last = gap.first_missing, gap.last_missing
    if first == last:
        gap.status = FILLED
    elif seq == first:
        gap.first_missing = first + 1
    elif seq == last:
        gap.last_missing = last - 1
    else:
        gap.last_missing = seq - 1
        session.add(
            SensorSequenceGap(
                sensor_id=gap.sensor_id,
                first_missing=seq + 1,
                last_missing=last,
                after_measured_at=gap.after_measured_at,
                before_measured_at=gap.before_measured_at,
                detected_at=gap.detected_at,
                run_id=gap.run_id,
                status=OPEN,
                late_arrivals=0,
            )
        )


_NUMBERED = "pharmaqms.sensors.numbered"
# The session.info key of the numbered readings noted per run (a journal ingest cuts back).
NUMBERED = _NUMBERED


def reading_numbered(
    session: Session, run_id: int, sensor_id: int, reading_id: int, seq: int, measured_at: datetime
) -> None:
    """Called by the connector for each new numbered reading it stores (kept on the session:
    the readings table has no index on the run, and needs none for this)."""
    pending: dict[int, list[tuple[int, int, int, datetime]]] = session.info.setdefault(
        _NUMBERED, {}
    )
    pending.setdefault(run_id, []).append((sensor_id, reading_id, seq, measured_at))


def check_sequences(session: Session, run_id: int) -> SequenceOutcome:
    """Walk the numbered readings this delivery stored, sensor by sensor, in the order stored."""
    pending: dict[int, list[tuple[int, int, int, datetime]]] = session.info.get(_NUMBERED, {})
    rows = sorted(pending.pop(run_id, []))
    now = clock.now()
    opened = filled = restarts = out_of_order = 0
    state: SensorSequence | None = None
    for sensor_id, _reading_id, seq, measured_at in rows:
        if state is None or state.sensor_id != sensor_id:
            state = _state(session, sensor_id)
            if state is None:
                # The first number seen is where the numbering starts for us. Inserted so that
                # two workers seeing a new sensor at once don't collide: one row wins, and the
                # other worker judges its reading against it.
                _insert_ignoring_conflict(session, sensor_id, seq, measured_at, now)
                state = _state(session, sensor_id)
                assert state is not None
                if (state.last_seq, state.last_measured_at) == (seq, measured_at):
                    continue
            state.updated_at = now
        gap = _gap_holding(session, sensor_id, seq) if seq <= state.last_seq else None
        if gap is not None:
            _fill(session, gap, seq)
            filled += 1
        elif seq == state.last_seq + 1:
            state.last_seq, state.last_measured_at = seq, measured_at
        elif measured_at < state.last_measured_at:
            # Older than the last reading and not a number we wait for: out of order.
            out_of_order += 1
            state.out_of_order += 1
        elif seq > state.last_seq + 1:
            session.add(
                SensorSequenceGap(
                    sensor_id=sensor_id,
                    first_missing=state.last_seq + 1,
                    last_missing=seq - 1,
                    after_measured_at=state.last_measured_at,
                    before_measured_at=measured_at,
                    detected_at=now,
                    run_id=run_id,
                    status=OPEN,
                    late_arrivals=0,
                )
            )
            opened += 1
            state.last_seq, state.last_measured_at = seq, measured_at
        else:
            # A number already passed on a newer reading: the device counts again.
            restarts += 1
            state.restarts += 1
            state.last_seq, state.last_measured_at = seq, measured_at
    return SequenceOutcome(opened, filled, restarts, out_of_order)


def confirm_due_gaps(session: Session, actor: Actor, grace: timedelta) -> list[LostReadings]:
    """Report every gap open for at least ``grace``: once each, in this transaction."""
    now = clock.now()
    due = session.execute(
        select(SensorSequenceGap, Sensor.code)
        .join(Sensor, Sensor.id == SensorSequenceGap.sensor_id)
        .where(SensorSequenceGap.status == OPEN, SensorSequenceGap.detected_at <= now - grace)
        .order_by(SensorSequenceGap.id)
        .with_for_update(of=SensorSequenceGap, skip_locked=True)
    ).all()
    reported = []
    for gap, code in due:
        lost = LostReadings(
            gap_id=gap.id,
            sensor_code=code,
            first_missing=gap.first_missing,
            last_missing=gap.last_missing,
            after_measured_at=gap.after_measured_at,
            before_measured_at=gap.before_measured_at,
            detected_at=gap.detected_at,
            run_id=gap.run_id,
        )
        labels = [
            label for listener in list(_LISTENERS) if (label := listener(session, actor, lost))
        ]
        if not labels:
            log.warning(
                "sensor %s: %s never arrived (no listener raised a finding)", code, lost.numbers
            )
        gap.status, gap.reported_at = REPORTED, now
        gap.finding = ", ".join(labels)[:60] or None
        reported.append(lost)
    return reported


def has_open_gaps(session: Session) -> bool:
    return (
        session.scalar(
            select(SensorSequenceGap.id).where(SensorSequenceGap.status == OPEN).limit(1)
        )
        is not None
    )
