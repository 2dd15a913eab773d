"""Change control (ICH Q10 §3.2.3, ICH Q12): a proposed change, its impact across the
lifecycle, the regulatory reporting category, the approval of every impacted function, the
implementation tasks and the review of its effectiveness."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import AddedLater, Audited, GxPRecord, SealedData


class ChangeStatus(StrEnum):
    DRAFT = "draft"
    IMPACT_ASSESSMENT = "impact_assessment"
    APPROVAL = "approval"
    IMPLEMENTATION = "implementation"
    EFFECTIVENESS_REVIEW = "effectiveness_review"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


OPEN_STATUSES = (
    ChangeStatus.DRAFT,
    ChangeStatus.IMPACT_ASSESSMENT,
    ChangeStatus.APPROVAL,
    ChangeStatus.IMPLEMENTATION,
    ChangeStatus.EFFECTIVENESS_REVIEW,
)


class ChangeType(StrEnum):
    PERMANENT = "permanent"
    TEMPORARY = "temporary"


class ImpactArea(StrEnum):
    DOCUMENTS = "documents"
    PROCESSES = "processes"
    EQUIPMENT = "equipment"
    VALIDATION = "validation"
    REGULATORY_FILING = "regulatory_filing"
    TRAINING = "training"


class RegulatoryCategory(StrEnum):
    """How the change is reported to the authorities (ICH Q12 categories; EU: type II / IB / IA
    variations, US: PAS / CBE-30 / annual report)."""

    PRIOR_APPROVAL = "prior_approval"
    NOTIFICATION = "notification"
    ANNUAL_REPORT = "annual_report"
    NONE = "none"


class ChangeFunction(StrEnum):
    QUALITY_ASSURANCE = "quality_assurance"
    QUALITY_CONTROL = "quality_control"
    PRODUCTION = "production"
    QUALIFIED_PERSON = "qualified_person"
    DISTRIBUTION = "distribution"
    PHARMACOVIGILANCE = "pharmacovigilance"
    DEVELOPMENT = "development"


# Who signs for a function: the role that function's people hold.
FUNCTION_ROLE = {
    ChangeFunction.QUALITY_ASSURANCE: "qa",
    ChangeFunction.QUALITY_CONTROL: "qc_analyst",
    ChangeFunction.PRODUCTION: "production_supervisor",
    ChangeFunction.QUALIFIED_PERSON: "qualified_person",
    ChangeFunction.DISTRIBUTION: "logistics",
    ChangeFunction.PHARMACOVIGILANCE: "pv_officer",
    ChangeFunction.DEVELOPMENT: "rd_scientist",
}


class ActionKind(StrEnum):
    REVISE_DOCUMENT = "revise_document"
    RETRAIN_ROLE = "retrain_role"
    UPDATE_PROCESS = "update_process"
    QUALIFY_EQUIPMENT = "qualify_equipment"
    VALIDATE = "validate"
    REGULATORY_SUBMISSION = "regulatory_submission"
    OTHER = "other"


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class ChangeRequest(GxPRecord, Base):
    __tablename__ = "change_requests"
    __audit_type__ = "change_request"
    # Rows recorded before this migration were audited without its columns.
    __audit_added_later__ = (
        AddedLater(
            "0140_quality_loops",
            {
                "authority_reference": "",
                "authority_approved_on": None,
                "submission_reference": "",
                "submitted_on": None,
                "submission_sha256": "",
                "authority_letter_sha256": "",
            },
        ),
    )
    __number_prefix__ = "CC"
    __signed_fields__ = (
        "title",
        "description",
        "justification",
        "change_type",
        "owner_id",
        "regulatory_category",
        "regulatory_rationale",
        "functions",
    )

    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    justification: Mapped[str] = mapped_column(Text, nullable=False)
    change_type: Mapped[str] = mapped_column(String(20), nullable=False)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    regulatory_category: Mapped[str | None] = mapped_column(String(30))
    regulatory_rationale: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The functions whose approval the change needs (quality assurance always among them).
    functions: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    # Each submission for approval starts a round; approvals of an earlier round don't count.
    approval_round: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    approved_at: Mapped[datetime | None] = mapped_column()
    effectiveness_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    effectiveness_summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    closed_at: Mapped[datetime | None] = mapped_column()
    # The submission to the authority (its reference, date and the file sent, kept byte for
    # byte): what fulfils a "regulatory submission" task.
    submission_reference: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    submitted_on: Mapped[date | None] = mapped_column()
    submission_sha256: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    # A prior-approval change is implemented only once the authority approved it: its
    # reference, the date of its approval and the scanned letter (kept byte for byte).
    authority_reference: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    authority_approved_on: Mapped[date | None] = mapped_column()
    authority_letter_sha256: Mapped[str] = mapped_column(String(64), nullable=False, default="")

    impacts: Mapped[list[ChangeImpact]] = relationship(
        back_populates="change", order_by="ChangeImpact.id"
    )
    approvals: Mapped[list[ChangeApproval]] = relationship(
        back_populates="change", order_by="ChangeApproval.id"
    )
    actions: Mapped[list[ChangeAction]] = relationship(
        back_populates="change", order_by="ChangeAction.id"
    )
    affected: Mapped[list[ChangeAffectedItem]] = relationship(
        back_populates="change", order_by="ChangeAffectedItem.id"
    )

    def signed_content(self) -> dict[str, Any]:
        """The functions sign the change as assessed: what changes, its impact in every area,
        the reporting category and the implementation planned."""
        content = super().signed_content()
        content["impacts"] = [
            {"area": i.area, "impacted": i.impacted, "assessment": i.assessment}
            for i in self.impacts
        ]
        content["actions"] = [
            {
                "id": a.id,
                "kind": a.kind,
                "description": a.description,
                "document_id": a.document_id,
                "role": a.role,
                "owner_id": a.owner_id,
                "due_at": a.due_at,
                "cancelled": a.status == ActionStatus.CANCELLED,
            }
            for a in self.actions
        ]
        # Named only once something is named: changes signed before keep their hash.
        affected = [
            {"kind": i.kind, "reference": i.reference}
            for i in self.affected
            if i.removed_at is None
        ]
        if affected:
            content["affected"] = affected
        return content

    def current_approvals(self) -> list[ChangeApproval]:
        return [a for a in self.approvals if a.round == self.approval_round]


class ChangeImpact(Audited, Base):
    __tablename__ = "change_impacts"
    __audit_type__ = "change_impact"
    __table_args__ = (UniqueConstraint("change_id", "area"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id"), nullable=False)
    area: Mapped[str] = mapped_column(String(30), nullable=False)
    impacted: Mapped[bool] = mapped_column(Boolean, nullable=False)
    assessment: Mapped[str] = mapped_column(Text, nullable=False)
    assessed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    assessed_at: Mapped[datetime] = mapped_column(nullable=False)

    change: Mapped[ChangeRequest] = relationship(back_populates="impacts")

    def audit_label(self) -> str:
        return f"impact on {self.area} of change {self.change_id}"


class ChangeApproval(Audited, Base):
    """One impacted function's decision on the change, with the signature that made it."""

    __tablename__ = "change_approvals"
    __audit_type__ = "change_approval"
    __table_args__ = (UniqueConstraint("change_id", "round", "function"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id"), nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    function: Mapped[str] = mapped_column(String(30), nullable=False)
    decision: Mapped[str] = mapped_column(String(20), nullable=False)
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("electronic_signatures.id"), nullable=False
    )
    # What the signature covered: an approval counts only while the change still reads so.
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    decided_at: Mapped[datetime] = mapped_column(nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")

    change: Mapped[ChangeRequest] = relationship(back_populates="approvals")

    def audit_label(self) -> str:
        return f"{self.function} decision on change {self.change_id}"


class ChangeAction(Audited, Base):
    """An implementation task: revise a controlled document, retrain a role, requalify…"""

    __tablename__ = "change_actions"
    __audit_type__ = "change_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_id: Mapped[int] = mapped_column(
        ForeignKey("change_requests.id"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    role: Mapped[str | None] = mapped_column(String(64))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column()
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completion_evidence: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    change: Mapped[ChangeRequest] = relationship(back_populates="actions")

    def audit_label(self) -> str:
        return f"{self.kind} task #{self.id} of change {self.change_id}"

    @property
    def task_kind(self) -> str:
        return f"change_action:{self.id}"


class AffectedKind(StrEnum):
    PRODUCT = "product"
    SPECIFICATION = "specification"
    MASTER_BATCH_RECORD = "master_batch_record"


class ChangeAffectedItem(Audited, Base):
    """A product, specification or master batch record the change affects, by its number (the
    module that owns it confirms it exists when it is named). Removed, never deleted."""

    __tablename__ = "change_affected_items"
    __audit_type__ = "change_affected_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_id: Mapped[int] = mapped_column(
        ForeignKey("change_requests.id"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    reference: Mapped[str] = mapped_column(String(100), nullable=False)
    label: Mapped[str] = mapped_column(String(300), nullable=False)
    named_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    named_at: Mapped[datetime] = mapped_column(nullable=False)
    removed_at: Mapped[datetime | None] = mapped_column()

    change: Mapped[ChangeRequest] = relationship(back_populates="affected")

    def audit_label(self) -> str:
        return f"{self.kind} {self.reference} affected by change {self.change_id}"


class RegulatoryFile(SealedData, Base):
    """A file exchanged with the authority about a change: the submission sent, the approval
    letter received (scanned). Kept byte for byte."""

    __tablename__ = "change_regulatory_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # submission | approval
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    stored_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    stored_at: Mapped[datetime] = mapped_column(nullable=False)
