"""A submission document: one CTD Module 3 section of one product for one authority, generated
from the records as they stand and frozen — the content as JSON with its SHA-256, and the PDF
rendered from it, whose bytes are kept append-only with their SHA-256. Reviewed and approved by
electronic signature; the approved PDF (with its signature page) is stored the same way. A
regeneration is a new edition (a new record) that supersedes the one before, never an edit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import GxPRecord, SealedData


class DocumentKind(StrEnum):
    STABILITY_SUMMARY = "stability_summary"  # 3.2.P.8
    PROCESS_DEVELOPMENT = "process_development"  # 3.2.P.2
    BATCH_ANALYSES = "batch_analyses"  # 3.2.P.5.4


class Authority(StrEnum):
    NMPA = "NMPA"
    FDA = "FDA"
    EMA = "EMA"


class SubmissionStatus(StrEnum):
    DRAFT = "draft"  # generated: content and PDF frozen
    REVIEWED = "reviewed"  # a second person signed "Reviewed"
    APPROVED = "approved"  # QA signed "Approved"; the PDF with its signature page is stored
    SUPERSEDED = "superseded"  # replaced by a later edition of the same kind, product, authority


class SubmissionDocument(GxPRecord, Base):
    __tablename__ = "rnd_submission_documents"
    __audit_type__ = "rnd_submission"
    __number_prefix__ = "SUB"
    __draft_states__ = frozenset({SubmissionStatus.DRAFT.value})
    __signed_fields__ = (
        "kind",
        "product_code",
        "product_name",
        "authority",
        "edition",
        "content",
        "content_sha256",
        "draft_pdf_sha256",
    )
    __table_args__ = (
        UniqueConstraint("kind", "product_code", "authority", "edition"),
        Index("ix_rnd_submission_documents_product", "product_code", "kind"),
    )

    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    product_code: Mapped[str] = mapped_column(String(40), nullable=False)
    product_name: Mapped[str] = mapped_column(String(200), nullable=False)
    authority: Mapped[str] = mapped_column(String(10), nullable=False)
    edition: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # The PDF as generated (marked draft), what the reviewer and the approver read.
    draft_file_id: Mapped[int] = mapped_column(
        ForeignKey("rnd_submission_files.id"), nullable=False
    )
    draft_pdf_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # The PDF as approved: the same content with the signature page, stored at approval.
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("rnd_submission_files.id"))
    pdf_sha256: Mapped[str] = mapped_column(String(64), nullable=False, default="")

    def audit_label(self) -> str:
        return (
            f"{self.number} ({self.content.get('ctd_section', '')} {self.product_code} "
            f"{self.authority}, edition {self.edition})"
        )


class SubmissionFile(SealedData, Base):
    """The bytes of a submission document's PDF. Never changed: a new edition is a new row."""

    __tablename__ = "rnd_submission_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    stored_at: Mapped[datetime] = mapped_column(nullable=False)
