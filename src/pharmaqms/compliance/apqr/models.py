"""The annual product quality review: one product, one calendar year, one edition. The figures
are gathered once, at generation, and frozen as JSON with their SHA-256: QA writes the
conclusions on exactly those figures, and the signatures cover both. A regeneration is a new
edition (a new record), never an edit of a signed one. The PDF signed at approval is kept in an
append-only sealed table with its SHA-256."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import GxPRecord, SealedData


class ReviewStatus(StrEnum):
    DRAFT = "draft"  # figures frozen; QA writes the conclusions
    CONCLUDED = "concluded"  # conclusions signed by their QA author ("Authored")
    EFFECTIVE = "effective"  # approved by a second person ("Approved"); the PDF is stored
    SUPERSEDED = "superseded"  # replaced by a later edition of the same product and year


class ProductQualityReview(GxPRecord, Base):
    __tablename__ = "apqr_reviews"
    __audit_type__ = "apqr_review"
    __number_prefix__ = "APQR"
    __draft_states__ = frozenset({ReviewStatus.DRAFT.value})
    __signed_fields__ = (
        "product_code",
        "product_name",
        "year",
        "edition",
        "figures",
        "figures_sha256",
        "conclusions",
        "actions",
    )
    __table_args__ = (
        UniqueConstraint("product_code", "year", "edition"),
        Index("ix_apqr_reviews_product_year", "product_code", "year"),
    )

    product_code: Mapped[str] = mapped_column(String(40), nullable=False)
    product_name: Mapped[str] = mapped_column(String(200), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    edition: Mapped[int] = mapped_column(Integer, nullable=False)
    figures: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False)
    figures_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    conclusions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # What QA decides to do about what the review found: read back by next year's review.
    actions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Who wrote the conclusions: the only one who signs them as authored.
    concluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("apqr_review_files.id"))
    pdf_sha256: Mapped[str] = mapped_column(String(64), nullable=False, default="")

    def audit_label(self) -> str:
        return f"{self.number} ({self.product_code} {self.year}, edition {self.edition})"


class ReviewFile(SealedData, Base):
    """The bytes of an approved review's PDF. Never changed: a new edition is a new row."""

    __tablename__ = "apqr_review_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    stored_at: Mapped[datetime] = mapped_column(nullable=False)
