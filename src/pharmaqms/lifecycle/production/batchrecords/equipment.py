"""The equipment register: production equipment with its qualification and calibration history,
and the one question the batch record and the release ask of it — was this piece of equipment
qualified and calibrated at that moment?

``standing_at`` answers from the history alone (pure), so the batch record at the moment of use
and the release rule afterwards reach the same verdict — except that the release also knows of a
later calibration that found the equipment out of tolerance, which puts every use since the
calibration before it in question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.production.batchrecords.models import (
    Equipment,
    EquipmentCalibration,
    EquipmentQualification,
)


class QualificationStage(StrEnum):
    IQ = "IQ"
    OQ = "OQ"
    PQ = "PQ"
    REQUALIFICATION = "requalification"


class EquipmentNotUsable(Conflict):
    code = "equipment_not_usable"
    title = "Equipment may not be used"


# --- the verdict (pure) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    id: int
    calibrated_at: datetime
    due_on: date
    as_found_in_tolerance: bool
    as_left_in_tolerance: bool
    certificate: str


@dataclass(frozen=True)
class Qualification:
    id: int
    stage: str
    qualified_at: datetime
    valid_until: date
    passed: bool
    report: str


@dataclass(frozen=True)
class EquipmentStanding:
    usable: bool
    reasons: tuple[str, ...]
    qualification: Qualification | None
    calibration: Calibration | None

    def snapshot(self) -> dict[str, Any]:
        """What the batch record keeps of the register at the moment of use."""
        return {
            "usable": self.usable,
            "reasons": list(self.reasons),
            "qualification_id": self.qualification.id if self.qualification else None,
            "qualified_until": self.qualification.valid_until if self.qualification else None,
            "calibration_id": self.calibration.id if self.calibration else None,
            "calibration_due_on": self.calibration.due_on if self.calibration else None,
        }


def _day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def standing_at(
    code: str,
    *,
    calibration_required: bool,
    retired_at: datetime | None,
    qualifications: Sequence[Qualification],
    calibrations: Sequence[Calibration],
    at: datetime,
    hindsight: bool = False,
) -> EquipmentStanding:
    """Was the equipment usable at ``at``? Fails closed: no qualification or no calibration on
    record is a reason. With ``hindsight`` (the release looking back), a later calibration that
    found the equipment out of tolerance is a reason too."""
    day = _day(at)
    reasons: list[str] = []
    if retired_at is not None and retired_at <= at:
        reasons.append(f"{code} was retired on {retired_at:%Y-%m-%d}")
    earlier_q = [q for q in qualifications if q.qualified_at <= at]
    qualification = max(earlier_q, key=lambda q: (q.qualified_at, q.id), default=None)
    if qualification is None:
        reasons.append(f"{code} had no qualification on record")
    elif not qualification.passed:
        reasons.append(f"{code}: the {qualification.stage} {qualification.report} failed")
    elif qualification.valid_until < day:
        reasons.append(
            f"{code}: qualification {qualification.report or qualification.stage} ran out on "
            f"{qualification.valid_until.isoformat()}"
        )
    calibration: Calibration | None = None
    if calibration_required:
        earlier_c = [c for c in calibrations if c.calibrated_at <= at]
        calibration = max(earlier_c, key=lambda c: (c.calibrated_at, c.id), default=None)
        if calibration is None:
            reasons.append(f"{code} had no calibration on record")
        elif not calibration.as_left_in_tolerance:
            reasons.append(
                f"{code}: calibration {calibration.certificate} left it out of tolerance"
            )
        elif calibration.due_on < day:
            reasons.append(
                f"{code}: calibration {calibration.certificate} fell due on "
                f"{calibration.due_on.isoformat()}"
            )
        if hindsight:
            later = [c for c in calibrations if c.calibrated_at > at]
            following = min(later, key=lambda c: (c.calibrated_at, c.id), default=None)
            if following is not None and not following.as_found_in_tolerance:
                reasons.append(
                    f"{code}: the next calibration ({following.certificate}, "
                    f"{following.calibrated_at:%Y-%m-%d}) found it out of tolerance"
                )
    return EquipmentStanding(not reasons, tuple(reasons), qualification, calibration)


def calibration_of(row: EquipmentCalibration) -> Calibration:
    return Calibration(
        row.id,
        row.calibrated_at,
        row.due_on,
        row.as_found_in_tolerance,
        row.as_left_in_tolerance,
        row.certificate,
    )


def qualification_of(row: EquipmentQualification) -> Qualification:
    return Qualification(
        row.id, row.stage, row.qualified_at, row.valid_until, row.passed, row.report
    )


# --- lookups --------------------------------------------------------------------------------


def get_equipment(session: Session, equipment_id: int) -> Equipment:
    equipment = session.get(Equipment, equipment_id)
    if equipment is None:
        raise NotFound(f"no equipment with id {equipment_id}")
    return equipment


def equipment_by_code(session: Session, code: str) -> Equipment:
    equipment = session.scalars(select(Equipment).where(Equipment.code == code.strip())).first()
    if equipment is None:
        raise InvalidInput(f"no equipment {code!r} in the register", field="equipment_code")
    return equipment


def history(session: Session, equipment_id: int) -> tuple[list[Qualification], list[Calibration]]:
    qualifications = [
        qualification_of(q)
        for q in session.scalars(
            select(EquipmentQualification).where(
                EquipmentQualification.equipment_id == equipment_id
            )
        )
    ]
    calibrations = [
        calibration_of(c)
        for c in session.scalars(
            select(EquipmentCalibration).where(EquipmentCalibration.equipment_id == equipment_id)
        )
    ]
    return qualifications, calibrations


def standing(session: Session, equipment: Equipment, *, at: datetime) -> EquipmentStanding:
    qualifications, calibrations = history(session, equipment.id)
    return standing_at(
        equipment.code,
        calibration_required=equipment.calibration_required,
        retired_at=equipment.retired_at,
        qualifications=qualifications,
        calibrations=calibrations,
        at=at,
    )


def require_equipment_usable(
    session: Session, equipment: Equipment, *, at: datetime, equipment_type: str
) -> EquipmentStanding:
    """For the batch record: the standing when the equipment may be used for a step that needs
    ``equipment_type``; refused (409, the reasons listed) otherwise."""
    if equipment.equipment_type != equipment_type:
        raise EquipmentNotUsable(
            f"wrong equipment: {equipment.code} is a {equipment.equipment_type}, the step needs "
            f"a {equipment_type}",
            reasons=[f"{equipment.code} is a {equipment.equipment_type}, not a {equipment_type}"],
        )
    found = standing(session, equipment, at=at)
    if not found.usable:
        raise EquipmentNotUsable(
            f"{equipment.code} may not be used: " + "; ".join(found.reasons),
            reasons=list(found.reasons),
        )
    return found


def register(session: Session) -> list[tuple[Equipment, EquipmentStanding]]:
    """Every piece of equipment with its standing now."""
    now = clock.now()
    found = []
    for equipment in session.scalars(select(Equipment).order_by(Equipment.code)):
        found.append((equipment, standing(session, equipment, at=now)))
    return found


# --- the verbs ------------------------------------------------------------------------------


def register_equipment(
    session: Session,
    *,
    actor: Actor,
    code: str,
    name: str,
    equipment_type: str,
    location: str = "",
    calibration_required: bool = True,
) -> Equipment:
    actor.require("equipment.manage", "maintain the equipment register")
    code = (code or "").strip()
    if not code or len(code) > 40:
        raise InvalidInput("an equipment code (1–40 characters)", field="code")
    kind = (equipment_type or "").strip()
    if not kind or len(kind) > 60:
        raise InvalidInput("an equipment type (1–60 characters)", field="equipment_type")
    if not (name or "").strip():
        raise InvalidInput("a name", field="name")
    if session.scalars(select(Equipment.id).where(Equipment.code == code)).first() is not None:
        raise Conflict(f"equipment {code} is in the register already", field="code")
    equipment = Equipment(
        code=code,
        name=name.strip()[:200],
        equipment_type=kind,
        location=(location or "").strip()[:100],
        calibration_required=calibration_required,
    )
    with audit.changes(session, actor=actor, reason="equipment registered"):
        session.add(equipment)
    return equipment


def _past(at: datetime, field: str) -> datetime:
    if at.tzinfo is None:
        raise InvalidInput(f"{field} needs a time zone", field=field)
    if at > clock.now():
        raise InvalidInput(f"{field} lies in the future", field=field)
    return at


def record_calibration(
    session: Session,
    *,
    actor: Actor,
    equipment_id: int,
    calibrated_at: datetime,
    due_on: date,
    as_found_in_tolerance: bool,
    as_left_in_tolerance: bool,
    certificate: str,
    note: str = "",
) -> EquipmentCalibration:
    """A calibration as done. Found out of tolerance, it needs a note on what was found: every
    batch made since the previous calibration is then questioned at its release."""
    actor.require("equipment.manage", "record calibrations")
    equipment = get_equipment(session, equipment_id)
    _past(calibrated_at, "calibrated_at")
    if due_on <= _day(calibrated_at):
        raise InvalidInput("the next calibration falls due after this one", field="due_on")
    certificate = (certificate or "").strip()
    if not certificate or len(certificate) > 120:
        raise InvalidInput("the calibration certificate (1–120 characters)", field="certificate")
    if not as_found_in_tolerance and not (note or "").strip():
        raise InvalidInput(
            "found out of tolerance: say what was found (it questions every use since the last "
            "calibration)",
            field="note",
        )
    row = EquipmentCalibration(
        equipment_id=equipment.id,
        calibrated_at=calibrated_at,
        due_on=due_on,
        as_found_in_tolerance=as_found_in_tolerance,
        as_left_in_tolerance=as_left_in_tolerance,
        certificate=certificate,
        note=(note or "").strip(),
        recorded_at=clock.now(),
        recorded_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=f"calibration of {equipment.code} recorded"):
        session.add(row)
    return row


def record_qualification(
    session: Session,
    *,
    actor: Actor,
    equipment_id: int,
    stage: str,
    qualified_at: datetime,
    valid_until: date,
    passed: bool,
    report: str,
) -> EquipmentQualification:
    actor.require("equipment.manage", "record qualifications")
    equipment = get_equipment(session, equipment_id)
    try:
        kind = QualificationStage(stage)
    except ValueError:
        raise InvalidInput(
            f"stage is one of {', '.join(s.value for s in QualificationStage)}", field="stage"
        ) from None
    _past(qualified_at, "qualified_at")
    if valid_until <= _day(qualified_at):
        raise InvalidInput("the qualification must hold past its date", field="valid_until")
    report = (report or "").strip()
    if not report or len(report) > 120:
        raise InvalidInput("the qualification report (1–120 characters)", field="report")
    row = EquipmentQualification(
        equipment_id=equipment.id,
        stage=kind.value,
        qualified_at=qualified_at,
        valid_until=valid_until,
        passed=passed,
        report=report,
        recorded_at=clock.now(),
        recorded_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=f"{kind.value} of {equipment.code} recorded"):
        session.add(row)
    return row
