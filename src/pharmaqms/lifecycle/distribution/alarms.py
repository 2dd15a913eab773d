"""Cold-chain alarms: raised once per breach by the live evaluation, then acknowledged (with a
required comment), assessed and closed — one verb each, through the alarm workflow, so each
is checked, audited and moves the alarm's tasks along. An alarm nobody acknowledged within its
profile's time is escalated: a task for the profile's escalation role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.errors import NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.notifications.models import NoticeKind
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.distribution.models import (
    AlarmKind,
    AlarmProfile,
    AlarmStatus,
    ColdChainAlarm,
)
from pharmaqms.lifecycle.distribution.workflow import ALARM_WORKFLOW

KIND_LABELS = {
    AlarmKind.PRE_ALARM: "pre-alarm",
    AlarmKind.ALARM: "alarm",
    AlarmKind.SENSOR_SILENT: "sensor silent",
    AlarmKind.IMPOSSIBLE_VALUE: "impossible value",
    AlarmKind.OUT_OF_CALIBRATION: "sensor out of calibration",
}


@dataclass(frozen=True)
class AlarmDraft:
    """What an alarm records, before it is one."""

    dedupe_key: str
    kind: AlarmKind
    sensor_id: int
    place_key: str
    place_code: str
    location_id: int | None
    shipment_id: int | None
    profile: AlarmProfile | None
    started_at: datetime
    triggered_at: datetime
    detail: str
    breach: str | None = None
    limit_low_c: float | None = None
    limit_high_c: float | None = None
    delay_min: float | None = None
    reading_id: int | None = None
    temperature_c: float | None = None
    ended_at: datetime | None = None


def find_alarm(session: Session, dedupe_key: str) -> ColdChainAlarm | None:
    return session.scalars(
        select(ColdChainAlarm).where(ColdChainAlarm.dedupe_key == dedupe_key)
    ).first()


def raise_alarm(session: Session, *, actor: Actor, draft: AlarmDraft) -> ColdChainAlarm | None:
    """Raise the alarm unless this breach has one already (returns None then), and put a task
    in the responders' inbox, due when the alarm must be acknowledged."""
    if find_alarm(session, draft.dedupe_key) is not None:
        return None
    now = clock.now()
    profile = draft.profile
    within = timedelta(minutes=profile.acknowledge_within_min if profile else 30.0)
    alarm = ColdChainAlarm(
        status=AlarmStatus.RAISED.value,
        kind=draft.kind.value,
        place_key=draft.place_key,
        place_code=draft.place_code[:60],
        location_id=draft.location_id,
        shipment_id=draft.shipment_id,
        sensor_id=draft.sensor_id,
        profile_id=profile.id if profile else None,
        profile_revision=profile.revision if profile else None,
        limit_low_c=draft.limit_low_c,
        limit_high_c=draft.limit_high_c,
        delay_min=draft.delay_min,
        breach=draft.breach,
        started_at=draft.started_at,
        triggered_at=draft.triggered_at,
        ended_at=draft.ended_at,
        reading_id=draft.reading_id,
        temperature_c=draft.temperature_c,
        detail=draft.detail,
        raised_at=now,
        acknowledge_due_at=now + within,
        escalation_level=0,
        dedupe_key=draft.dedupe_key,
    )
    with audit.changes(session, actor=actor, reason="raised by the live cold-chain evaluation"):
        session.add(alarm)
    role = profile.responder_role if profile else "logistics"
    tasks.open_task(
        session,
        alarm,
        actor=actor,
        kind="coldchain_alarm",
        title=f"{alarm.number}: {KIND_LABELS[draft.kind]} at {draft.place_code} — acknowledge",
        role=role,
        due_at=alarm.acknowledge_due_at,
        notice=NoticeKind.ALARM,
    )
    return alarm


def end_breach(session: Session, alarm: ColdChainAlarm, *, actor: Actor, at: datetime) -> None:
    """The breach the alarm stands for is over (a reading back inside): recorded, the alarm
    itself stays open until it is closed."""
    if alarm.ended_at is None:
        with audit.changes(session, actor=actor, reason="breach over: reading back within limits"):
            alarm.ended_at = at


def get_alarm(session: Session, alarm_id: int) -> ColdChainAlarm:
    alarm = session.get(ColdChainAlarm, alarm_id)
    if alarm is None:
        raise NotFound(f"no cold-chain alarm {alarm_id}")
    return alarm


def acknowledge_alarm(
    session: Session,
    *,
    actor: Actor,
    alarm_id: int,
    comment: str,
    expected_version: int | None = None,
) -> ColdChainAlarm:
    """Someone has seen the alarm and says what they found and did (required)."""
    alarm = get_alarm(session, alarm_id)
    perform(
        session,
        ALARM_WORKFLOW,
        alarm,
        "acknowledge",
        actor=actor,
        reason=comment,
        expected_version=expected_version,
    )
    with audit.changes(session, actor=actor, reason=comment.strip()):
        alarm.acknowledgement = comment.strip()
        alarm.acknowledged_by_id = actor.user_id
        alarm.acknowledged_at = clock.now()
    return alarm


def assess_alarm(
    session: Session,
    *,
    actor: Actor,
    alarm_id: int,
    assessment: str,
    expected_version: int | None = None,
) -> ColdChainAlarm:
    """What the alarm meant for the product (for an alarm: the excursion assessment's number
    and outcome; for a sensor fault: what was done about the sensor)."""
    alarm = get_alarm(session, alarm_id)
    perform(
        session,
        ALARM_WORKFLOW,
        alarm,
        "assess",
        actor=actor,
        reason=assessment,
        expected_version=expected_version,
    )
    with audit.changes(session, actor=actor, reason=assessment.strip()):
        alarm.assessment = assessment.strip()
        alarm.assessed_by_id = actor.user_id
        alarm.assessed_at = clock.now()
    return alarm


def close_alarm(
    session: Session,
    *,
    actor: Actor,
    alarm_id: int,
    comment: str,
    expected_version: int | None = None,
) -> ColdChainAlarm:
    alarm = get_alarm(session, alarm_id)
    perform(
        session,
        ALARM_WORKFLOW,
        alarm,
        "close",
        actor=actor,
        reason=comment,
        expected_version=expected_version,
    )
    with audit.changes(session, actor=actor, reason=comment.strip()):
        alarm.closure = comment.strip()
        alarm.closed_by_id = actor.user_id
        alarm.closed_at = clock.now()
    return alarm


def escalate_overdue_alarms(session: Session, *, actor: Actor) -> list[ColdChainAlarm]:
    """Alarms still not acknowledged after their time: a task for the escalation role of the
    profile in force when they were raised (once per alarm), flagged on the alarm."""
    now = clock.now()
    overdue = list(
        session.scalars(
            select(ColdChainAlarm)
            .where(
                ColdChainAlarm.status == AlarmStatus.RAISED.value,
                ColdChainAlarm.escalation_level == 0,
                ColdChainAlarm.acknowledge_due_at < now,
            )
            .order_by(ColdChainAlarm.id)
        )
    )
    for alarm in overdue:
        profile = session.get(AlarmProfile, alarm.profile_id) if alarm.profile_id else None
        role = profile.escalation_role if profile else "qa"
        late = now - alarm.acknowledge_due_at
        with audit.changes(
            session,
            actor=actor,
            reason=f"not acknowledged {int(late.total_seconds() // 60)} min after it was due",
            action="escalate",
        ):
            alarm.escalation_level = 1
            alarm.escalated_at = now
            alarm.escalated_to = role
        tasks.open_task(
            session,
            alarm,
            actor=actor,
            kind="coldchain_escalation",
            title=f"ESCALATED {alarm.number}: {KIND_LABELS[AlarmKind(alarm.kind)]} at "
            f"{alarm.place_code} not acknowledged",
            role=role,
            due_at=now,
            notice=NoticeKind.ESCALATION,
        )
    return overdue


def list_alarms(
    session: Session,
    *,
    status: str | None = None,
    place_key: str | None = None,
    limit: int = 500,
) -> list[ColdChainAlarm]:
    query = select(ColdChainAlarm).order_by(ColdChainAlarm.id.desc()).limit(limit)
    if status:
        query = query.where(ColdChainAlarm.status == status)
    if place_key:
        query = query.where(ColdChainAlarm.place_key == place_key)
    return list(session.scalars(query))
