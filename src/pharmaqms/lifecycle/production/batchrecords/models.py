"""Electronic batch records: the equipment register (calibration and qualification history), the
master batch record (the structured recipe behind a controlled document of type
``master_batch_record``), and the executed batch record of one batch — its steps, every entry
made on them, and every exception recorded as it happened (for QA's review by exception).

A batch is a platform lot of kind finished; this module adds its record, never a second copy of
the lot.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, GxPRecord, Versioned

_encode = json.JSONEncoder(ensure_ascii=False).encode


def _json(text: str) -> str:
    # The encoder escapes only quotes, backslashes and control characters (none of which is
    # printable): most numbers and titles need no escaping at all.
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return _encode(text)


# A pure function of its arguments, so remembering results changes nothing but the time: a
# release checklist is evaluated again and again (the page, the API, the signing) over the same
# thousands of steps. Bounded: a few batches of a few thousand steps.
@functools.lru_cache(maxsize=20_000)
def step_signed_hash(
    number: str, batch_record_id: int, position: int, title: str, entries_digest: str
) -> str:
    # The canonical JSON of ``GxPRecord.signed_content`` (sorted keys, no whitespace), spelled out.
    text = (
        f'{{"batch_record_id":{batch_record_id:d},"entries_digest":{_json(entries_digest)},'
        f'"number":{_json(number)},"position":{position:d},"record_type":"batch_step",'
        f'"title":{_json(title)}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the equipment register -----------------------------------------------------------------


class Equipment(Audited, Versioned, Base):
    """A piece of production equipment (a balance, a granulator, a tablet press). Whether it may
    be used at a moment follows from its qualification and calibration history below, never
    from a status someone forgot to update."""

    __tablename__ = "production_equipment"
    __audit_type__ = "equipment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # What kind of equipment it is: a master batch record step asks for a kind, the operator
    # records which one of that kind was used.
    equipment_type: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    location: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    calibration_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return f"equipment {self.code}"

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        return bool(changed)


class EquipmentCalibration(Audited, Base):
    """One calibration: when, until when it holds, and how the equipment was found and left.
    Found out of tolerance puts in question every use since the calibration before it."""

    __tablename__ = "production_equipment_calibrations"
    __audit_type__ = "equipment_calibration"
    __table_args__ = (
        Index("ix_production_equipment_calibrations_at", "equipment_id", "calibrated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("production_equipment.id"), nullable=False)
    calibrated_at: Mapped[datetime] = mapped_column(nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    as_found_in_tolerance: Mapped[bool] = mapped_column(Boolean, nullable=False)
    as_left_in_tolerance: Mapped[bool] = mapped_column(Boolean, nullable=False)
    certificate: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_at: Mapped[datetime] = mapped_column(nullable=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        return f"calibration {self.certificate or self.id} of equipment {self.equipment_id}"


class EquipmentQualification(Audited, Base):
    """One qualification stage (IQ, OQ, PQ) or requalification, its outcome and how long it
    holds."""

    __tablename__ = "production_equipment_qualifications"
    __audit_type__ = "equipment_qualification"
    __table_args__ = (
        Index("ix_production_equipment_qualifications_at", "equipment_id", "qualified_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("production_equipment.id"), nullable=False)
    stage: Mapped[str] = mapped_column(String(20), nullable=False)
    qualified_at: Mapped[datetime] = mapped_column(nullable=False)
    valid_until: Mapped[date] = mapped_column(Date, nullable=False)
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    report: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    recorded_at: Mapped[datetime] = mapped_column(nullable=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        return f"{self.stage} {self.report or self.id} of equipment {self.equipment_id}"


# --- the master batch record ----------------------------------------------------------------


class MasterBatchRecord(Audited, Versioned, Base):
    """The structured recipe of one version of a master batch record document. The document
    version (document control) carries the approval workflow and the signatures; its body holds
    the rendered steps and the SHA-256 of this definition, so the "Approved" signature binds the
    steps executed here."""

    __tablename__ = "master_batch_records"
    __audit_type__ = "master_batch_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), nullable=False, index=True)
    document_version_id: Mapped[int] = mapped_column(
        ForeignKey("document_versions.id"), unique=True, nullable=False
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    product_code: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    batch_size: Mapped[float] = mapped_column(Float, nullable=False)
    batch_unit: Mapped[str] = mapped_column(String(20), nullable=False)
    # The steps, as ``definition.StepDefinition.as_dict()`` in order.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False)
    definition_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        return self.number


# --- the executed batch record --------------------------------------------------------------


class BatchRecordStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class BatchRecord(GxPRecord, Base):
    """The executed batch record of one batch, made from an effective master batch record."""

    __tablename__ = "batch_records"
    __audit_type__ = "batch_record"
    __number_prefix__ = "EBR"
    __draft_states__ = frozenset({BatchRecordStatus.IN_PROGRESS.value})
    # The production review signature covers every step through ``steps_digest``.
    __signed_fields__ = (
        "number",
        "lot_id",
        "master_id",
        "master_definition_hash",
        "step_count",
        "steps_digest",
    )

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), unique=True, nullable=False)
    master_id: Mapped[int] = mapped_column(ForeignKey("master_batch_records.id"), nullable=False)
    master_number: Mapped[str] = mapped_column(String(60), nullable=False)
    master_definition_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    product_code: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    step_count: Mapped[int] = mapped_column(Integer, nullable=False)
    steps_digest: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    started_at: Mapped[datetime] = mapped_column(nullable=False)
    manufacturing_ended_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        # The digest is kept up to date while the batch is made; nothing else changes silently.
        if previous_status == BatchRecordStatus.IN_PROGRESS:
            return bool(changed - {"steps_digest", "manufacturing_ended_at", "completed_at"})
        return super().reason_required_for(changed, previous_status)


class StepStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    PERFORMED = "performed"
    VERIFIED = "verified"


DONE_STEP_STATUSES = frozenset({StepStatus.PERFORMED.value, StepStatus.VERIFIED.value})


class BatchStep(GxPRecord, Base):
    """One step of an executed batch record, in ISA-88 terms (unit procedure / operation / phase).
    The operator's "Performed" signature covers the entries through ``entries_digest``; a second
    person's "Verified" signature follows where the master asks for it."""

    __tablename__ = "batch_steps"
    __audit_type__ = "batch_step"
    __draft_states__ = frozenset({StepStatus.PENDING.value, StepStatus.IN_PROGRESS.value})
    __table_args__ = (UniqueConstraint("batch_record_id", "position"),)
    __signed_fields__ = ("number", "batch_record_id", "position", "title", "entries_digest")

    batch_record_id: Mapped[int] = mapped_column(ForeignKey("batch_records.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    path: Mapped[str] = mapped_column(String(250), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    verification_required: Mapped[bool] = mapped_column(Boolean, nullable=False)
    target_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column()
    performed_at: Mapped[datetime | None] = mapped_column()
    performed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column()
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entries_digest: Mapped[str] = mapped_column(String(64), nullable=False, default="")

    def audit_label(self) -> str:
        return f"{self.number} {self.title}"

    @staticmethod
    def signed_hash(
        number: str, batch_record_id: int, position: int, title: str, entries_digest: str
    ) -> str:
        """``content_hash()`` of a step from its plain values, without the row: the release
        recomputes it for thousands of steps. A test holds it equal to the general one."""
        return step_signed_hash(number, batch_record_id, position, title, entries_digest)

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        if previous_status in self.__draft_states__:
            return False
        # After "Performed" only the verification is recorded; that is the transition's reason.
        return bool(changed - {"status", "verified_at", "verified_by_id", "performed_at"})


class EntryKind(StrEnum):
    MATERIAL = "material"  # a material lot dispensed into the step
    PARAMETER = "parameter"  # a process parameter
    CONTROL = "in_process_control"  # an in-process control result
    EQUIPMENT = "equipment"  # the piece of equipment used
    NOTE = "note"  # an observation in words


class EntrySource(StrEnum):
    MANUAL = "manual"  # typed by a person
    INSTRUMENT = "instrument"  # taken from the process readings the platform received


class StepEntry(Audited, Base):
    """One entry on a step, as made. A correction is a new entry pointing at the one it
    corrects (``corrects_id``); the corrected entry stays, marked ``replaced_by_id``, so the
    original value is never obscured (Part 11 §11.10(e))."""

    __tablename__ = "batch_step_entries"
    __audit_type__ = "batch_step_entry"
    __table_args__ = (Index("ix_batch_step_entries_record_kind", "batch_record_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_record_id: Mapped[int] = mapped_column(ForeignKey("batch_records.id"), nullable=False)
    step_id: Mapped[int] = mapped_column(ForeignKey("batch_steps.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    # The parameter or control name, the material code, or the equipment type.
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    # The limits in force when the value was entered (copied from the master).
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    within_limits: Mapped[bool | None] = mapped_column(Boolean)
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    reading_id: Mapped[int | None] = mapped_column(ForeignKey("process_readings.id"))
    material_lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    consumption_id: Mapped[int | None] = mapped_column(ForeignKey("material_consumptions.id"))
    override_id: Mapped[int | None] = mapped_column(ForeignKey("material_use_overrides.id"))
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("production_equipment.id"))
    # What the register said about the equipment at the moment of use.
    equipment_status: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("batch_step_entries.id"))
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("batch_step_entries.id", name="fk_batch_step_entries_replaced_by")
    )
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_at: Mapped[datetime] = mapped_column(nullable=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        return f"{self.kind.replace('_', ' ')} entry {self.name} (#{self.id})"

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        return bool(changed)

    def digest_content(self) -> dict[str, Any]:
        """What the step's signature covers of this entry."""
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "text": self.text,
            "material_lot_id": self.material_lot_id,
            "equipment_id": self.equipment_id,
            "override_id": self.override_id,
            "replaced_by_id": self.replaced_by_id,
            "recorded_at": self.recorded_at,
            "recorded_by_id": self.recorded_by_id,
        }


class ExceptionKind(StrEnum):
    OUT_OF_LIMIT = "out_of_limit"  # a parameter or in-process control outside its limits
    OUT_OF_TOLERANCE = "out_of_tolerance"  # a dispensed quantity outside the master's tolerance
    LATE_STEP = "late_step"  # performed after its target duration
    OVERRIDE = "override"  # a material used under QA's override
    DEVIATION = "deviation"  # a deviation raised from the step
    MISSING_VERIFICATION = "missing_verification"  # the batch went on without the second person
    MANUAL_ENTRY = "manual_entry"  # typed where the master expects the instrument's value
    CORRECTION = "correction"  # an entry corrected


class ExceptionStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"  # reviewed: no impact on the quality of the batch
    REFERRED = "referred"  # reviewed: referred to a deviation for investigation


REVIEWED_EXCEPTION_STATUSES = frozenset(
    {ExceptionStatus.ACCEPTED.value, ExceptionStatus.REFERRED.value}
)


class BatchRecordException(GxPRecord, Base):
    """Something QA has to look at in a batch record (review by exception), recorded at the
    moment it happened."""

    __tablename__ = "batch_record_exceptions"
    __audit_type__ = "batch_record_exception"
    __number_prefix__ = "BRX"
    __draft_states__ = frozenset({ExceptionStatus.OPEN.value})
    __table_args__ = (Index("ix_batch_record_exceptions_record", "batch_record_id", "status"),)
    __signed_fields__ = (
        "number",
        "batch_record_id",
        "step_id",
        "kind",
        "description",
        "entry_id",
        "deviation_id",
    )
    __review_fields__ = frozenset({"deviation_id"})  # QA raises the deviation as it reviews

    batch_record_id: Mapped[int] = mapped_column(ForeignKey("batch_records.id"), nullable=False)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("batch_steps.id"))
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("batch_step_entries.id"))
    deviation_id: Mapped[int | None] = mapped_column(ForeignKey("deviations.id"))
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        # Linking the deviation QA raises from the exception is part of its review.
        if previous_status == ExceptionStatus.OPEN:
            return bool(changed - self.__review_fields__)
        return super().reason_required_for(changed, previous_status)
