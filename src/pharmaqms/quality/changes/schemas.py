"""API shapes of change requests."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict
from pharmaqms.quality.schemas import LinksOut, RaisedRecordIn


class ChangeCreate(RaisedRecordIn):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=20_000)
    justification: str = Field(min_length=1, max_length=20_000)
    change_type: str = Field(default="permanent", max_length=20)
    owner_id: int | None = None


class ChangeEdit(Strict):
    expected_version: int = Field(ge=1)
    title: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    justification: str | None = Field(default=None, max_length=20_000)
    change_type: str | None = Field(default=None, max_length=20)
    reason: str | None = Field(default=None, max_length=2000)


class ImpactIn(Strict):
    area: str = Field(max_length=30)
    impacted: bool
    assessment: str = Field(min_length=1, max_length=4000)


class ImpactAssessmentIn(Strict):
    impacts: list[ImpactIn] = Field(min_length=1, max_length=20)
    regulatory_category: str = Field(max_length=30)
    regulatory_rationale: str = Field(min_length=1, max_length=4000)
    functions: list[str] = Field(min_length=1, max_length=20)
    reason: str | None = Field(default=None, max_length=2000)


class FunctionDecision(Strict):
    function: str = Field(max_length=30)
    approve: bool
    password: str | None = Field(default=None, max_length=256)
    comment: str | None = Field(default=None, max_length=4000)


class ChangeActionCreate(Strict):
    kind: str = Field(max_length=30)
    description: str = Field(min_length=1, max_length=4000)
    owner_id: int
    due_at: datetime
    document_id: int | None = None
    role: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=2000)


class ChangeActionCompletion(Strict):
    # Not asked of a task fulfilled by a record (a submission, a retraining on a document).
    evidence: str = Field(default="", max_length=20_000)


class EffectivenessReview(Strict):
    effective: bool
    summary: str = Field(min_length=1, max_length=20_000)


class ImpactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    area: str
    impacted: bool
    assessment: str
    assessed_by_id: int
    assessed_at: datetime


class ApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    round: int
    function: str
    decision: str
    approver_id: int
    signature_id: int
    decided_at: datetime
    comment: str
    valid_for_current_content: bool = False


class ChangeActionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    description: str
    document_id: int | None
    role: str | None
    owner_id: int
    due_at: datetime
    status: str
    completed_at: datetime | None
    completion_evidence: str


class ChangeSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    title: str
    status: str
    change_type: str
    regulatory_category: str | None
    owner_id: int
    created_at: datetime


class AffectedIn(Strict):
    kind: str = Field(max_length=30)
    reference: str = Field(min_length=1, max_length=100)


class AffectedRemoval(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class AffectedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    reference: str
    label: str
    named_by_id: int
    named_at: datetime
    removed_at: datetime | None


class ChangeOut(ChangeSummary):
    description: str
    justification: str
    regulatory_rationale: str
    functions: list[str]
    approval_round: int
    approved_at: datetime | None
    effectiveness_confirmed: bool | None
    effectiveness_summary: str
    closed_at: datetime | None
    version: int
    created_by_id: int
    impacts: list[ImpactOut]
    approvals: list[ApprovalOut]
    actions: list[ChangeActionOut]
    affected: list[AffectedOut] = []
    submission_reference: str = ""
    submitted_on: date | None = None
    submission_sha256: str = ""
    authority_reference: str = ""
    authority_approved_on: date | None = None
    authority_letter_sha256: str = ""
    functions_waiting: list[str] = []
    signatures: list[SignatureOut] = []
    links: LinksOut | None = None
