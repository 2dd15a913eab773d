"""API shapes of complaints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict
from pharmaqms.quality.schemas import LinksOut, RaisedRecordIn


class ComplaintCreate(RaisedRecordIn):
    product: str = Field(min_length=1, max_length=200)
    lot: str = Field(min_length=1, max_length=60)
    complainant_name: str = Field(min_length=1, max_length=200)
    complainant_type: str = Field(max_length=30)
    complainant_contact: str = Field(default="", max_length=1000)
    received_at: datetime
    description: str = Field(min_length=1, max_length=20_000)


class Triage(Strict):
    category: str = Field(max_length=30)
    criticality: str = Field(max_length=20)
    rationale: str = Field(min_length=1, max_length=4000)
    investigator_id: int
    expected_version: int | None = Field(default=None, ge=1)


class HandoverAcknowledgement(Strict):
    pv_reference: str = Field(min_length=1, max_length=100)


class ComplaintInvestigation(Strict):
    summary: str = Field(min_length=1, max_length=20_000)
    confirmed: bool
    root_cause: str = Field(default="", max_length=20_000)


class ComplaintResponse(Strict):
    response_text: str = Field(min_length=1, max_length=20_000)
    responded_at: datetime


class ComplaintSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    product: str
    lot: str
    status: str
    category: str | None
    criticality: str | None
    received_at: datetime
    due_at: datetime
    pv_handover_status: str | None
    overdue: bool = False


class ComplaintOut(ComplaintSummary):
    complainant_name: str
    complainant_type: str
    complainant_contact: str
    description: str
    triage_rationale: str
    pv_handover_at: datetime | None
    pv_reference: str
    pv_acknowledged_at: datetime | None
    investigator_id: int | None
    investigation_summary: str
    complaint_confirmed: bool | None
    root_cause: str
    response_text: str
    responded_at: datetime | None
    closed_at: datetime | None
    version: int
    created_by_id: int
    signatures: list[SignatureOut] = []
    links: LinksOut | None = None


class TrendRowOut(BaseModel):
    product: str
    lot: str | None
    total: int
    adverse_events: int
    confirmed: int
    per_month: list[int]


class ComplaintTrendOut(BaseModel):
    months: list[str]
    rows: list[TrendRowOut]
