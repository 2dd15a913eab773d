"""API shapes of CAPAs."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict
from pharmaqms.quality.schemas import LinksOut, RaisedRecordIn


class CapaCreate(RaisedRecordIn):
    title: str = Field(min_length=1, max_length=300)
    problem_statement: str = Field(min_length=1, max_length=20_000)
    owner_id: int
    due_at: datetime


class CapaEdit(Strict):
    expected_version: int = Field(ge=1)
    title: str | None = Field(default=None, max_length=300)
    problem_statement: str | None = Field(default=None, max_length=20_000)
    owner_id: int | None = None
    due_at: datetime | None = None
    reason: str | None = Field(default=None, max_length=2000)


class ActionCreate(Strict):
    kind: str = Field(max_length=20)
    description: str = Field(min_length=1, max_length=4000)
    owner_id: int
    due_at: datetime
    reason: str | None = Field(default=None, max_length=2000)
    # "Revise SOP-…": the document; "retrain …": the document and the job role.
    document_id: int | None = None
    job_role_id: int | None = None


class ActionCompletion(Strict):
    # Not asked of an action fulfilled by a record (its evidence is the record).
    evidence: str = Field(default="", max_length=20_000)


class ActionCancellation(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class EffectivenessPlan(Strict):
    required: bool
    criteria: str | None = Field(default=None, max_length=4000)
    due_at: datetime | None = None
    justification: str | None = Field(default=None, max_length=4000)
    # A template of ``quality.capa_effectiveness_templates`` that fits the CAPA's source: the
    # criteria and due date left out are the template's.
    template_id: str | None = Field(default=None, max_length=60)


class TemplateOut(BaseModel):
    template_id: str
    title: str
    criteria: str
    due_at: datetime
    period_months: int
    configuration: str = Field(description="the configuration version the template is of")


class EffectivenessResult(Strict):
    passed: bool
    evidence: str = Field(min_length=1, max_length=20_000)
    password: str | None = Field(default=None, max_length=256)
    reopen_action_ids: list[int] | None = None
    actions_due_at: datetime | None = None
    next_check_due_at: datetime | None = None
    next_criteria: str | None = Field(default=None, max_length=4000)
    # Needed when the check is judged before its due date.
    early_reason: str | None = Field(default=None, max_length=2000)


class ActionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    description: str
    owner_id: int
    due_at: datetime
    status: str
    completed_at: datetime | None
    completed_by_id: int | None
    completion_evidence: str
    times_reopened: int
    document_id: int | None = None
    job_role_id: int | None = None
    overdue: bool = False


class CheckOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    criteria: str
    due_at: datetime
    status: str
    evidence: str
    verified_by_id: int | None
    verified_at: datetime | None
    signature_id: int | None


class CapaSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    title: str
    status: str
    owner_id: int
    due_at: datetime
    closed_at: datetime | None
    overdue: bool = False
    due_this_week: bool = False


class CapaOut(CapaSummary):
    problem_statement: str
    effectiveness_required: bool | None
    effectiveness_justification: str
    version: int
    created_by_id: int
    created_at: datetime
    actions: list[ActionOut]
    checks: list[CheckOut]
    signatures: list[SignatureOut] = []
    links: LinksOut | None = None


class RegisterOut(BaseModel):
    open: int
    overdue: int
    due_this_week: int
    overdue_actions: int


class OnTimeRateOut(BaseModel):
    months: list[str]
    closed: list[int]
    on_time: list[int]
    rate: list[float | None]
