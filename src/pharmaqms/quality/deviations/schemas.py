"""API shapes of deviations."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict
from pharmaqms.quality.schemas import LinksOut, RaisedRecordIn


class DeviationReport(RaisedRecordIn):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=20_000)
    area: str = Field(min_length=1, max_length=100)
    occurred_at: datetime
    discovered_at: datetime
    product: str = Field(default="", max_length=200)
    batch_ids: list[str] = Field(default_factory=list, max_length=100)
    immediate_actions: str = Field(default="", max_length=20_000)


class DeviationEdit(Strict):
    expected_version: int = Field(ge=1)
    title: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    area: str | None = Field(default=None, max_length=100)
    product: str | None = Field(default=None, max_length=200)
    occurred_at: datetime | None = None
    discovered_at: datetime | None = None
    immediate_actions: str | None = Field(default=None, max_length=20_000)
    reason: str | None = Field(default=None, max_length=2000)


class Classification(Strict):
    classification: str = Field(max_length=20)
    severity: int
    probability: int
    detectability: int
    severity_basis: str = Field(max_length=4000)
    probability_basis: str = Field(max_length=4000)
    detectability_basis: str = Field(max_length=4000)
    investigator_id: int
    immediate_actions: str | None = Field(default=None, max_length=20_000)
    expected_version: int | None = Field(default=None, ge=1)
    reason: str | None = Field(default=None, max_length=2000)


class Investigation(Strict):
    expected_version: int | None = Field(default=None, ge=1)
    root_cause: str | None = Field(default=None, max_length=20_000)
    root_cause_category: str | None = Field(default=None, max_length=20)
    why_chain: list[str] | None = Field(default=None, max_length=10)
    fishbone: dict[str, list[str]] | None = None


class NoCapa(Strict):
    rationale: str = Field(min_length=1, max_length=4000)


class BatchLink(Strict):
    batch_id: str = Field(min_length=1, max_length=60)
    product: str = Field(default="", max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


class BatchAssessment(Strict):
    impact_assessment: str = Field(min_length=1, max_length=20_000)


class BatchDispositionIn(Strict):
    disposition: str = Field(max_length=20)
    note: str = Field(min_length=1, max_length=4000)


class ExtensionRequest(Strict):
    requested_due_at: datetime
    justification: str = Field(min_length=1, max_length=4000)


class ExtensionDecision(Strict):
    approve: bool
    reason: str = Field(min_length=1, max_length=4000)


class BatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    batch_id: str
    product: str
    hold_status: str
    impact_assessment: str
    disposition: str | None
    disposition_note: str
    disposition_at: datetime | None


class ExtensionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    status: str
    previous_due_at: datetime
    requested_due_at: datetime
    justification: str
    requested_by_id: int
    requested_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    decision_reason: str


class DeviationSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    title: str
    area: str
    product: str
    classification: str | None
    status: str
    discovered_at: datetime
    due_at: datetime | None
    investigator_id: int | None
    overdue: bool = False


class DeviationOut(DeviationSummary):
    description: str
    occurred_at: datetime
    immediate_actions: str
    severity: int | None
    probability: int | None
    detectability: int | None
    severity_basis: str
    probability_basis: str
    detectability_basis: str
    root_cause: str
    root_cause_category: str | None
    why_chain: list[str]
    fishbone: dict[str, list[str]]
    capa_decision: str | None
    no_capa_rationale: str
    closed_at: datetime | None
    version: int
    created_by_id: int
    created_at: datetime
    batches: list[BatchOut]
    extensions: list[ExtensionOut]
    signatures: list[SignatureOut] = []
    links: LinksOut | None = None


class DeviationTrendOut(BaseModel):
    months: list[str]
    by_class: dict[str, list[int]]
    by_area: dict[str, list[int]]
