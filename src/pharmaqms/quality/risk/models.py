"""Risk assessments (ICH Q9(R1)): an FMEA table attached to any record of the system."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import Audited, GxPRecord


class RiskStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    WITHDRAWN = "withdrawn"


class RiskAssessment(GxPRecord, Base):
    __tablename__ = "risk_assessments"
    __audit_type__ = "risk_assessment"
    __number_prefix__ = "RA"
    __table_args__ = (Index("ix_risk_assessments_subject", "subject_type", "subject_id"),)
    __signed_fields__ = (
        "title",
        "scope",
        "subject_type",
        "subject_id",
        "matrix_name",
        "acceptance_rationale",
    )

    title: Mapped[str] = mapped_column(String(300), nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    # The record assessed: any registered record type (a change request, a deviation, …).
    subject_type: Mapped[str] = mapped_column(String(60), nullable=False)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)
    subject_label: Mapped[str] = mapped_column(String(200), nullable=False)
    matrix_name: Mapped[str] = mapped_column(String(40), nullable=False)
    # Why the residual risk is acceptable where it stays high (ICH Q9 risk acceptance).
    acceptance_rationale: Mapped[str] = mapped_column(Text, nullable=False, default="")
    approved_at: Mapped[datetime | None] = mapped_column()

    items: Mapped[list[RiskItem]] = relationship(
        back_populates="assessment", order_by="RiskItem.id"
    )

    def signed_content(self) -> dict[str, Any]:
        content = super().signed_content()
        content["items"] = [item.row() for item in self.items]
        return content


class RiskItem(Audited, Base):
    """One line of the FMEA: a failure mode with its effect and cause, scored before and after
    the controls."""

    __tablename__ = "risk_items"
    __audit_type__ = "risk_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessments.id"), nullable=False, index=True
    )
    failure_mode: Mapped[str] = mapped_column(Text, nullable=False)
    effect: Mapped[str] = mapped_column(Text, nullable=False)
    cause: Mapped[str] = mapped_column(Text, nullable=False)
    severity: Mapped[int] = mapped_column(Integer, nullable=False)
    occurrence: Mapped[int] = mapped_column(Integer, nullable=False)
    detectability: Mapped[int] = mapped_column(Integer, nullable=False)
    rpn: Mapped[int] = mapped_column(Integer, nullable=False)
    risk_level: Mapped[str] = mapped_column(String(10), nullable=False)
    controls: Mapped[str] = mapped_column(Text, nullable=False, default="")
    residual_severity: Mapped[int | None] = mapped_column(Integer)
    residual_occurrence: Mapped[int | None] = mapped_column(Integer)
    residual_detectability: Mapped[int | None] = mapped_column(Integer)
    residual_rpn: Mapped[int | None] = mapped_column(Integer)
    residual_level: Mapped[str | None] = mapped_column(String(10))
    retired: Mapped[bool] = mapped_column(default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    assessment: Mapped[RiskAssessment] = relationship(back_populates="items")

    def audit_label(self) -> str:
        return f"risk item #{self.id} of assessment {self.assessment_id}"

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "failure_mode": self.failure_mode,
            "effect": self.effect,
            "cause": self.cause,
            "severity": self.severity,
            "occurrence": self.occurrence,
            "detectability": self.detectability,
            "rpn": self.rpn,
            "risk_level": self.risk_level,
            "controls": self.controls,
            "residual_severity": self.residual_severity,
            "residual_occurrence": self.residual_occurrence,
            "residual_detectability": self.residual_detectability,
            "residual_rpn": self.residual_rpn,
            "residual_level": self.residual_level,
            "retired": self.retired,
        }
