"""API shapes of the production KPIs."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class MonthlyRateOut(BaseModel):
    month: date
    numerator: int
    denominator: int
    rate: float | None


class CycleTimeOut(BaseModel):
    month: date
    releases: int
    median_hours: float | None
    p90_hours: float | None


class TestOosOut(BaseModel):
    test_code: str
    months: list[MonthlyRateOut]


class CapabilityMonthOut(BaseModel):
    month: date
    points: int
    cpk: float | None
    ppk: float | None
    reason: str | None


class CapabilityOut(BaseModel):
    parameter_id: int
    subject: str
    months: list[CapabilityMonthOut]


class KpisOut(BaseModel):
    product_code: str
    product_name: str
    months: list[date]
    failure_rate: list[MonthlyRateOut]
    right_first_time: list[MonthlyRateOut]
    cycle_time: list[CycleTimeOut]
    oos: list[TestOosOut]
    capability: list[CapabilityOut]
