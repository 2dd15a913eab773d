"""API shapes of process monitoring."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict

ALL_RULES = [1, 2, 3, 4, 5, 6, 7, 8]


class ParameterIn(Strict):
    product_code: str = Field(min_length=1, max_length=40)
    unit_procedure: str = Field(default="", max_length=80)
    operation: str = Field(default="", max_length=80)
    phase: str = Field(default="", max_length=80)
    parameter: str = Field(min_length=1, max_length=80)
    title: str = Field(default="", max_length=200)
    unit: str = Field(default="", max_length=20)
    classification: str = Field(max_length=10)
    chart_kind: str = Field(max_length=10)
    subgroup_size: int = Field(default=1, ge=1, le=25)
    rule_set: str = Field(default="nelson", max_length=20)
    rules: list[int] = Field(default_factory=lambda: list(ALL_RULES), max_length=8)
    lsl: float | None = None
    usl: float | None = None
    target: float | None = None
    alert_roles: list[str] = Field(
        default_factory=lambda: ["production_supervisor", "qa"], max_length=10
    )


class ParameterConfiguration(Strict):
    reason: str = Field(min_length=1, max_length=2000)
    rule_set: str | None = Field(default=None, max_length=20)
    rules: list[int] | None = Field(default=None, max_length=8)
    lsl: float | None = None
    usl: float | None = None
    target: float | None = None
    alert_roles: list[str] | None = Field(default=None, max_length=10)
    expected_version: int | None = Field(default=None, ge=1)


class ReferenceIn(Strict):
    """Either the reference batches (lot numbers) or a window [start, end)."""

    batches: list[str] = Field(default_factory=list, max_length=500)
    start: datetime | None = None
    end: datetime | None = None


class LimitsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    version: int
    parameter_id: int
    revision: int
    chart_kind: str
    subgroup_size: int
    center: float
    sigma: float
    location_sigma: float
    lcl: float
    ucl: float
    dispersion_center: float
    dispersion_lcl: float
    dispersion_ucl: float
    reference_kind: str
    reference_batches: list[str]
    reference_from: datetime
    reference_to: datetime
    reference_points: int
    reference_subgroups: int
    effective_from: datetime | None
    signatures: list[SignatureOut] = []


class ParameterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    version: int
    title: str
    product_code: str
    unit_procedure: str
    operation: str
    phase: str
    parameter: str
    unit: str
    classification: str
    chart_kind: str
    subgroup_size: int
    rule_set: str
    rules: list[int]
    lsl: float | None
    usl: float | None
    target: float | None
    alert_roles: list[str] = Field(validation_alias="roles")
    limits_in_force: LimitsOut | None = None
    open_alerts: int = 0


class GroupIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    parameter_ids: list[int] = Field(min_length=2, max_length=20)
    alpha: float = Field(default=0.0027, gt=0, lt=0.5)
    alert_roles: list[str] = Field(
        default_factory=lambda: ["production_supervisor", "qa"], max_length=10
    )


class GroupLimitsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    version: int
    group_id: int
    revision: int
    parameters: list[str]
    mean: list[float]
    covariance: list[list[float]]
    reference_size: int
    alpha: float
    ucl: float
    reference_kind: str
    reference_batches: list[str]
    reference_from: datetime
    reference_to: datetime
    effective_from: datetime | None
    signatures: list[SignatureOut] = []


class GroupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    version: int
    title: str
    product_code: str
    unit_procedure: str
    operation: str
    phase: str
    parameter_ids: list[int]
    alpha: float
    alert_roles: list[str] = Field(validation_alias="roles")
    limits_in_force: GroupLimitsOut | None = None


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    version: int
    subject: str
    parameter_id: int | None
    limits_id: int | None
    group_id: int | None
    group_limits_id: int | None
    batch_id: int
    batch: str = ""
    reading_id: int | None
    measured_at: datetime
    rule_set: str
    rule: int
    rule_name: str
    point_index: int
    value: float
    center: float | None
    lcl: float | None
    ucl: float
    sigma: float | None
    acknowledgement: str
    acknowledged_by_id: int | None
    acknowledged_at: datetime | None
    deviation_id: int | None
    deviation_number: str = ""
    escalated_at: datetime | None
    created_at: datetime


class AcknowledgementIn(Strict):
    comment: str = Field(min_length=1, max_length=2000)
    expected_version: int | None = Field(default=None, ge=1)


class EscalationIn(Strict):
    comment: str = Field(default="", max_length=2000)
    expected_version: int | None = Field(default=None, ge=1)


class PointOut(BaseModel):
    index: int
    value: float
    dispersion: float | None
    batch: str
    measured_at: datetime
    rules: list[int]


class ChartOut(BaseModel):
    parameter_id: int
    limits: LimitsOut | None
    points: list[PointOut]
    open_alerts: int
    stamp: str


class IndicesOut(BaseModel):
    mean: float
    sigma_within: float
    sigma_overall: float
    cp: float | None
    cpk: float
    pp: float | None
    ppk: float
    cpm: float | None


class CapabilityOut(BaseModel):
    start: datetime
    end: datetime
    readings: int
    points: int
    indices: IndicesOut | None
    reason: str | None


class MonthlyCapabilityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    month: date
    readings: int
    points: int
    cp: float | None
    cpk: float | None
    pp: float | None
    ppk: float | None
    reason: str | None
