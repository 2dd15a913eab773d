"""API shapes of controlled documents."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict


class DocumentCreate(Strict):
    doc_type: str = Field(max_length=40)
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(default="", max_length=500_000)
    area: str = Field(default="", max_length=100)
    review_period_months: int = Field(default=24, ge=1, le=60)
    effective_from: datetime | None = None


class DraftEdit(Strict):
    expected_version: int = Field(ge=1)
    title: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=500_000)
    change_summary: str | None = Field(default=None, max_length=4000)
    effective_from: datetime | None = None
    reason: str | None = Field(default=None, max_length=2000)


class RevisionCreate(Strict):
    major: bool = False
    change_summary: str = Field(min_length=1, max_length=4000)


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    document_id: int
    major: int
    minor: int
    title: str
    body: str
    change_summary: str
    status: str
    version: int
    effective_from: datetime | None
    effective_at: datetime | None
    created_at: datetime
    updated_at: datetime
    reviewer_ids: list[int] = []
    reviewers_in_sequence: bool = False
    review_round: int = 0
    attachments_digest: str = ""
    signed_content_hash: str = ""
    signatures: list[SignatureOut] = []
    attachments: list[AttachmentOut] = []
    reviews: list[DocumentReviewOut] = []


class DocumentOut(BaseModel):
    id: int
    number: str
    doc_type: str
    title: str
    area: str
    status: str
    owner_id: int
    review_period_months: int
    current_version_id: int | None
    next_review_due: datetime | None = None
    versions: list[VersionOut]


class ReviewScheduleOut(BaseModel):
    document_id: int
    number: str
    title: str
    owner_id: int
    version_id: int
    version: str
    review_period_months: int
    basis_at: datetime
    due_at: datetime
    state: str
    open_review_id: int | None
    open_review_number: str | None
    revision_version_id: int | None


class PeriodicReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    document_id: int
    version_id: int
    reviewed_content_hash: str
    due_at: datetime
    overdue_flagged_at: datetime | None
    concluded_at: datetime | None
    revision_version_id: int | None
    version: int
    signatures: list[SignatureOut] = []


class ReviewConclusion(Strict):
    password: str | None = Field(default=None, max_length=256)
    justification: str = Field(min_length=1, max_length=4000)
    expected_version: int | None = Field(default=None, ge=1)


class ReviewRevision(Strict):
    major: bool = False
    change_summary: str = Field(min_length=1, max_length=4000)
    expected_version: int | None = Field(default=None, ge=1)


class ReviewersNamed(Strict):
    reviewer_ids: list[int] = Field(max_length=12)
    in_sequence: bool = False
    expected_version: int | None = Field(default=None, ge=1)


class ReviewRecord(Strict):
    comments: str = Field(min_length=1, max_length=20_000)
    expected_version: int | None = Field(default=None, ge=1)


class DocumentReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    version_id: int
    round: int
    position: int
    in_sequence: bool
    reviewer_id: int
    outcome: str
    comments: str
    reviewed_content_hash: str
    reviewed_at: datetime | None


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    version_id: int
    filename: str
    media_type: str
    size: int
    sha256: str
    attached_by_id: int
    attached_at: datetime


class ComparisonRowOut(BaseModel):
    kind: str
    left_no: int | None
    left: str
    right_no: int | None
    right: str


class ComparisonOut(BaseModel):
    document_id: int
    from_version: str
    to_version: str
    changed_lines: int
    rows: list[ComparisonRowOut]


class TemplateOut(BaseModel):
    doc_type: str
    body: str


VersionOut.model_rebuild()
