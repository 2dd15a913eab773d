"""The live cold-chain evaluation: every delivery of sensor readings is judged once its
transaction has committed (the platform's delivery listener, registered when this module is
imported: the web app, the CLI and the MQTT worker import every module through
``pharmaqms.schema``).

For each reading, in the order of the sensor's device time, against the alarm profile in force
for the place it was taken (the shipment governs inside a vehicle):

- a reading more than ``silent_intervals`` × ``interval_min`` after the sensor's previous one →
  a *sensor silent* alarm for the gap (the gap is unknown time: it is neither in range nor
  counted as a breach's end);
- a reading outside the sensor's calibration → *out of calibration*, once until a calibrated
  reading comes;
- a value the platform refused as impossible (quarantined) → *impossible value*, once until a
  plausible reading comes;
- beyond a level's boundaries continuously for its delay → a *pre-alarm* or an *alarm*, once per
  breach (the breach is known by its first reading); a reading back inside ends the breach. An
  alarm opens the excursion record and holds the lots in the place.

Where each sensor's evaluation stands is kept in the database (``SensorWatch``), not in a
process: a restarted ingest worker, or another worker of the same shared subscription, carries
on from it. Several workers store one sensor's readings in deliveries of their own, committed in
any order, so a delivery is judged sensor by sensor under a lock on the sensor, and for each
sensor *everything stored after where its evaluation stands* is judged in device-time order:
this delivery's readings together with those another worker committed meanwhile and has not
judged yet (its own evaluation then finds them passed). A reading older than the last one
judged (a late delivery) does not move the live state; it is in the excursion figures, which
are recomputed from all readings. ``check_silent_sensors`` finds
sensors that stopped sending altogether; the daily job and the MQTT worker's idle loop call it,
with ``escalate_overdue_alarms``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution import profiles
from pharmaqms.lifecycle.distribution.alarms import (
    AlarmDraft,
    end_breach,
    escalate_overdue_alarms,
    find_alarm,
    raise_alarm,
)
from pharmaqms.lifecycle.distribution.excursions import open_excursion, refresh_figures
from pharmaqms.lifecycle.distribution.models import (
    AlarmKind,
    AlarmProfile,
    ColdChainAlarm,
    Excursion,
    SensorWatch,
)
from pharmaqms.platform.ingest.deliveries import add_delivery_listener, add_idle_listener
from pharmaqms.platform.ingest.models import QuarantinedRow
from pharmaqms.platform.timeseries.models import Sensor, SensorReading
from pharmaqms.platform.traceability.models import Shipment

log = logging.getLogger("pharmaqms.coldchain")

IMPOSSIBLE_CODES = frozenset({"below_range", "above_range"})


@dataclass
class Evaluation:
    readings: int = 0
    late: int = 0
    raised: list[ColdChainAlarm] = field(default_factory=list)
    ended: int = 0
    open: _OpenBreaches | None = None


class _Places:
    """The revisions of each place's profile, read once per evaluation: a year of readings
    taken before the profile was entered is judged without asking the database per reading."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.revisions: dict[str, list[AlarmProfile]] = {}

    def profile(self, key: str, at: datetime) -> AlarmProfile | None:
        """As ``profiles.in_force_at``: the latest revision in force at ``at``, else the first."""
        revisions = self.revisions.get(key)
        if revisions is None:
            revisions = self.revisions[key] = profiles.revisions(self.session, key)
        for found in reversed(revisions):
            if found.effective_from <= at and (
                found.superseded_at is None or at < found.superseded_at
            ):
                return found
        return revisions[0] if revisions else None


def _draft(
    reading: SensorReading, profile: AlarmProfile, kind: AlarmKind, key: str, **kw: object
) -> AlarmDraft:
    return AlarmDraft(
        kind=kind,
        sensor_id=reading.sensor_id,
        place_key=profile.place_key,
        place_code=profile.place_code,
        location_id=profile.location_id,
        shipment_id=profile.shipment_id,
        profile=profile,
        dedupe_key=key,
        **kw,  # type: ignore[arg-type]
    )


class _OpenBreaches:
    """The alarms of each sensor and kind whose breach is not over, read once per evaluation
    (a year of readings is judged without asking the database twice per reading)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[tuple[int, AlarmKind], ColdChainAlarm | None] = {}

    def get(self, sensor_id: int, kind: AlarmKind) -> ColdChainAlarm | None:
        key = (sensor_id, kind)
        if key not in self.known:
            self.known[key] = self.session.scalars(
                select(ColdChainAlarm).where(
                    ColdChainAlarm.sensor_id == sensor_id,
                    ColdChainAlarm.kind == kind.value,
                    ColdChainAlarm.ended_at.is_(None),
                )
            ).first()
        return self.known[key]

    def set(self, sensor_id: int, kind: AlarmKind, alarm: ColdChainAlarm | None) -> None:
        self.known[(sensor_id, kind)] = alarm


def _judge_level(
    session: Session,
    actor: Actor,
    watch: SensorWatch,
    reading: SensorReading,
    profile: AlarmProfile,
    kind: AlarmKind,
    outcome: Evaluation,
) -> None:
    level = (
        profiles.alarm_level(profile) if kind == AlarmKind.ALARM else profiles.pre_level(profile)
    )
    prefix = "alarm" if kind == AlarmKind.ALARM else "pre"
    since: datetime | None = getattr(watch, f"{prefix}_since")
    since_id: int | None = getattr(watch, f"{prefix}_since_reading_id")
    temperature = reading.temperature_c
    assert temperature is not None
    breach = level.breach(temperature)
    if breach is None:
        if since is not None and since_id is not None:
            found = find_alarm(session, f"s{reading.sensor_id}:{kind.value}:r{since_id}")
            if found is not None and found.ended_at is None:
                end_breach(session, found, actor=actor, at=reading.measured_at)
                outcome.ended += 1
                if found.excursion_id is not None:
                    excursion = session.get(Excursion, found.excursion_id)
                    assert excursion is not None
                    refresh_figures(session, excursion, actor=actor, ended_at=reading.measured_at)
            setattr(watch, f"{prefix}_since", None)
            setattr(watch, f"{prefix}_since_reading_id", None)
        return
    if since is None:
        since, since_id = reading.measured_at, reading.id
        setattr(watch, f"{prefix}_since", since)
        setattr(watch, f"{prefix}_since_reading_id", since_id)
    lasted = reading.measured_at - since
    if lasted < timedelta(minutes=level.delay_min):
        return
    key = f"s{reading.sensor_id}:{kind.value}:r{since_id}"
    limit = level.high_c if breach == "above" else level.low_c
    alarm = raise_alarm(
        session,
        actor=actor,
        draft=_draft(
            reading,
            profile,
            kind,
            key,
            started_at=since,
            triggered_at=reading.measured_at,
            breach=breach,
            limit_low_c=level.low_c,
            limit_high_c=level.high_c,
            delay_min=level.delay_min,
            reading_id=reading.id,
            temperature_c=temperature,
            detail=f"{temperature:g} °C, {breach} {limit:g} °C for "
            f"{lasted.total_seconds() / 60:g} min (limit {level.delay_min:g} min) against "
            f"{profile.condition}, profile {profile.number} rev. {profile.revision}",
        ),
    )
    if alarm is not None:
        outcome.raised.append(alarm)
        if kind == AlarmKind.ALARM:
            open_excursion(session, actor=actor, alarm=alarm, profile=profile)


def _judge_reading(
    session: Session,
    actor: Actor,
    watch: SensorWatch | None,
    reading: SensorReading,
    profile: AlarmProfile,
    outcome: Evaluation,
) -> SensorWatch:
    sensor_id = reading.sensor_id
    if watch is None:
        watch = SensorWatch(
            sensor_id=sensor_id,
            last_measured_at=reading.measured_at,
            last_reading_id=reading.id,
        )
        session.add(watch)
    else:
        silence = reading.measured_at - watch.last_measured_at
        allowed = timedelta(minutes=profile.interval_min * profile.silent_intervals)
        key = f"s{sensor_id}:{AlarmKind.SENSOR_SILENT.value}:r{watch.last_reading_id}"
        if silence > allowed:
            raised = raise_alarm(
                session,
                actor=actor,
                draft=_draft(
                    reading,
                    profile,
                    AlarmKind.SENSOR_SILENT,
                    key,
                    started_at=watch.last_measured_at,
                    triggered_at=reading.measured_at,
                    ended_at=reading.measured_at,
                    delay_min=allowed.total_seconds() / 60,
                    detail=f"no reading for {silence.total_seconds() / 60:g} min (allowed "
                    f"{allowed.total_seconds() / 60:g} min): missing data, not in range",
                ),
            )
            if raised is not None:
                outcome.raised.append(raised)
            # Raised already while the sensor was silent (check_silent_sensors): it ends now.
            found = find_alarm(session, key)
            if found is not None and found.ended_at is None:
                end_breach(session, found, actor=actor, at=reading.measured_at)
        watch.last_measured_at = reading.measured_at
        watch.last_reading_id = reading.id
    assert outcome.open is not None
    breaches = outcome.open
    if not reading.calibration_valid:
        if breaches.get(sensor_id, AlarmKind.OUT_OF_CALIBRATION) is None:
            raised = raise_alarm(
                session,
                actor=actor,
                draft=_draft(
                    reading,
                    profile,
                    AlarmKind.OUT_OF_CALIBRATION,
                    f"s{sensor_id}:{AlarmKind.OUT_OF_CALIBRATION.value}:r{reading.id}",
                    started_at=reading.measured_at,
                    triggered_at=reading.measured_at,
                    reading_id=reading.id,
                    temperature_c=reading.temperature_c,
                    detail=reading.note or "reading outside the sensor's calibration",
                ),
            )
            if raised is not None:
                outcome.raised.append(raised)
                breaches.set(sensor_id, AlarmKind.OUT_OF_CALIBRATION, raised)
    else:
        stale = breaches.get(sensor_id, AlarmKind.OUT_OF_CALIBRATION)
        if stale is not None:
            end_breach(session, stale, actor=actor, at=reading.measured_at)
            breaches.set(sensor_id, AlarmKind.OUT_OF_CALIBRATION, None)
    if reading.temperature_c is None:
        return watch
    impossible = breaches.get(sensor_id, AlarmKind.IMPOSSIBLE_VALUE)
    if impossible is not None and reading.measured_at > impossible.triggered_at:
        end_breach(session, impossible, actor=actor, at=reading.measured_at)
        breaches.set(sensor_id, AlarmKind.IMPOSSIBLE_VALUE, None)
    for kind in (AlarmKind.PRE_ALARM, AlarmKind.ALARM):
        _judge_level(session, actor, watch, reading, profile, kind, outcome)
    return watch


def _impossible_values(
    session: Session, actor: Actor, run_id: int, places: _Places, outcome: Evaluation
) -> None:
    rows = session.scalars(
        select(QuarantinedRow)
        .where(QuarantinedRow.run_id == run_id, QuarantinedRow.entity == "sensor_reading")
        .order_by(QuarantinedRow.id)
    )
    for row in rows:
        codes = {reason.get("code") for reason in row.reasons if isinstance(reason, dict)}
        if not codes & IMPOSSIBLE_CODES:
            continue
        code = str(row.raw.get("sensor") or "")
        sensor = session.scalars(select(Sensor).where(Sensor.code == code)).first()
        if sensor is None:
            continue
        key = profiles.place_key(sensor.location_id, sensor.shipment_id)
        profile = places.profile(key, clock.now()) if key else None
        assert outcome.open is not None
        if profile is None or outcome.open.get(sensor.id, AlarmKind.IMPOSSIBLE_VALUE):
            continue
        value = row.raw.get("temperature")
        raised = raise_alarm(
            session,
            actor=actor,
            draft=AlarmDraft(
                dedupe_key=f"s{sensor.id}:{AlarmKind.IMPOSSIBLE_VALUE.value}:q{row.id}",
                kind=AlarmKind.IMPOSSIBLE_VALUE,
                sensor_id=sensor.id,
                place_key=profile.place_key,
                place_code=profile.place_code,
                location_id=profile.location_id,
                shipment_id=profile.shipment_id,
                profile=profile,
                started_at=row.created_at,
                triggered_at=row.created_at,
                detail=f"sensor {code} sent {value!r} ({row.position}): "
                + "; ".join(str(r.get("message", "")) for r in row.reasons),
            ),
        )
        if raised is not None:
            outcome.raised.append(raised)
            outcome.open.set(sensor.id, AlarmKind.IMPOSSIBLE_VALUE, raised)


def evaluate_run(session: Session, *, actor: Actor, run_id: int) -> Evaluation:
    """Judge the readings (and the refused impossible values) of one delivery, with the
    readings of the same sensors stored by other deliveries since their evaluation stands."""
    outcome = Evaluation(open=_OpenBreaches(session))
    if session.scalar(select(AlarmProfile.id).limit(1)) is None:
        # No place has a profile yet: nothing to judge a reading against (every one would be
        # passed over), so the readings are not read (a bulk load before the profiles).
        return outcome
    places = _Places(session)
    watches: dict[int, SensorWatch | None] = {}
    for reading in _to_judge(session, run_id, watches):
        key = profiles.place_key(reading.location_id, reading.shipment_id)
        profile = places.profile(key, reading.measured_at) if key else None
        if profile is None:
            continue
        outcome.readings += 1
        watch = watches[reading.sensor_id]
        if watch is not None and reading.measured_at <= watch.last_measured_at:
            outcome.late += 1
            continue
        watches[reading.sensor_id] = _judge_reading(
            session, actor, watch, reading, profile, outcome
        )
    _impossible_values(session, actor, run_id, places, outcome)
    return outcome


def _to_judge(
    session: Session, run_id: int, watches: dict[int, SensorWatch | None]
) -> Sequence[SensorReading]:
    """The delivery's readings and, of the same sensors, those stored after where each
    sensor's evaluation stands, by sensor and device time. Fills ``watches`` (sensor → watch).

    The sensors are locked first, in id order (two workers' evaluations of one sensor take
    turns, and never deadlock), with FOR NO KEY UPDATE: storing a reading takes only a
    key-share lock on its sensor, so ingest is not held up. On SQLite the writer lock
    already serialises evaluations."""
    firsts = {
        sensor_id: first
        for sensor_id, first in session.execute(
            select(SensorReading.sensor_id, func.min(SensorReading.measured_at))
            .where(SensorReading.run_id == run_id)
            .group_by(SensorReading.sensor_id)
        )
    }
    if not firsts:
        return []
    sensor_ids = sorted(firsts)
    session.execute(
        select(Sensor.id)
        .where(Sensor.id.in_(sensor_ids))
        .order_by(Sensor.id)
        .with_for_update(key_share=True)
    ).all()
    found = session.scalars(select(SensorWatch).where(SensorWatch.sensor_id.in_(sensor_ids)))
    watches.update(dict.fromkeys(sensor_ids))
    watches.update({watch.sensor_id: watch for watch in found})
    stored_since = []
    for sensor_id in sensor_ids:
        watch = watches[sensor_id]
        after = (
            SensorReading.measured_at > watch.last_measured_at
            if watch is not None
            # Never judged: from this delivery's first reading of it.
            else SensorReading.measured_at >= firsts[sensor_id]
        )
        stored_since.append(and_(SensorReading.sensor_id == sensor_id, after))
    return session.scalars(
        select(SensorReading)
        .where(or_(SensorReading.run_id == run_id, *stored_since))
        .order_by(SensorReading.sensor_id, SensorReading.measured_at)
    ).all()


def _delivered(session: Session, shipment_id: int | None) -> bool:
    """A logger of a shipment that has arrived is read after the trip, not watched live."""
    if shipment_id is None:
        return False
    shipment = session.get(Shipment, shipment_id)
    return shipment is not None and shipment.delivered_at is not None


def check_silent_sensors(session: Session, *, actor: Actor) -> list[ColdChainAlarm]:
    """Sensors that have sent nothing for longer than their place allows, now."""
    now = clock.now()
    raised: list[ColdChainAlarm] = []
    for watch, sensor in session.execute(
        select(SensorWatch, Sensor).join(Sensor, Sensor.id == SensorWatch.sensor_id)
    ).all():
        key = profiles.place_key(sensor.location_id, sensor.shipment_id)
        profile = profiles.in_force(session, key) if key else None
        if profile is None or _delivered(session, sensor.shipment_id):
            continue
        allowed = timedelta(minutes=profile.interval_min * profile.silent_intervals)
        if now - watch.last_measured_at <= allowed:
            continue
        alarm = raise_alarm(
            session,
            actor=actor,
            draft=AlarmDraft(
                dedupe_key=f"s{sensor.id}:{AlarmKind.SENSOR_SILENT.value}:r{watch.last_reading_id}",
                kind=AlarmKind.SENSOR_SILENT,
                sensor_id=sensor.id,
                place_key=profile.place_key,
                place_code=profile.place_code,
                location_id=profile.location_id,
                shipment_id=profile.shipment_id,
                profile=profile,
                started_at=watch.last_measured_at,
                triggered_at=now,
                delay_min=allowed.total_seconds() / 60,
                detail=f"sensor {sensor.code} silent since "
                f"{watch.last_measured_at:%Y-%m-%d %H:%M} UTC "
                f"(allowed {allowed.total_seconds() / 60:g} min): missing data",
            ),
        )
        if alarm is not None:
            raised.append(alarm)
    return raised


def sweep(session: Session, *, actor: Actor) -> tuple[list[ColdChainAlarm], list[ColdChainAlarm]]:
    """What runs on a clock rather than on a reading: silent sensors, then escalations."""
    silent = check_silent_sensors(session, actor=actor)
    escalated = escalate_overdue_alarms(session, actor=actor)
    return silent, escalated


def judge_new_readings(database: Database, run_id: int) -> None:
    with unit_of_work(database) as session:
        actor = auth.system_actor(session, Channel.IMPORT)
        outcome = evaluate_run(session, actor=actor, run_id=run_id)
        escalate_overdue_alarms(session, actor=actor)
    if outcome.raised:
        log.info("import run %d: %d cold-chain alarm(s) raised", run_id, len(outcome.raised))
    if outcome.late:
        # Judged already with another worker's delivery, or too late for the live state (it
        # has moved past them): either way in the excursion figures.
        log.info(
            "import run %d: %d reading(s) at or before where the sensor's evaluation stood",
            run_id,
            outcome.late,
        )


def sweep_now(database: Database) -> None:
    """The sweep in its own unit of work (the MQTT worker's idle loop)."""
    with unit_of_work(database) as session:
        silent, escalated = sweep(session, actor=auth.system_actor(session, Channel.IMPORT))
    if silent or escalated:
        log.info(
            "cold chain: %d sensor(s) silent, %d alarm(s) escalated", len(silent), len(escalated)
        )


add_delivery_listener("sensors", judge_new_readings)
add_idle_listener(sweep_now)
