"""API shapes of nonconforming product."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict


class NonconformanceReport(Strict):
    lot_id: int = Field(ge=1)
    found_in: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=20_000)


class DispositionDraft(Strict):
    disposition: str = Field(max_length=30)
    rationale: str = Field(default="", max_length=20_000)
    concession_terms: str = Field(default="", max_length=20_000)
    expected_version: int | None = Field(default=None, ge=1)


class ExecutionRecord(Strict):
    execution_record: str = Field(min_length=1, max_length=20_000)


class NonconformanceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    version: int
    lot_id: int
    lot_label: str = ""
    lot_status: str = ""
    source_type: str
    source_id: int | None
    source_label: str
    description: str
    lot_status_before_hold: str
    disposition: str | None
    disposition_rationale: str
    concession_terms: str
    execution_record: str
    closed_at: datetime | None
    signatures: list[SignatureOut] = []


class DeviationOutcomeOut(BaseModel):
    opened: list[str]
    already_open: list[str]
    unknown_batches: list[str]
