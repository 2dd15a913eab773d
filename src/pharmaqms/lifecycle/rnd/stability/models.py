"""Stability tables: the study and its protocol, its scheduled pulls, the results (sealed:
a result is never changed) and the quarantine of results that don't fit the protocol.

The protocol (storage conditions with their time points, attributes with their specification,
batches) is held on the study as JSON: it is one document, approved and signed as a whole
(ICH Q1A(R2) §2.2.11 asks for a written protocol), and never edited after approval."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, GxPRecord, SealedData


class StudyStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    COMPLETED = "completed"


class PullStatus(StrEnum):
    SCHEDULED = "scheduled"
    PULLED = "pulled"


class ResultSource(StrEnum):
    ENTERED = "entered"
    LIMS = "lims"


class StabilityStudy(GxPRecord, Base):
    """A stability study of a product: its protocol and its status. ``conditions``:
    ``[{"code": "25C60RH", "role": "long_term", "time_points": [0, 3, …]}]``; ``attributes``:
    ``[{"code": "ASSAY", "name": "Assay", "unit": "%", "lower": 95.0, "upper": 105.0}]``;
    ``batches``: the lot numbers on study. Time points are months from ``start_on``."""

    __tablename__ = "stability_studies"
    __audit_type__ = "stability_study"
    __number_prefix__ = "STB"
    __draft_states__ = frozenset({StudyStatus.DRAFT.value})

    product_code: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    purpose: Mapped[str] = mapped_column(Text, nullable=False, default="")
    start_on: Mapped[date] = mapped_column(Date, nullable=False)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False)
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False)
    batches: Mapped[list[str]] = mapped_column(JSONText, nullable=False)


class StabilityPull(Audited, Base):
    """A scheduled pull: the samples of every batch taken out of one storage condition at one
    time point, due on ``due_on``. Opened as a task for the lab when the protocol is approved;
    done when the pull is recorded (or its first result arrives)."""

    __tablename__ = "stability_pulls"
    __audit_type__ = "stability_pull"
    __table_args__ = (UniqueConstraint("study_id", "condition", "months"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(
        ForeignKey("stability_studies.id"), nullable=False, index=True
    )
    condition: Mapped[str] = mapped_column(String(20), nullable=False)
    months: Mapped[float] = mapped_column(Float, nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    pulled_at: Mapped[datetime | None] = mapped_column()
    pulled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def audit_label(self) -> str:
        return f"pull {self.condition} at {self.months:g} months of study #{self.study_id}"


class StabilityResult(SealedData, Base):
    """A result of one batch, attribute and pull, entered by an analyst or taken over from the
    LIMS (``test_result_id``). Its judgement is recorded with it: ``oos`` against the
    protocol's specification, ``oot_reason`` against the batch's earlier trend (``q1e``)."""

    __tablename__ = "stability_results"
    __table_args__ = (UniqueConstraint("test_result_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(
        ForeignKey("stability_studies.id"), nullable=False, index=True
    )
    pull_id: Mapped[int] = mapped_column(ForeignKey("stability_pulls.id"), nullable=False)
    batch: Mapped[str] = mapped_column(String(40), nullable=False)
    attribute: Mapped[str] = mapped_column(String(40), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    oos: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    oot_reason: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(10), nullable=False)
    test_result_id: Mapped[int | None] = mapped_column(ForeignKey("test_results.id"))
    recorded_at: Mapped[datetime] = mapped_column(nullable=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)


class QuarantinedStabilityResult(SealedData, Base):
    """A result that does not fit its study's protocol (an unknown batch, storage condition,
    time point or attribute; a LIMS sample naming no study), kept as received with the reason:
    never dropped, and shown on the study page for QA to resolve."""

    __tablename__ = "stability_quarantine"
    __table_args__ = (UniqueConstraint("test_result_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int | None] = mapped_column(ForeignKey("stability_studies.id"), index=True)
    source: Mapped[str] = mapped_column(String(10), nullable=False)
    received: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    test_result_id: Mapped[int | None] = mapped_column(ForeignKey("test_results.id"))
    received_at: Mapped[datetime] = mapped_column(nullable=False)
    received_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
