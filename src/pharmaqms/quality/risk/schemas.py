"""API shapes of risk assessments."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict


class AssessmentCreate(Strict):
    title: str = Field(min_length=1, max_length=300)
    scope: str = Field(min_length=1, max_length=20_000)
    subject_type: str = Field(min_length=2, max_length=60)
    subject_id: int
    matrix: str | None = Field(default=None, max_length=40)


class ScoresIn(Strict):
    severity: int
    occurrence: int
    detectability: int


class ItemIn(Strict):
    failure_mode: str = Field(min_length=1, max_length=4000)
    effect: str = Field(min_length=1, max_length=4000)
    cause: str = Field(min_length=1, max_length=4000)
    scores: ScoresIn
    controls: str = Field(default="", max_length=20_000)
    residual: ScoresIn | None = None
    reason: str | None = Field(default=None, max_length=2000)


class ItemRetirement(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class Acceptance(Strict):
    rationale: str = Field(min_length=1, max_length=4000)


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    failure_mode: str
    effect: str
    cause: str
    severity: int
    occurrence: int
    detectability: int
    rpn: int
    risk_level: str
    controls: str
    residual_severity: int | None
    residual_occurrence: int | None
    residual_detectability: int | None
    residual_rpn: int | None
    residual_level: str | None
    retired: bool


class AssessmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    title: str
    scope: str
    status: str
    subject_type: str
    subject_id: int
    subject_label: str
    matrix_name: str
    acceptance_rationale: str
    approved_at: datetime | None
    version: int
    created_by_id: int
    items: list[ItemOut]
    signatures: list[SignatureOut] = []


class MatrixOut(BaseModel):
    name: str
    scale: int
    grid: list[list[str]]
    escalate_from_detectability: int | None
    description: str


class MatrixInForceOut(MatrixOut):
    """The grid new assessments are scored on now, with the configuration version it is."""

    severity_levels: list[str]
    occurrence_levels: list[str]
    detection_levels: list[str]
    configuration: str
    version_no: int
    effective_from: datetime
    content_sha256: str
