"""Real-time process monitoring (SPC): the monitored parameters of a product's process step, the
control limits they are judged against (a versioned record, estimated from a reference period
and approved by signature), the Hotelling T² groups of correlated parameters with their own
limits, and the alerts the live evaluation raises.

A parameter is named in ISA-88 terms: product, unit procedure, operation, phase, parameter —
the same words the MES uses for the process readings the platform stores, so a reading finds
its parameter without any mapping table.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import GxPRecord

ISA88 = 80


class ParameterClass(StrEnum):
    CPP = "CPP"  # critical process parameter (set or measured on the equipment)
    CQA = "CQA"  # critical quality attribute (measured on the product in process)


class MonitoringStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # not evaluated, e.g. during a qualification or a line change


class LimitsStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"  # in force from ``effective_from``
    SUPERSEDED = "superseded"  # a later revision was approved
    WITHDRAWN = "withdrawn"  # a draft that was never approved


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"  # a deviation was raised from it


class ReferenceKind(StrEnum):
    BATCHES = "batches"
    WINDOW = "window"


def _roles(value: str) -> tuple[str, ...]:
    return tuple(role for role in value.split(",") if role)


class MonitoredParameter(GxPRecord, Base):
    """A CPP or CQA of one step of a product, with how it is charted and judged."""

    __tablename__ = "spc_parameters"
    __audit_type__ = "monitored_parameter"
    __number_prefix__ = "MP"
    __draft_states__ = frozenset()
    __table_args__ = (
        UniqueConstraint("product_code", "unit_procedure", "operation", "phase", "parameter"),
        Index("ix_spc_parameters_parameter", "parameter"),
    )

    product_code: Mapped[str] = mapped_column(String(40), nullable=False)
    unit_procedure: Mapped[str] = mapped_column(String(ISA88), nullable=False, default="")
    operation: Mapped[str] = mapped_column(String(ISA88), nullable=False, default="")
    phase: Mapped[str] = mapped_column(String(ISA88), nullable=False, default="")
    parameter: Mapped[str] = mapped_column(String(ISA88), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    classification: Mapped[str] = mapped_column(String(10), nullable=False)
    chart_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    subgroup_size: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    rule_set: Mapped[str] = mapped_column(String(20), nullable=False)
    # The rule numbers switched on, ascending, comma-separated ("1,2,3,5").
    enabled_rules: Mapped[str] = mapped_column(String(40), nullable=False)
    lsl: Mapped[float | None] = mapped_column(Float)
    usl: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    # The roles whose inbox gets an alert, comma-separated.
    alert_roles: Mapped[str] = mapped_column(String(200), nullable=False)

    @property
    def rules(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.enabled_rules.split(",") if n)

    @property
    def roles(self) -> tuple[str, ...]:
        return _roles(self.alert_roles)

    @property
    def step(self) -> str:
        return " / ".join(p for p in (self.unit_procedure, self.operation, self.phase) if p)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """The series key of its readings (see ``series.SeriesKey``)."""
        return (self.product_code, self.unit_procedure, self.operation, self.phase, self.parameter)

    def audit_label(self) -> str:
        return f"{self.number} {self.title}"


class ControlLimits(GxPRecord, Base):
    """One revision of a parameter's control limits: the centre, sigma and 3σ limits of its
    chart, the reference they were estimated from, and (once approved) when they apply from."""

    __tablename__ = "spc_control_limits"
    __audit_type__ = "control_limits"
    __number_prefix__ = "CL"
    __table_args__ = (
        UniqueConstraint("parameter_id", "revision"),
        Index("ix_spc_control_limits_parameter_status", "parameter_id", "status"),
    )
    # What the approver signs: the numbers and where they come from. ``effective_from`` is set
    # by the approval itself, so it must not invalidate the signature it follows.
    __signed_fields__ = (
        "parameter_id",
        "revision",
        "chart_kind",
        "subgroup_size",
        "center",
        "sigma",
        "location_sigma",
        "lcl",
        "ucl",
        "dispersion_center",
        "dispersion_lcl",
        "dispersion_ucl",
        "reference_kind",
        "reference_batches",
        "reference_from",
        "reference_to",
        "reference_points",
        "reference_subgroups",
    )

    parameter_id: Mapped[int] = mapped_column(ForeignKey("spc_parameters.id"), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    chart_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    subgroup_size: Mapped[int] = mapped_column(Integer, nullable=False)
    center: Mapped[float] = mapped_column(Float, nullable=False)
    sigma: Mapped[float] = mapped_column(Float, nullable=False)
    location_sigma: Mapped[float] = mapped_column(Float, nullable=False)
    lcl: Mapped[float] = mapped_column(Float, nullable=False)
    ucl: Mapped[float] = mapped_column(Float, nullable=False)
    dispersion_center: Mapped[float] = mapped_column(Float, nullable=False)
    dispersion_lcl: Mapped[float] = mapped_column(Float, nullable=False)
    dispersion_ucl: Mapped[float] = mapped_column(Float, nullable=False)
    reference_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    reference_batches: Mapped[list[str]] = mapped_column(JSONText, nullable=False)
    reference_from: Mapped[datetime] = mapped_column(nullable=False)
    reference_to: Mapped[datetime] = mapped_column(nullable=False)
    reference_points: Mapped[int] = mapped_column(Integer, nullable=False)
    reference_subgroups: Mapped[int] = mapped_column(Integer, nullable=False)
    effective_from: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return f"{self.number} (revision {self.revision})"


class MultivariateGroup(GxPRecord, Base):
    """Correlated parameters of one step watched together with a Hotelling T² chart."""

    __tablename__ = "spc_multivariate_groups"
    __audit_type__ = "multivariate_group"
    __number_prefix__ = "MV"
    __draft_states__ = frozenset()

    product_code: Mapped[str] = mapped_column(String(40), nullable=False)
    unit_procedure: Mapped[str] = mapped_column(String(ISA88), nullable=False, default="")
    operation: Mapped[str] = mapped_column(String(ISA88), nullable=False, default="")
    phase: Mapped[str] = mapped_column(String(ISA88), nullable=False, default="")
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    # The monitored parameters' ids, in the order of the observation vector.
    parameter_ids: Mapped[list[int]] = mapped_column(JSONText, nullable=False)
    alpha: Mapped[float] = mapped_column(Float, nullable=False)
    alert_roles: Mapped[str] = mapped_column(String(200), nullable=False)

    @property
    def roles(self) -> tuple[str, ...]:
        return _roles(self.alert_roles)

    @property
    def step(self) -> str:
        return " / ".join(p for p in (self.unit_procedure, self.operation, self.phase) if p)

    def audit_label(self) -> str:
        return f"{self.number} {self.title}"


class MultivariateLimits(GxPRecord, Base):
    """One revision of a T² group's phase I estimates (mean vector, covariance) and its phase II
    upper control limit."""

    __tablename__ = "spc_multivariate_limits"
    __audit_type__ = "multivariate_limits"
    __number_prefix__ = "MVL"
    __table_args__ = (
        UniqueConstraint("group_id", "revision"),
        Index("ix_spc_multivariate_limits_group_status", "group_id", "status"),
    )
    __signed_fields__ = (
        "group_id",
        "revision",
        "parameters",
        "mean",
        "covariance",
        "reference_size",
        "alpha",
        "ucl",
        "reference_kind",
        "reference_batches",
        "reference_from",
        "reference_to",
    )

    group_id: Mapped[int] = mapped_column(ForeignKey("spc_multivariate_groups.id"), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    parameters: Mapped[list[str]] = mapped_column(JSONText, nullable=False)
    mean: Mapped[list[float]] = mapped_column(JSONText, nullable=False)
    covariance: Mapped[list[list[float]]] = mapped_column(JSONText, nullable=False)
    reference_size: Mapped[int] = mapped_column(Integer, nullable=False)
    alpha: Mapped[float] = mapped_column(Float, nullable=False)
    ucl: Mapped[float] = mapped_column(Float, nullable=False)
    reference_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    reference_batches: Mapped[list[str]] = mapped_column(JSONText, nullable=False)
    reference_from: Mapped[datetime] = mapped_column(nullable=False)
    reference_to: Mapped[datetime] = mapped_column(nullable=False)
    effective_from: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return f"{self.number} (revision {self.revision})"


class ProcessAlert(GxPRecord, Base):
    """A rule broken by the live evaluation: which rule, at which point of which chart, with
    the value and the limits it was judged against."""

    __tablename__ = "spc_alerts"
    __audit_type__ = "process_alert"
    __number_prefix__ = "SPC"
    __draft_states__ = frozenset()
    __table_args__ = (
        Index("ix_spc_alerts_status", "status"),
        Index("ix_spc_alerts_parameter", "parameter_id", "id"),
        Index("ix_spc_alerts_group", "group_id", "id"),
    )

    parameter_id: Mapped[int | None] = mapped_column(ForeignKey("spc_parameters.id"))
    limits_id: Mapped[int | None] = mapped_column(ForeignKey("spc_control_limits.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("spc_multivariate_groups.id"))
    group_limits_id: Mapped[int | None] = mapped_column(ForeignKey("spc_multivariate_limits.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False, index=True)
    # The reading that completed the point (the last reading of a subgroup or a T² vector).
    reading_id: Mapped[int | None] = mapped_column(ForeignKey("process_readings.id"))
    measured_at: Mapped[datetime] = mapped_column(nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    rule_set: Mapped[str] = mapped_column(String(20), nullable=False)
    rule: Mapped[int] = mapped_column(Integer, nullable=False)
    rule_name: Mapped[str] = mapped_column(String(120), nullable=False)
    point_index: Mapped[int] = mapped_column(Integer, nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    center: Mapped[float | None] = mapped_column(Float)
    lcl: Mapped[float | None] = mapped_column(Float)
    ucl: Mapped[float] = mapped_column(Float, nullable=False)
    sigma: Mapped[float | None] = mapped_column(Float)
    # One alert per rule and point, whichever process evaluated it first.
    dedupe_key: Mapped[str] = mapped_column(String(160), nullable=False, unique=True)
    acknowledgement: Mapped[str] = mapped_column(Text, nullable=False, default="")
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    deviation_id: Mapped[int | None] = mapped_column(ForeignKey("deviations.id"))
    escalated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    escalated_at: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return self.number or f"process_alert#{self.id}"

    @property
    def rule_label(self) -> str:
        if self.rule_set == "hotelling":
            return "T²"
        if self.rule_set == "data_quality":
            return "Data quality"
        if self.rule_set == "dispersion":
            return "Dispersion"
        family = "Nelson" if self.rule_set == "nelson" else "WE"
        return f"{family} {self.rule}"

    def snapshot(self) -> dict[str, Any]:
        """What the live chart page needs of an alert."""
        return {
            "id": self.id,
            "number": self.number,
            "status": self.status,
            "rule": self.rule_label,
            "rule_name": self.rule_name,
            "point_index": self.point_index,
            "measured_at": self.measured_at.isoformat(),
            "value": self.value,
        }
