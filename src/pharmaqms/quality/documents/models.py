"""Controlled documents: the document (its number, type and owner) and its versions, each
version a GxP record with its own approval workflow and signatures."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import AddedLater, Audited, GxPRecord, SealedData


class DocumentType(StrEnum):
    SOP = "sop"
    WORK_INSTRUCTION = "work_instruction"
    SPECIFICATION = "specification"
    FORM = "form"
    POLICY = "policy"
    MASTER_BATCH_RECORD = "master_batch_record"
    # The package leaflet for patients (Directive 2001/83/EC Art. 58-59), linked from the
    # product's public page.
    PATIENT_LEAFLET = "patient_leaflet"


NUMBER_PREFIX = {
    DocumentType.SOP: "SOP",
    DocumentType.WORK_INSTRUCTION: "WI",
    DocumentType.SPECIFICATION: "SPEC",
    DocumentType.FORM: "FRM",
    DocumentType.POLICY: "POL",
    DocumentType.MASTER_BATCH_RECORD: "MBR",
    DocumentType.PATIENT_LEAFLET: "PIL",
}

TYPE_LABEL = {
    DocumentType.SOP: "Standard operating procedure",
    DocumentType.WORK_INSTRUCTION: "Work instruction",
    DocumentType.SPECIFICATION: "Specification",
    DocumentType.FORM: "Form",
    DocumentType.POLICY: "Policy",
    DocumentType.MASTER_BATCH_RECORD: "Master batch record reference",
    DocumentType.PATIENT_LEAFLET: "Patient information leaflet",
}


class DocumentStatus(StrEnum):
    IN_DEVELOPMENT = "in_development"  # no version has been effective yet
    CURRENT = "current"
    OBSOLETE = "obsolete"


class VersionStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    EFFECTIVE = "effective"
    SUPERSEDED = "superseded"
    OBSOLETE = "obsolete"
    WITHDRAWN = "withdrawn"


class ControlledDocument(GxPRecord, Base):
    __tablename__ = "documents"
    __audit_type__ = "document"
    __draft_states__ = frozenset({DocumentStatus.IN_DEVELOPMENT.value})

    doc_type: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    area: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    review_period_months: Mapped[int] = mapped_column(Integer, nullable=False, default=24)
    current_version_id: Mapped[int | None] = mapped_column(Integer)

    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", order_by="DocumentVersion.id", viewonly=True
    )


class DocumentVersion(GxPRecord, Base):
    __tablename__ = "document_versions"
    __audit_type__ = "document_version"
    # Rows recorded before this migration were audited without its columns.
    __audit_added_later__ = (
        AddedLater(
            "0140_quality_loops",
            {
                "reviewer_ids": [],
                "reviewers_in_sequence": False,
                "review_round": 0,
                "attachments_digest": "",
            },
        ),
    )
    __table_args__ = (UniqueConstraint("document_id", "major", "minor"),)
    # What a signature covers: the content people read, not the workflow bookkeeping.
    __signed_fields__ = ("document_id", "major", "minor", "title", "body", "change_summary")

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), nullable=False)
    major: Mapped[int] = mapped_column(Integer, nullable=False)
    minor: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    change_summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    effective_from: Mapped[datetime | None] = mapped_column()
    effective_at: Mapped[datetime | None] = mapped_column()
    superseded_at: Mapped[datetime | None] = mapped_column()
    # The people named to review the draft before approval, in order; in sequence each waits
    # for the one before, in parallel all review at once. Each submission opens a review round.
    reviewer_ids: Mapped[list[int]] = mapped_column(JSONText, nullable=False, default=list)
    reviewers_in_sequence: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    review_round: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # SHA-256 over the attached source files (name and content hash of each, in order): what
    # the approval signature covers of them. Empty while nothing is attached.
    attachments_digest: Mapped[str] = mapped_column(String(64), nullable=False, default="")

    document: Mapped[ControlledDocument] = relationship(back_populates="versions")

    @property
    def label(self) -> str:
        return f"{self.major}.{self.minor}"

    def signed_content(self) -> dict[str, Any]:
        """The text people read and, once a file is attached, the files themselves: an
        attachment added after the approval shows the signature as no longer valid. (The key
        is left out while nothing is attached, so versions signed before attachments existed
        keep their hash.)"""
        content = super().signed_content()
        if self.attachments_digest:
            content["attachments_digest"] = self.attachments_digest
        return content


class DocumentAttachment(SealedData, Base):
    """A source file of a version (the Word original, a signed PDF, a drawing), kept byte for
    byte with its SHA-256. Never changed: a corrected file is a new attachment of a new draft."""

    __tablename__ = "document_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("document_versions.id"), nullable=False, index=True
    )
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    attached_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    attached_at: Mapped[datetime] = mapped_column(nullable=False)


class ReviewOutcome(StrEnum):
    PENDING = "pending"
    REVIEWED = "reviewed"


class DocumentReview(Audited, Base):
    """One named reviewer's review of a version in one review round, with their comments."""

    __tablename__ = "document_reviews"
    __audit_type__ = "document_review"
    __table_args__ = (UniqueConstraint("version_id", "round", "reviewer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("document_versions.id"), nullable=False, index=True
    )
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    in_sequence: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    comments: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # What the reviewer read: the version's content hash when the review was recorded.
    reviewed_content_hash: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return f"review #{self.position} (round {self.round}) of document version {self.version_id}"


class ReviewStatus(StrEnum):
    OPEN = "open"
    NO_CHANGE = "no_change"
    REVISION_STARTED = "revision_started"
    CANCELLED = "cancelled"


class PeriodicReview(GxPRecord, Base):
    """One periodic review of a document in force (EU GMP Chapter 4: documents are regularly
    reviewed and kept up to date). Opened by the daily job when the review falls due; it ends
    either signed "no change needed" (which restarts the review period) or by starting a
    revision. The due date itself is not stored on the document: it follows from the version
    in force and the last concluded review (see ``periodic_review.next_review_due``)."""

    __tablename__ = "document_periodic_reviews"
    __audit_type__ = "periodic_review"
    __number_prefix__ = "PR"
    __draft_states__ = frozenset({ReviewStatus.OPEN.value})
    # The "Reviewed" signature covers which content was reviewed, for which due date.
    __signed_fields__ = ("number", "document_id", "version_id", "reviewed_content_hash", "due_at")

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), nullable=False, index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id"), nullable=False)
    reviewed_content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)
    overdue_flagged_at: Mapped[datetime | None] = mapped_column()
    concluded_at: Mapped[datetime | None] = mapped_column()
    # Named by hand: the conventional name is longer than PostgreSQL's 63 characters.
    revision_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_versions.id", name="fk_document_periodic_reviews_revision_version")
    )
