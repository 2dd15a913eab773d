"""API shapes of competence."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict


class RequirementCreate(Strict):
    kind: str = Field(max_length=30)
    title: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)
    document_id: int | None = Field(default=None, ge=1)
    authorisation_kind: str | None = Field(default=None, max_length=40)
    valid_months: int | None = Field(default=None, ge=1, le=120)


class RequirementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    job_role_id: int
    kind: str
    title: str
    document_id: int | None
    authorisation_kind: str | None
    valid_months: int | None
    retired_at: datetime | None


class BasisFileIn(Strict):
    filename: str = Field(min_length=1, max_length=200)
    media_type: str = Field(default="application/pdf", max_length=100)
    # The bytes, base64: kept exactly as sent, with their SHA-256.
    content_base64: str = Field(min_length=1, max_length=14_000_000)


class AuthorisationCreate(Strict):
    user_id: int = Field(ge=1)
    kind: str = Field(max_length=40)
    basis: str = Field(min_length=1, max_length=4000)
    scope: str = Field(default="", max_length=2000)
    effective_from: datetime
    effective_to: datetime | None = None
    basis_file: BasisFileIn | None = None
    password: str = Field(max_length=256)
    comment: str | None = Field(default=None, max_length=2000)


class Revocation(Strict):
    reason: str = Field(min_length=1, max_length=2000)
    password: str = Field(max_length=256)


class AuthorisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    user_id: int
    username: str = ""
    full_name: str = ""
    kind: str
    kind_label: str = ""
    scope: str
    basis: str
    basis_filename: str
    basis_sha256: str
    effective_from: datetime
    effective_to: datetime | None
    granted_by_id: int | None
    granted_at: datetime | None
    revoked_at: datetime | None
    revocation_reason: str
    status: str
    state: str = ""
    version: int
    signatures: list[SignatureOut] = []


class QuizAssessmentIn(Strict):
    requirement_id: int = Field(ge=1)
    answers: list[int] = Field(max_length=50)
    password: str = Field(max_length=256)


class ObservedPracticeIn(Strict):
    user_id: int = Field(ge=1)
    requirement_id: int = Field(ge=1)
    passed: bool
    observations: str = Field(min_length=1, max_length=8000)
    observed_at: datetime | None = None
    password: str = Field(max_length=256)


class AssessmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    user_id: int
    requirement_id: int
    job_role_id: int
    kind: str
    title: str
    assessed_at: datetime
    passed: bool
    score_percent: int | None
    observations: str
    observer_id: int | None
    valid_until: datetime | None
    status: str
    signatures: list[SignatureOut] = []


class GapOut(BaseModel):
    check: str
    detail: str
    basis: str


class QualificationOut(BaseModel):
    user_id: int
    username: str
    full_name: str
    job_role_id: int
    job_role: str
    qualified: bool
    gaps: list[GapOut]


class DutyOut(BaseModel):
    code: str
    duty: str
    record_type: str
    step: str
    basis: str
    qualified: bool
    gaps: list[GapOut]


class PersonOut(BaseModel):
    user_id: int
    username: str
    full_name: str
    qualifications: list[QualificationOut]
    duties: list[DutyOut]
    authorisations: list[AuthorisationOut]
    assessments: list[AssessmentOut]
