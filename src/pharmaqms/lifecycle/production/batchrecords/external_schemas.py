"""API shapes of the review of an imported MES batch record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict


class ReviewOpen(Strict):
    lot_id: int


class ExceptionAssessment(Strict):
    key: str = Field(min_length=1, max_length=80)
    comment: str = Field(min_length=1, max_length=4000)


class ReviewSign(Strict):
    password: str = Field(max_length=256)
    expected_version: int = Field(ge=1)


class ExternalReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    version: int
    lot_id: int
    lot_label: str
    summary: dict[str, Any]
    evidence_digest: str
    exceptions: list[dict[str, str]]
    comments: dict[str, str]
    reviewed_at: datetime | None
    signatures: list[SignatureOut] = []
