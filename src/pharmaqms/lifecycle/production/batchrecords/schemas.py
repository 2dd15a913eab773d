"""API shapes of the equipment register, master batch records and executed batch records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from pharmaqms.kernel.schemas import SignatureOut, Strict

# A value as typed: a number, or text that must read as one (refused with the reason if not).
TypedValue = StrictFloat | StrictInt | StrictStr


class EquipmentCreate(Strict):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    equipment_type: str = Field(min_length=1, max_length=60)
    location: str = Field(default="", max_length=100)
    calibration_required: bool = True


class CalibrationCreate(Strict):
    calibrated_at: datetime
    due_on: date
    as_found_in_tolerance: bool
    as_left_in_tolerance: bool
    certificate: str = Field(min_length=1, max_length=120)
    note: str = Field(default="", max_length=4000)


class QualificationCreate(Strict):
    stage: str = Field(min_length=1, max_length=20)
    qualified_at: datetime
    valid_until: date
    passed: bool
    report: str = Field(min_length=1, max_length=120)


class EquipmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    equipment_type: str
    location: str
    calibration_required: bool
    usable_now: bool = False
    reasons: list[str] = []
    qualified_until: date | None = None
    calibration_due_on: date | None = None


class MasterCreate(Strict):
    product_code: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=300)
    batch_size: StrictFloat | StrictInt
    batch_unit: str = Field(min_length=1, max_length=20)
    # Each step as ``definition.parse_step`` reads it; checked there with the field named.
    steps: list[dict[str, Any]] = Field(min_length=1, max_length=5000)


class MasterEdit(Strict):
    title: str | None = Field(default=None, max_length=300)
    batch_size: StrictFloat | StrictInt | None = None
    batch_unit: str | None = Field(default=None, max_length=20)
    steps: list[dict[str, Any]] | None = Field(default=None, max_length=5000)
    reason: str | None = Field(default=None, max_length=2000)


class MasterRevision(Strict):
    change_summary: str = Field(min_length=1, max_length=4000)
    major: bool = False


class MasterOut(BaseModel):
    id: int
    number: str
    document_id: int
    document_version_id: int
    document_status: str
    product_code: str
    title: str
    batch_size: float
    batch_unit: str
    definition_hash: str
    steps: list[dict[str, Any]]
    effective: bool
    problems: list[str]


class BatchRecordCreate(Strict):
    master_id: int = Field(ge=1)
    lot_number: str = Field(min_length=1, max_length=20)


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    step_id: int
    kind: str
    name: str
    value: float | None
    unit: str
    low: float | None
    high: float | None
    within_limits: bool | None
    text: str
    source: str
    material_lot_id: int | None
    override_id: int | None
    equipment_id: int | None
    corrects_id: int | None
    replaced_by_id: int | None
    reason: str
    recorded_at: datetime
    recorded_by_id: int


class StepOut(BaseModel):
    id: int
    number: str
    position: int
    path: str
    title: str
    status: str
    version: int
    verification_required: bool
    target_minutes: int
    started_at: datetime | None
    performed_at: datetime | None
    verified_at: datetime | None
    instructions: str = ""
    sop_numbers: list[str] = []
    definition: dict[str, Any] = {}
    entries: list[EntryOut] = []
    signatures: list[SignatureOut] = []


class ExceptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    batch_record_id: int
    step_id: int | None
    kind: str
    description: str
    status: str
    version: int
    entry_id: int | None
    deviation_id: int | None
    occurred_at: datetime
    signatures: list[SignatureOut] = []


class BatchRecordOut(BaseModel):
    id: int
    number: str
    status: str
    version: int
    lot_id: int
    lot_number: str
    product_code: str
    master_id: int
    master_number: str
    step_count: int
    steps_performed: int
    current_step: int | None
    started_at: datetime
    manufacturing_ended_at: datetime | None
    open_exceptions: int
    steps: list[StepOut] = []
    signatures: list[SignatureOut] = []


class MaterialDispensed(Strict):
    material_code: str = Field(min_length=1, max_length=40)
    lot_number: str = Field(min_length=1, max_length=40)
    quantity: TypedValue
    unit: str = Field(max_length=20)


class ValueEntered(Strict):
    name: str = Field(min_length=1, max_length=80)
    value: TypedValue
    unit: str = Field(default="", max_length=20)
    kind: Literal["parameter", "in_process_control"] = "parameter"


class ReadingTaken(Strict):
    name: str = Field(min_length=1, max_length=80)
    kind: Literal["parameter", "in_process_control"] = "parameter"


class EquipmentUsed(Strict):
    equipment_code: str = Field(min_length=1, max_length=40)


class Correction(Strict):
    reason: str = Field(min_length=1, max_length=2000)
    value: TypedValue | None = None
    unit: str | None = Field(default=None, max_length=20)
    lot_number: str | None = Field(default=None, max_length=40)
    quantity: TypedValue | None = None
    equipment_code: str | None = Field(default=None, max_length=40)


class Signing(Strict):
    password: str = Field(min_length=1, max_length=256)
    comment: str | None = Field(default=None, max_length=2000)
    expected_version: int | None = Field(default=None, ge=1)


class StepDeviation(Strict):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=20_000)
    immediate_actions: str = Field(default="", max_length=20_000)


class ExceptionReview(Strict):
    decision: Literal["accept", "refer"]
    reason: str = Field(min_length=1, max_length=2000)
    password: str = Field(min_length=1, max_length=256)
    expected_version: int | None = Field(default=None, ge=1)


class ExceptionDeviation(Strict):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=20_000)


class DeviationRef(BaseModel):
    id: int
    number: str
    status: str
