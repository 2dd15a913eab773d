"""Complaints: a report from outside that a product may be defective or may have harmed
someone. Triage separates the quality complaint from the adverse event, which is handed over to
pharmacovigilance."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import GxPRecord


class ComplaintStatus(StrEnum):
    RECEIVED = "received"
    INVESTIGATION = "investigation"
    RESPONSE = "response"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (
    ComplaintStatus.RECEIVED,
    ComplaintStatus.INVESTIGATION,
    ComplaintStatus.RESPONSE,
)


class ComplainantType(StrEnum):
    PATIENT = "patient"
    HEALTHCARE_PROFESSIONAL = "healthcare_professional"
    PHARMACIST = "pharmacist"
    WHOLESALER = "wholesaler"
    AUTHORITY = "authority"
    OTHER = "other"


class ComplaintCategory(StrEnum):
    QUALITY = "quality"
    ADVERSE_EVENT = "adverse_event"
    QUALITY_AND_ADVERSE_EVENT = "quality_and_adverse_event"


ADVERSE_EVENT_CATEGORIES = (
    ComplaintCategory.ADVERSE_EVENT,
    ComplaintCategory.QUALITY_AND_ADVERSE_EVENT,
)


class Criticality(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class HandoverStatus(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"


class Complaint(GxPRecord, Base):
    __tablename__ = "complaints"
    __audit_type__ = "complaint"
    __number_prefix__ = "CMP"
    __draft_states__ = frozenset({ComplaintStatus.RECEIVED.value})
    # The complainant's contact details are personal data: the trail records that they
    # changed, not what they are.
    __audit_masked__ = frozenset({"complainant_contact"})
    __table_args__ = (
        Index("ix_complaints_product_lot", "product", "lot"),
        Index("ix_complaints_status", "status"),
    )
    __signed_fields__ = (
        "product",
        "lot",
        "complainant_name",
        "complainant_type",
        "received_at",
        "description",
        "category",
        "criticality",
        "triage_rationale",
        "investigation_summary",
        "complaint_confirmed",
        "root_cause",
        "response_text",
        "responded_at",
    )

    product: Mapped[str] = mapped_column(String(200), nullable=False)
    lot: Mapped[str] = mapped_column(String(60), nullable=False)
    complainant_name: Mapped[str] = mapped_column(String(200), nullable=False)
    complainant_type: Mapped[str] = mapped_column(String(30), nullable=False)
    complainant_contact: Mapped[str] = mapped_column(Text, nullable=False, default="")
    received_at: Mapped[datetime] = mapped_column(nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)
    category: Mapped[str | None] = mapped_column(String(30))
    criticality: Mapped[str | None] = mapped_column(String(20))
    triage_rationale: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Adverse events go to pharmacovigilance: pending until a PV officer acknowledges them.
    pv_handover_status: Mapped[str | None] = mapped_column(String(20))
    pv_handover_at: Mapped[datetime | None] = mapped_column()
    pv_reference: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    pv_acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    pv_acknowledged_at: Mapped[datetime | None] = mapped_column()
    investigator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    investigation_summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    complaint_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    root_cause: Mapped[str] = mapped_column(Text, nullable=False, default="")
    response_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    responded_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        # The investigation and the response are written in their own steps; entering them
        # is not a correction. Changing the intake or the triage afterwards is.
        working = {
            ComplaintStatus.INVESTIGATION: INVESTIGATION_FIELDS | HANDOVER_FIELDS,
            ComplaintStatus.RESPONSE: RESPONSE_FIELDS | HANDOVER_FIELDS,
        }.get(ComplaintStatus(previous_status) if previous_status else ComplaintStatus.RECEIVED)
        if working is not None:
            return bool(changed - working)
        return super().reason_required_for(changed, previous_status)


INVESTIGATION_FIELDS = frozenset(
    {"investigation_summary", "complaint_confirmed", "root_cause", "investigator_id"}
)
RESPONSE_FIELDS = frozenset({"response_text", "responded_at"})
HANDOVER_FIELDS = frozenset(
    {
        "pv_handover_status",
        "pv_handover_at",
        "pv_reference",
        "pv_acknowledged_by_id",
        "pv_acknowledged_at",
    }
)
