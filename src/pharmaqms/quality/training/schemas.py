"""API shapes of training."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict
from pharmaqms.quality.training.models import DEFAULT_DUE_DAYS


class JobRoleCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    area: str = Field(default="", max_length=100)


class CurriculumCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)


class CurriculumItemCreate(Strict):
    document_id: int = Field(ge=1)
    due_in_days: int = Field(default=DEFAULT_DUE_DAYS, ge=1, le=365)
    recurrence_months: int | None = Field(default=None, ge=1, le=120)
    reason: str | None = Field(default=None, max_length=2000)


class QuizQuestion(Strict):
    question: str = Field(min_length=1, max_length=2000)
    options: list[str] = Field(min_length=2, max_length=10)
    answer: int = Field(ge=0)


class QuizWrite(Strict):
    pass_mark_percent: int = Field(ge=1, le=100)
    questions: list[QuizQuestion] = Field(min_length=1, max_length=50)
    reason: str | None = Field(default=None, max_length=2000)


class QuizOut(BaseModel):
    document_id: int
    pass_mark_percent: int
    questions: list[dict[str, Any]]  # with answers for QA, without for trainees


class JobRoleAssign(Strict):
    user_id: int = Field(ge=1)


class Reason(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class AdHocTraining(Strict):
    user_id: int = Field(ge=1)
    document_id: int = Field(ge=1)
    due_in_days: int = Field(default=DEFAULT_DUE_DAYS, ge=1, le=365)
    reason: str = Field(min_length=1, max_length=2000)


class Completion(Strict):
    password: str | None = Field(default=None, max_length=256)
    answers: list[int] | None = Field(default=None, max_length=50)
    expected_version: int | None = Field(default=None, ge=1)


class GoverningRuleCreate(Strict):
    record_type: str = Field(min_length=1, max_length=60)
    transition: str = Field(min_length=1, max_length=60)
    document_id: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=2000)


class CurriculumItemOut(BaseModel):
    id: int
    document_id: int
    document_number: str
    document_title: str
    due_in_days: int
    recurrence_months: int | None


class CurriculumOut(BaseModel):
    id: int
    job_role_id: int
    name: str
    description: str
    items: list[CurriculumItemOut]


class HolderOut(BaseModel):
    assignment_id: int
    user_id: int
    username: str
    full_name: str
    assigned_at: datetime


class JobRoleOut(BaseModel):
    id: int
    name: str
    description: str
    area: str
    version: int
    curricula: list[CurriculumOut] = []
    holders: list[HolderOut] = []


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    user_id: int
    job_role_id: int
    assigned_at: datetime
    ended_at: datetime | None


class RequirementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    user_id: int
    document_id: int
    version_id: int
    version_number: str
    title: str
    read_content_hash: str
    source: str
    due_at: datetime
    overdue: bool = False
    quiz_required: bool
    quiz_score_percent: int | None
    opened_at: datetime | None = None
    completed_at: datetime | None
    expires_at: datetime | None
    version: int
    signatures: list[SignatureOut] = []


class AssignmentResult(BaseModel):
    assignment: AssignmentOut
    assigned: list[RequirementOut]


class CellOut(BaseModel):
    user_id: int
    document_id: int
    standing: str
    due_at: datetime | None
    requirement_id: int | None


class MatrixPersonOut(BaseModel):
    user_id: int
    username: str
    full_name: str
    job_roles: list[str]


class MatrixDocumentOut(BaseModel):
    document_id: int
    number: str
    title: str
    version: str


class MatrixOut(BaseModel):
    people: list[MatrixPersonOut]
    documents: list[MatrixDocumentOut]
    cells: list[CellOut]
    counts: dict[str, int]


class GoverningRuleOut(BaseModel):
    id: int
    record_type: str
    transition: str
    document_id: int
    document_number: str
    document_title: str
    retired_at: datetime | None


class CheckOut(BaseModel):
    """Where the asking person stands on the documents asked about."""

    allowed: bool
    reasons: list[str]


class ReadingOut(BaseModel):
    """The document a trainee opened to read: the text their signature will bind to."""

    requirement_id: int
    version_id: int
    version_number: str
    title: str
    body: str
    content_hash: str
    opened_at: datetime
    attachments: list[str] = []
