"""Deviations: an unplanned departure from an approved procedure, specification or condition,
with its classification, investigation, affected batches and due-date extensions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, GxPRecord

if TYPE_CHECKING:
    from pharmaqms.quality.capa.models import Capa


class DeviationStatus(StrEnum):
    REPORTED = "reported"
    INVESTIGATION = "investigation"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (
    DeviationStatus.REPORTED,
    DeviationStatus.INVESTIGATION,
    DeviationStatus.PENDING_APPROVAL,
    DeviationStatus.APPROVED,
)


class DeviationClass(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class RootCauseCategory(StrEnum):
    """The six bones of the Ishikawa (fishbone) diagram."""

    MAN = "man"
    MACHINE = "machine"
    METHOD = "method"
    MATERIAL = "material"
    MEASUREMENT = "measurement"
    ENVIRONMENT = "environment"


class CapaDecision(StrEnum):
    CAPA = "capa"
    NO_CAPA = "no_capa"


class HoldStatus(StrEnum):
    # Placed on hold by the batch platform.
    ON_HOLD = "on_hold"
    # No batch platform is connected yet: the hold has to be placed by hand, and says so.
    HOLD_REQUESTED = "hold_requested"


class BatchDisposition(StrEnum):
    """What the deviation means for a batch, decided before the deviation closes."""

    NO_IMPACT = "no_impact"
    RELEASE_PERMITTED = "release_permitted"
    REPROCESS = "reprocess"
    REJECT = "reject"


class ExtensionStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


class Deviation(GxPRecord, Base):
    __tablename__ = "deviations"
    __audit_type__ = "deviation"
    __number_prefix__ = "DEV"
    __draft_states__ = frozenset({DeviationStatus.REPORTED.value})
    # What approval and closure signatures cover: the report, its classification and the
    # investigation — not the due date or other bookkeeping that moves afterwards.
    # Classification is QA's review of the report (ICH Q9 triage), not authorship: the QA who
    # classified may approve the investigation later. The report itself (what happened, the
    # immediate actions) stays authorship, whoever wrote it.
    __review_fields__ = frozenset(
        {
            "classification",
            "severity",
            "probability",
            "detectability",
            "severity_basis",
            "probability_basis",
            "detectability_basis",
            "investigator_id",
        }
    )
    __signed_fields__ = (
        "title",
        "description",
        "area",
        "product",
        "occurred_at",
        "discovered_at",
        "classification",
        "severity",
        "probability",
        "detectability",
        "severity_basis",
        "probability_basis",
        "detectability_basis",
        "immediate_actions",
        "investigator_id",
        "root_cause",
        "root_cause_category",
        "why_chain",
        "fishbone",
        "capa_decision",
        "no_capa_rationale",
    )

    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    area: Mapped[str] = mapped_column(String(100), nullable=False)
    product: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    discovered_at: Mapped[datetime] = mapped_column(nullable=False)
    immediate_actions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Classification with its ICH Q9 basis: scores 1 (lowest) to 5; detectability 5 means the
    # failure would hardly be detected before reaching the patient.
    classification: Mapped[str | None] = mapped_column(String(20))
    severity: Mapped[int | None] = mapped_column(Integer)
    probability: Mapped[int | None] = mapped_column(Integer)
    detectability: Mapped[int | None] = mapped_column(Integer)
    severity_basis: Mapped[str] = mapped_column(Text, nullable=False, default="")
    probability_basis: Mapped[str] = mapped_column(Text, nullable=False, default="")
    detectability_basis: Mapped[str] = mapped_column(Text, nullable=False, default="")
    investigator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    root_cause: Mapped[str] = mapped_column(Text, nullable=False, default="")
    root_cause_category: Mapped[str | None] = mapped_column(String(20))
    # The 5-why chain: each answer is the cause of the one before it.
    why_chain: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    # Ishikawa: category (man, machine, …) → contributing factors found.
    fishbone: Mapped[dict[str, list[str]]] = mapped_column(JSONText, nullable=False, default=dict)
    capa_decision: Mapped[str | None] = mapped_column(String(20))
    no_capa_rationale: Mapped[str] = mapped_column(Text, nullable=False, default="")
    due_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()

    batches: Mapped[list[DeviationBatch]] = relationship(
        back_populates="deviation", order_by="DeviationBatch.id"
    )
    extensions: Mapped[list[DeviationExtension]] = relationship(
        back_populates="deviation", order_by="DeviationExtension.id"
    )
    # The CAPAs raised from this deviation, through the quality links, as they stand now: the
    # CAPA decision rests on them (a cancelled one doesn't count), not on the flag set when the
    # first was raised. Read-only: links are written by ``quality.links``.
    capas: Mapped[list[Capa]] = relationship(
        "Capa",
        secondary="quality_links",
        primaryjoin="and_(QualityLink.source_type == 'deviation', "
        "foreign(QualityLink.source_id) == Deviation.id)",
        secondaryjoin="and_(QualityLink.target_type == 'capa', "
        "foreign(QualityLink.target_id) == Capa.id)",
        viewonly=True,
        order_by="Capa.id",
    )

    __table_args__ = (Index("ix_deviations_status_due", "status", "due_at"),)

    def signed_content(self) -> dict[str, Any]:
        content = super().signed_content()
        content["batches"] = [
            {"batch": b.batch_id, "impact_assessment": b.impact_assessment} for b in self.batches
        ]
        return content

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        # The investigation is written during the investigation: entering it is not a change
        # that needs a reason. Changing the report or anything once submitted is.
        if previous_status == DeviationStatus.INVESTIGATION:
            return bool(changed - INVESTIGATION_FIELDS)
        return super().reason_required_for(changed, previous_status)


INVESTIGATION_FIELDS = frozenset(
    {
        "root_cause",
        "root_cause_category",
        "why_chain",
        "fishbone",
        "capa_decision",
        "no_capa_rationale",
    }
)


class DeviationBatch(Audited, Base):
    """A lot or batch the deviation affects or may affect. The batch is named by its identifier
    only: the data platform that will own batches is not here yet."""

    __tablename__ = "deviation_batches"
    __audit_type__ = "deviation_batch"
    __table_args__ = (UniqueConstraint("deviation_id", "batch_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviations.id"), nullable=False)
    batch_id: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    product: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    hold_status: Mapped[str] = mapped_column(String(20), nullable=False)
    impact_assessment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    disposition: Mapped[str | None] = mapped_column(String(20))
    disposition_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    disposition_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    disposition_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    deviation: Mapped[Deviation] = relationship(back_populates="batches")

    def audit_label(self) -> str:
        return f"batch {self.batch_id}"


class DeviationExtension(Audited, Base):
    """A request to move a deviation's due date, and QA's decision on it."""

    __tablename__ = "deviation_extensions"
    __audit_type__ = "deviation_extension"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviations.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    previous_due_at: Mapped[datetime] = mapped_column(nullable=False)
    requested_due_at: Mapped[datetime] = mapped_column(nullable=False)
    justification: Mapped[str] = mapped_column(Text, nullable=False)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")

    deviation: Mapped[Deviation] = relationship(back_populates="extensions")

    def audit_label(self) -> str:
        return f"extension #{self.id} of deviation {self.deviation_id}"
