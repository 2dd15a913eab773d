"""A stored route plan: the request and the explained plan exactly as computed when it was
saved (JSON), with its headline figures; approved by an electronic signature, so what was
dispatched, and why, can be shown later."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import GxPRecord


class RoutePlanStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    CANCELLED = "cancelled"


class RoutePlan(GxPRecord, Base):
    __tablename__ = "route_plans"
    __audit_type__ = "route_plan"
    __number_prefix__ = "RTE"
    __draft_states__ = frozenset({"draft"})
    __signed_fields__ = ("request", "result", "km", "stops_served", "stops_dropped")

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    season: Mapped[str] = mapped_column(String(10), nullable=False)
    request: Mapped[str] = mapped_column(Text, nullable=False)
    result: Mapped[str] = mapped_column(Text, nullable=False)
    km: Mapped[float] = mapped_column(Float, nullable=False)
    stops_served: Mapped[int] = mapped_column(Integer, nullable=False)
    stops_dropped: Mapped[int] = mapped_column(Integer, nullable=False)
    exposure_min: Mapped[float] = mapped_column(Float, nullable=False)
