"""API input and output of the stage gates."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import Strict


class PhaseDatesIn(Strict):
    start: date
    end: date


class PlanIn(Strict):
    product_code: str = Field(min_length=1, max_length=40)
    # phase → its planned dates; every phase, in order.
    phases: dict[str, PhaseDatesIn] = Field(min_length=1, max_length=10)


class GateIn(Strict):
    phase: str = Field(min_length=1, max_length=30)
    summary: str = Field(default="", max_length=20_000)


class GateEditIn(Strict):
    summary: str = Field(max_length=20_000)


class EvidenceIn(Strict):
    deliverable: str = Field(min_length=1, max_length=40)
    reference: str = Field(min_length=1, max_length=80)
    note: str = Field(default="", max_length=4000)


class WithdrawIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class ApproveIn(Strict):
    function: str = Field(min_length=1, max_length=30)
    password: str = Field(min_length=1, max_length=200)
    comment: str = Field(default="", max_length=2000)
    expected_version: int = Field(ge=1, le=2**31 - 1)


class ReturnIn(Strict):
    password: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)
    expected_version: int = Field(ge=1, le=2**31 - 1)


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    deliverable: str
    kind: str
    reference: str
    experiment_id: int | None
    note: str
    added_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str


class ApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    function: str
    round: int
    approver_id: int
    decided_at: datetime
    comment: str


class DeliverableOut(BaseModel):
    code: str
    label: str
    kind: str
    basis: str
    covered: bool


class GateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    project_id: int
    phase: str
    status: str
    version: int
    round: int
    summary: str
    submitted_by_id: int | None
    submitted_at: datetime | None
    approved_at: datetime | None
    evidence: list[EvidenceOut] = []
    approvals: list[ApprovalOut] = []
    deliverables: list[DeliverableOut] = []
    functions: list[str] = []
    waiting_for: list[str] = []


class PhaseOut(BaseModel):
    phase: str
    planned_start: date
    planned_end: date
    actual_start: datetime | None
    actual_end: datetime | None
    gate: str | None
    gate_status: str | None
    days_late: int | None


class ProgressOut(BaseModel):
    project_id: int
    project_code: str
    product_code: str
    current_phase: str | None
    phases_passed: int
    percent: int
    phases: list[PhaseOut]
    gates: list[GateOut]


class LaunchTimeOut(BaseModel):
    project_id: int
    project_code: str
    product_code: str
    first_gate: str | None
    first_gate_approved_at: datetime | None
    registration_approved_at: datetime | None
    first_batch: str | None
    first_batch_released_at: datetime | None
    launched: bool
    days: float | None
    months: float | None
    running_months: float | None


class LaunchKpiOut(BaseModel):
    definition: str
    projects: list[LaunchTimeOut]
