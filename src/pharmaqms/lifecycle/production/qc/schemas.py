"""API shapes of QC testing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict


class TestIn(Strict):
    test_code: str = Field(min_length=1, max_length=60)
    test_name: str = Field(default="", max_length=200)
    kind: str = Field(pattern="^(numeric|list)$")
    unit: str = Field(default="", max_length=20)
    lower_limit: float | None = None
    upper_limit: float | None = None
    decimals: int | None = Field(default=None, ge=0, le=6)
    allowed_values: list[str] = Field(default_factory=list, max_length=50)
    method: str = Field(default="", max_length=200)
    trend_rule: str = Field(default="none", pattern="^(none|mean_ks|run|both)$")
    trend_window: int = Field(default=10, ge=6, le=100)
    trend_k: float = Field(default=3.0, ge=1.0, le=6.0)
    trend_run_length: int = Field(default=6, ge=3, le=20)


class TestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    test_code: str
    test_name: str
    method: str
    kind: str
    unit: str
    lower_limit: float | None
    upper_limit: float | None
    decimals: int | None
    allowed_values: list[str]
    trend_rule: str
    trend_window: int
    trend_k: float
    trend_run_length: int
    criterion_text: str


class SpecificationCreate(Strict):
    subject_kind: str = Field(pattern="^(product|material)$")
    item_code: str = Field(min_length=1, max_length=40)
    market: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=300)
    tests: list[TestIn] = Field(min_length=1, max_length=100)


class SpecificationEdit(Strict):
    expected_version: int = Field(ge=1)
    tests: list[TestIn] = Field(min_length=1, max_length=100)
    title: str | None = Field(default=None, max_length=300)
    change_summary: str | None = Field(default=None, max_length=4000)


class RevisionCreate(Strict):
    change_summary: str = Field(min_length=1, max_length=4000)


class SpecificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    family: str
    revision: int
    status: str
    version: int
    subject_kind: str
    item_code: str
    market: str
    title: str
    change_summary: str
    approved_at: datetime | None
    tests: list[TestOut]
    signatures: list[SignatureOut] = []


class ResultCreate(Strict):
    lot_id: int = Field(ge=1)
    sample_id: str = Field(min_length=1, max_length=60)
    test_code: str = Field(min_length=1, max_length=60)
    tested_at: datetime
    value: float | None = None
    text_value: str | None = Field(default=None, max_length=200)
    unit: str = Field(default="", max_length=20)
    replicate: int = Field(default=1, ge=1, le=99)
    analyst: str = Field(default="", max_length=100)


class ResultOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    lot_id: int
    item_code: str
    sample_id: str
    test_code: str
    test_name: str
    replicate: int
    value: float | None
    text_value: str | None
    unit: str
    tested_at: datetime
    analyst: str
    source: str
    retest_of_id: int | None
    outcome: str
    evaluations: list[dict[str, Any]]
    evaluation_note: str
    status: str
    invalidated_reason: str
    trend_status: str
    trend_findings: list[str]
    trend_assessment: str
    version: int


class RecordedOut(BaseModel):
    result: ResultOut
    investigation_id: int | None
    investigation_number: str | None
    trend_findings: list[str]


class LimsEvaluationOut(BaseModel):
    taken_over: int
    failed: list[str]
    not_evaluated: int
    out_of_trend: int


class TrendAssessment(Strict):
    assessment: str = Field(min_length=1, max_length=4000)


class Phase1In(Strict):
    findings: str = Field(min_length=1, max_length=20_000)
    checklist: dict[str, str]
    assignable_cause: bool
    lab_error_evidence: str = Field(default="", max_length=20_000)
    expected_version: int | None = Field(default=None, ge=1)


class Phase2In(Strict):
    expected_version: int | None = Field(default=None, ge=1)
    manufacturing_review: str | None = Field(default=None, max_length=20_000)
    retest_protocol: str | None = Field(default=None, max_length=20_000)
    root_cause: str | None = Field(default=None, max_length=20_000)
    conclusion: str | None = Field(default=None, max_length=20)
    conclusion_rationale: str | None = Field(default=None, max_length=20_000)
    impact_on_other_lots: str | None = Field(default=None, max_length=20_000)
    lab_error_evidence: str | None = Field(default=None, max_length=20_000)


class RetestIn(Strict):
    tested_at: datetime
    value: float | None = None
    text_value: str | None = Field(default=None, max_length=200)
    unit: str = Field(default="", max_length=20)
    sample_id: str | None = Field(default=None, max_length=60)
    analyst: str = Field(default="", max_length=100)


class InvestigationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    version: int
    lot_id: int
    result_id: int
    test_code: str
    summary: str
    lot_status_before_hold: str
    phase1_findings: str
    phase1_checklist: dict[str, str]
    assignable_cause: bool | None
    lab_error_evidence: str
    phase2_manufacturing_review: str
    retest_protocol: str
    root_cause: str
    conclusion: str | None
    conclusion_rationale: str
    impact_on_other_lots: str
    closed_at: datetime | None
    nonconformance_id: int | None
    original: ResultOut | None = None
    retests: list[ResultOut] = []
    signatures: list[SignatureOut] = []


class TestLineOut(BaseModel):
    test_code: str
    test_name: str
    criteria: list[str]
    results: list[str]
    result_ids: list[int]
    outcome: str


class LotQcStatusOut(BaseModel):
    lot_id: int
    lot_label: str
    item_code: str
    lot_status: str
    verdict: str
    passed: bool
    tests: list[TestLineOut]
    specifications: list[str]
    open_investigations: list[str]
    open_nonconformances: list[str]
    open_trends: list[str]
    approved_certificates: list[str]
    reasons: list[str]


class CertificateCreate(Strict):
    lot_id: int = Field(ge=1)
    specification_id: int = Field(ge=1)


class CertificateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    version: int
    lot_id: int
    specification_id: int
    result_ids: list[int]
    reported: list[dict[str, Any]]
    approved_at: datetime | None
    signatures: list[SignatureOut] = []
