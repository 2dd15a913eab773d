"""Alarm profiles: the labelled condition of a storage zone or a shipment and its pre-alarm and
alarm levels, each a pair of boundaries with the time a reading must stay beyond them.

A new profile for a place is its next revision: the one in force is superseded in the same
transaction, never changed. Readings are judged by the revision in force at their time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.distribution.models import AlarmProfile, ProfileStatus
from pharmaqms.lifecycle.distribution.workflow import ALARM_ROLES
from pharmaqms.platform.masterdata.models import Location
from pharmaqms.platform.sensors.limits import location_limits, shipment_limits
from pharmaqms.platform.traceability.models import Shipment


@dataclass(frozen=True)
class Level:
    """One level of a profile: beyond ``low_c``/``high_c`` (limits inside) for ``delay_min``."""

    low_c: float | None
    high_c: float | None
    delay_min: float

    def breach(self, temperature_c: float) -> str | None:
        if self.high_c is not None and temperature_c > self.high_c:
            return "above"
        if self.low_c is not None and temperature_c < self.low_c:
            return "below"
        return None


def condition_label(low_c: float | None, high_c: float | None) -> str:
    """How a label states the condition: "2–8 °C", "≤ 25 °C", "≥ 15 °C"."""
    if low_c is None and high_c is None:
        raise InvalidInput("a labelled condition needs a lower or an upper limit", field="high_c")
    if low_c is None:
        return f"≤ {high_c:g} °C"
    if high_c is None:
        return f"≥ {low_c:g} °C"
    return f"{low_c:g}–{high_c:g} °C"


def place_of(
    session: Session, *, location_code: str | None, shipment_code: str | None
) -> tuple[str, str, int | None, int | None]:
    """(place key, code, location id, shipment id) of a storage zone or a shipment."""
    if bool(location_code) == bool(shipment_code):
        raise InvalidInput("name a storage zone or a shipment (one of them)", field="place")
    if location_code:
        location_id = session.scalar(select(Location.id).where(Location.code == location_code))
        if location_id is None:
            raise InvalidInput(f"no location {location_code}", field="location_code")
        return f"location:{location_id}", location_code, location_id, None
    shipment_id = session.scalar(select(Shipment.id).where(Shipment.code == shipment_code))
    if shipment_id is None:
        raise InvalidInput(f"no shipment {shipment_code}", field="shipment_code")
    return f"shipment:{shipment_id}", str(shipment_code), None, shipment_id


def place_key(location_id: int | None, shipment_id: int | None) -> str | None:
    """The key of the place a reading was taken in (the shipment governs inside a vehicle)."""
    if shipment_id is not None:
        return f"shipment:{shipment_id}"
    if location_id is not None:
        return f"location:{location_id}"
    return None


def _finite(value: float | None, name: str) -> None:
    if value is not None and not math.isfinite(value):
        raise InvalidInput(f"{name} must be a finite number", field=name)


def _check_level(
    name: str, low: float | None, high: float | None, delay: float, label: tuple[float | None, ...]
) -> None:
    _finite(low, f"{name}_low_c")
    _finite(high, f"{name}_high_c")
    if not (math.isfinite(delay) and delay >= 0):
        raise InvalidInput(f"the {name} delay must be minutes ≥ 0", field=f"{name}_delay_min")
    if low is None and high is None:
        raise InvalidInput(f"the {name} level needs a boundary", field=f"{name}_high_c")
    if low is not None and high is not None and not low < high:
        raise InvalidInput(f"the {name} boundaries are upside down", field=f"{name}_low_c")
    label_low, label_high = label
    # A level inside the labelled condition would alarm on readings that are in range.
    if high is not None and label_high is not None and high < label_high:
        raise InvalidInput(
            f"the {name} upper boundary {high:g} °C is inside the labelled condition",
            field=f"{name}_high_c",
        )
    if low is not None and label_low is not None and low > label_low:
        raise InvalidInput(
            f"the {name} lower boundary {low:g} °C is inside the labelled condition",
            field=f"{name}_low_c",
        )


def set_alarm_profile(
    session: Session,
    *,
    actor: Actor,
    location_code: str | None = None,
    shipment_code: str | None = None,
    low_c: float | None = None,
    high_c: float | None = None,
    pre_delay_min: float = 10.0,
    alarm_delay_min: float = 30.0,
    pre_low_c: float | None = None,
    pre_high_c: float | None = None,
    alarm_low_c: float | None = None,
    alarm_high_c: float | None = None,
    interval_min: float = 5.0,
    silent_intervals: int = 3,
    acknowledge_within_min: float = 30.0,
    responder_role: str = "logistics",
    escalation_role: str = "qa",
    reason: str,
) -> AlarmProfile:
    """Put a new revision of a place's alarm profile in force. The labelled condition, left
    out, is the place's own: a shipment's required range, or the narrowest labelled range of
    the products a storage zone holds. Boundaries left out default to the labelled condition
    (an alarm on the label's limits, after the level's delay)."""
    actor.require("coldchain.configure", "set cold-chain alarm profiles")
    if not reason.strip():
        raise InvalidInput("say why the alarm profile is set", field="reason")
    key, code, location_id, shipment_id = place_of(
        session, location_code=location_code, shipment_code=shipment_code
    )
    if low_c is None and high_c is None:
        found = (
            shipment_limits(session, shipment_id)
            if shipment_id is not None
            else location_limits(session, location_id)
            if location_id is not None
            else None
        )
        if found is None:
            raise InvalidInput(
                f"{code} has no labelled condition on record: give the range", field="high_c"
            )
        low_c, high_c = found.min_c, found.max_c
    for name, value in (("low_c", low_c), ("high_c", high_c)):
        _finite(value, name)
    condition = condition_label(low_c, high_c)
    if low_c is not None and high_c is not None and not low_c < high_c:
        raise InvalidInput(f"the labelled condition {condition} is upside down", field="low_c")
    label = (low_c, high_c)
    pre = (low_c if pre_low_c is None else pre_low_c, high_c if pre_high_c is None else pre_high_c)
    alarm = (
        low_c if alarm_low_c is None else alarm_low_c,
        high_c if alarm_high_c is None else alarm_high_c,
    )
    _check_level("pre", *pre, pre_delay_min, label)
    _check_level("alarm", *alarm, alarm_delay_min, label)
    if not (math.isfinite(interval_min) and interval_min > 0):
        raise InvalidInput("the reading interval must be minutes > 0", field="interval_min")
    if silent_intervals < 1:
        raise InvalidInput(
            "a sensor is silent after at least one interval", field="silent_intervals"
        )
    if not (math.isfinite(acknowledge_within_min) and acknowledge_within_min > 0):
        raise InvalidInput(
            "the time to acknowledge must be minutes > 0", field="acknowledge_within_min"
        )
    for field_name, role in (
        ("responder_role", responder_role),
        ("escalation_role", escalation_role),
    ):
        if role not in ALARM_ROLES:
            raise InvalidInput(
                f"{role!r} can't receive cold-chain alarms; "
                f"one of {', '.join(sorted(ALARM_ROLES))}",
                field=field_name,
            )
    current = in_force(session, key)
    now = clock.now()
    if current is not None:
        with audit.changes(
            session, actor=actor, reason=f"superseded: {reason}", action="supersede"
        ):
            current.status = ProfileStatus.SUPERSEDED.value
            current.superseded_at = now
    profile = AlarmProfile(
        status=ProfileStatus.IN_FORCE.value,
        place_key=key,
        place_code=code,
        location_id=location_id,
        shipment_id=shipment_id,
        revision=1 if current is None else current.revision + 1,
        condition=condition,
        low_c=low_c,
        high_c=high_c,
        pre_low_c=pre[0],
        pre_high_c=pre[1],
        pre_delay_min=pre_delay_min,
        alarm_low_c=alarm[0],
        alarm_high_c=alarm[1],
        alarm_delay_min=alarm_delay_min,
        interval_min=interval_min,
        silent_intervals=silent_intervals,
        acknowledge_within_min=acknowledge_within_min,
        responder_role=responder_role,
        escalation_role=escalation_role,
        effective_from=now,
        reason=reason.strip(),
    )
    with audit.changes(session, actor=actor, reason=reason):
        session.add(profile)
    return profile


def in_force(session: Session, key: str) -> AlarmProfile | None:
    return session.scalars(
        select(AlarmProfile).where(
            AlarmProfile.place_key == key, AlarmProfile.status == ProfileStatus.IN_FORCE.value
        )
    ).first()


def in_force_at(session: Session, key: str, moment: datetime) -> AlarmProfile | None:
    """The revision in force at ``moment``; a reading older than the first revision is judged
    by the first (the labelled condition did not change because the profile was entered late)."""
    found = session.scalars(
        select(AlarmProfile)
        .where(
            AlarmProfile.place_key == key,
            AlarmProfile.effective_from <= moment,
            or_(AlarmProfile.superseded_at.is_(None), AlarmProfile.superseded_at > moment),
        )
        .order_by(AlarmProfile.revision.desc())
    ).first()
    if found is not None:
        return found
    return session.scalars(
        select(AlarmProfile).where(AlarmProfile.place_key == key).order_by(AlarmProfile.revision)
    ).first()


def revisions(session: Session, key: str) -> list[AlarmProfile]:
    """Every revision of the place's profile, first to last."""
    return list(
        session.scalars(
            select(AlarmProfile)
            .where(AlarmProfile.place_key == key)
            .order_by(AlarmProfile.revision)
        )
    )


def get_profile(session: Session, profile_id: int) -> AlarmProfile:
    profile = session.get(AlarmProfile, profile_id)
    if profile is None:
        raise NotFound(f"no alarm profile {profile_id}")
    return profile


def pre_level(profile: AlarmProfile) -> Level:
    return Level(profile.pre_low_c, profile.pre_high_c, profile.pre_delay_min)


def alarm_level(profile: AlarmProfile) -> Level:
    return Level(profile.alarm_low_c, profile.alarm_high_c, profile.alarm_delay_min)
