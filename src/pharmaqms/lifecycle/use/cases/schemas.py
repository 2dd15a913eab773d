"""API shapes of pharmacovigilance cases."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict
from pharmaqms.lifecycle.use.cases.intake import CaseReport, EventReport, ProductReport
from pharmaqms.quality.schemas import LinksOut


class ProductIn(Strict):
    product: str = Field(min_length=1, max_length=200)
    lot_number: str = Field(default="", max_length=60)
    role: str = Field(default="suspect", max_length=20)
    authorisation_number: str = Field(default="", max_length=100)
    dose_value: str | None = Field(default=None, max_length=30)
    dose_unit: str = Field(default="", max_length=40)
    route: str = Field(default="", max_length=60)


class EventIn(Strict):
    verbatim: str = Field(min_length=1, max_length=500)
    meddra_code: str = Field(default="", max_length=8)
    onset: date | None = None
    seriousness: list[str] = Field(default_factory=list, max_length=6)


class CaseIn(Strict):
    """A report as PV staff take it in (phone, e-mail, letter), or a follow-up to a case.
    The age is a number of years as reported; an impossible one becomes a finding."""

    received_at: datetime
    source_reference: str = Field(default="", max_length=100)
    report_type: str = Field(default="spontaneous", max_length=20)
    patient_initials: str = Field(default="", max_length=20)
    patient_age: str | None = Field(default=None, max_length=20)
    patient_sex: str | None = Field(default=None, max_length=10)
    patient_weight: str | None = Field(default=None, max_length=20)
    reporter_type: str | None = Field(default=None, max_length=20)
    reporter_country: str | None = Field(default=None, max_length=2)
    reporter_name: str = Field(default="", max_length=200)
    reporter_contact: str = Field(default="", max_length=1000)
    narrative: str = Field(default="", max_length=20_000)
    products: list[ProductIn] = Field(default_factory=list, max_length=20)
    events: list[EventIn] = Field(default_factory=list, max_length=50)

    def report(self, source: str = "staff") -> CaseReport:
        return CaseReport(
            source=source,
            received_at=self.received_at,
            source_reference=self.source_reference,
            report_type=self.report_type,
            patient_initials=self.patient_initials,
            patient_age=self.patient_age,
            patient_sex=self.patient_sex,
            patient_weight=self.patient_weight,
            reporter_type=self.reporter_type,
            reporter_country=self.reporter_country,
            reporter_name=self.reporter_name,
            reporter_contact=self.reporter_contact,
            narrative=self.narrative,
            products=tuple(ProductReport(**p.model_dump()) for p in self.products),
            events=tuple(
                EventReport(e.verbatim, e.meddra_code, e.onset, tuple(e.seriousness))
                for e in self.events
            ),
        )


class FollowUpIn(CaseIn):
    reason: str = Field(default="", max_length=4000)


class VersionedIn(Strict):
    expected_version: int | None = Field(default=None, ge=1)


class InvalidateIn(Strict):
    reason: str = Field(min_length=1, max_length=4000)


class AssessmentIn(Strict):
    causality: str = Field(max_length=20)
    reasoning: str = Field(min_length=1, max_length=20_000)
    expected_version: int | None = Field(default=None, ge=1)


class SignIn(Strict):
    password: str = Field(min_length=1, max_length=256)
    comment: str = Field(default="", max_length=4000)


class ReferenceIn(Strict):
    product: str = Field(min_length=1, max_length=200)
    document_reference: str = Field(min_length=1, max_length=100)
    expected_terms: list[str] = Field(min_length=1, max_length=2000)


class ReferenceOut(BaseModel):
    product: str
    document_reference: str
    expected_terms: list[str]
    updated_at: datetime


class ProductOut(BaseModel):
    product: str
    role: str
    lot_number: str
    lot_id: int | None
    authorisation_number: str
    dose_value: str | None
    dose_unit: str
    route: str


class EventOut(BaseModel):
    verbatim: str
    meddra_code: str
    onset: date | None
    seriousness: list[str]


class VersionOut(BaseModel):
    case_version: int
    source: str
    source_reference: str
    received_at: datetime
    changes: dict[str, Any]
    recorded_at: datetime


class ClockOut(BaseModel):
    region: str
    code: str
    days: int
    title: str
    basis: str
    due_on: date
    overdue: bool


class RuleOut(BaseModel):
    code: str
    title: str
    basis: str
    passed: bool
    found: str


class CaseSummary(BaseModel):
    id: int
    number: str
    status: str
    source: str
    source_reference: str
    first_received_at: datetime
    day_zero: date | None
    serious: bool
    next_due: date | None
    next_due_region: str | None
    overdue: bool


class CaseOut(BaseModel):
    id: int
    number: str
    status: str
    version: int
    case_version: int
    source: str
    source_reference: str
    report_type: str
    first_received_at: datetime
    latest_received_at: datetime
    day_zero: date | None
    patient_initials: str
    patient_age_years: str | None
    patient_sex: str | None
    patient_weight_kg: str | None
    reporter_type: str | None
    reporter_country: str | None
    narrative: str
    findings: list[dict[str, Any]]
    serious: bool
    seriousness: list[str]
    expectedness: str | None
    expectedness_basis: str
    causality: str | None
    causality_reasoning: str
    products: list[ProductOut]
    events: list[EventOut]
    validity: list[RuleOut]
    clocks: list[ClockOut]
    versions: list[VersionOut]
    signatures: list[SignatureOut]
    links: LinksOut


class MergeIn(Strict):
    into_id: int
    reason: str = Field(min_length=1, max_length=4000)


class ScorePartOut(BaseModel):
    field: str
    agrees: bool | None
    weight: float
    detail: str


class DuplicateOut(BaseModel):
    case_id: int
    number: str
    score: float
    verdict: str
    explanation: str
    parts: list[ScorePartOut]
