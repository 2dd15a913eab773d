"""API input and output of the cold chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict


class ProfileIn(Strict):
    location_code: str | None = Field(default=None, max_length=60)
    shipment_code: str | None = Field(default=None, max_length=60)
    low_c: float | None = None
    high_c: float | None = None
    pre_low_c: float | None = None
    pre_high_c: float | None = None
    pre_delay_min: float = Field(default=10.0, ge=0)
    alarm_low_c: float | None = None
    alarm_high_c: float | None = None
    alarm_delay_min: float = Field(default=30.0, ge=0)
    interval_min: float = Field(default=5.0, gt=0)
    silent_intervals: int = Field(default=3, ge=1, le=1000)
    acknowledge_within_min: float = Field(default=30.0, gt=0)
    responder_role: str = Field(default="logistics", max_length=60)
    escalation_role: str = Field(default="qa", max_length=60)
    reason: str = Field(min_length=1, max_length=2000)


class ProfileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    place_code: str
    revision: int
    condition: str
    low_c: float | None
    high_c: float | None
    pre_low_c: float | None
    pre_high_c: float | None
    pre_delay_min: float
    alarm_low_c: float | None
    alarm_high_c: float | None
    alarm_delay_min: float
    interval_min: float
    silent_intervals: int
    acknowledge_within_min: float
    responder_role: str
    escalation_role: str
    effective_from: datetime
    superseded_at: datetime | None


class AlarmOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    version: int
    kind: str
    place_code: str
    sensor_id: int
    profile_id: int | None
    profile_revision: int | None
    limit_low_c: float | None
    limit_high_c: float | None
    delay_min: float | None
    breach: str | None
    started_at: datetime
    triggered_at: datetime
    ended_at: datetime | None
    temperature_c: float | None
    detail: str
    raised_at: datetime
    acknowledge_due_at: datetime
    acknowledgement: str
    acknowledged_at: datetime | None
    assessment: str
    assessed_at: datetime | None
    closure: str
    closed_at: datetime | None
    escalation_level: int
    escalated_to: str | None
    excursion_id: int | None
    overdue: bool = False
    unacknowledged: bool = False


class CommentIn(Strict):
    comment: str = Field(min_length=1, max_length=2000)
    expected_version: int | None = Field(default=None, ge=1)


class ExcursionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    place_code: str
    profile_revision: int
    low_c: float | None
    high_c: float | None
    started_at: datetime
    ended_at: datetime | None
    duration_min: float
    min_c: float
    max_c: float
    degree_minutes: float
    side: str
    gap_before: bool
    gap_after: bool
    mkt_c: float | None
    mkt_hours: float | None
    unknown_minutes: float
    disposition: str | None
    lots: list[dict[str, Any]] = []
    assessment: AssessmentOut | None = None


class AssessmentIn(Strict):
    disposition: str = Field(min_length=1, max_length=20)
    rationale: str = Field(min_length=1, max_length=4000)
    password: str = Field(min_length=1, max_length=200)


class AssessmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    disposition: str
    rationale: str
    budget_exceeded: bool
    deviation_id: int | None
    signatures: list[SignatureOut] = []


class LotIn(Strict):
    lot_number: str = Field(min_length=1, max_length=40)
    item_code: str | None = Field(default=None, max_length=40)


class BandIn(Strict):
    name: str = Field(min_length=1, max_length=60)
    low_c: float | None = None
    high_c: float | None = None
    allowed_h: float = Field(ge=0)


class BudgetIn(Strict):
    bands: list[BandIn] = Field(min_length=1, max_length=20)
    basis: str = Field(min_length=1, max_length=2000)


ExcursionOut.model_rebuild()
