"""API input and output of stability studies. The shelf-life output is the same contract as
``pharmaqms stability shelf-life --json`` (``q1e.ShelfLife.as_json``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import Strict

Months = Field(ge=0, le=120)


class ConditionIn(Strict):
    code: str = Field(min_length=1, max_length=20)
    role: str = Field(min_length=1, max_length=20)
    time_points: list[float] = Field(min_length=1, max_length=20)


class AttributeIn(Strict):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(default="", max_length=100)
    unit: str = Field(default="", max_length=20)
    lower: float | None = None
    upper: float | None = None


class StudyIn(Strict):
    product_code: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    start_on: date
    conditions: list[ConditionIn] = Field(min_length=1, max_length=6)
    attributes: list[AttributeIn] = Field(min_length=1, max_length=30)
    batches: list[str] = Field(min_length=1, max_length=20)
    purpose: str = Field(default="", max_length=4000)


class ResultIn(Strict):
    batch: str = Field(min_length=1, max_length=40)
    condition: str = Field(min_length=1, max_length=20)
    months: float = Months
    attribute: str = Field(min_length=1, max_length=40)
    value: float
    unit: str = Field(default="", max_length=20)


class ResultsIn(Strict):
    results: list[ResultIn] = Field(min_length=1, max_length=2000)


class StudyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    status: str
    version: int
    product_code: str
    title: str
    purpose: str
    start_on: date
    conditions: list[dict[str, Any]]
    attributes: list[dict[str, Any]]
    batches: list[str]
    created_at: datetime


class PullOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    condition: str
    months: float
    due_on: date
    status: str
    pulled_at: datetime | None


class ResultOut(BaseModel):
    id: int
    batch: str
    condition: str
    months: float
    attribute: str
    value: float
    unit: str
    oos: bool
    oot_reason: str | None
    source: str
    recorded_at: datetime


class QuarantinedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str
    received: dict[str, Any]
    reason: str
    received_at: datetime


class StudyDetailOut(StudyOut):
    pulls: list[PullOut] = Field(default_factory=list)
    results: list[ResultOut] = Field(default_factory=list)
    quarantined: list[QuarantinedOut] = Field(default_factory=list)


class RecordedOut(BaseModel):
    stored: list[ResultOut]
    quarantined: list[QuarantinedOut]


class ShelfLifeOut(BaseModel):
    attribute: str
    condition: str
    # The shelf-life contract (as the CLI's --json), or None with the reason.
    estimate: dict[str, Any] | None
    refused: str | None


class BudgetBandIn(Strict):
    name: str = Field(min_length=1, max_length=60)
    low_c: float | None = Field(default=None, ge=-100, le=100)
    high_c: float | None = Field(default=None, ge=-100, le=100)
    allowed_h: float = Field(ge=0, le=100_000)


class BudgetIn(Strict):
    """The product's stability budget from this study, under a change control."""

    change_number: str = Field(min_length=1, max_length=60)
    bands: list[BudgetBandIn] = Field(min_length=1, max_length=20)


class BudgetOut(BaseModel):
    product_code: str
    study: str
    change: str
    bands: list[BudgetBandIn]
