"""Nonconforming product: a lot that does not conform (a confirmed OOS, a critical deviation, a
finding on the line) is held, and its fate decided and signed: rework, reprocess, reject,
destroy, or release under concession (EU GMP Chapter 5, 21 CFR 211.115 and 211.192)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import GxPRecord


class NonconformanceStatus(StrEnum):
    OPEN = "open"  # product held, disposition not yet proposed
    PROPOSED = "proposed"  # disposition proposed, waiting for QA
    QP_REVIEW = "qp_review"  # a concession approved by QA, waiting for the QP
    APPROVED = "approved"  # disposition approved: to be carried out
    CLOSED = "closed"  # disposition carried out and recorded
    CANCELLED = "cancelled"


OPEN_NONCONFORMANCE_STATUSES = (
    NonconformanceStatus.OPEN,
    NonconformanceStatus.PROPOSED,
    NonconformanceStatus.QP_REVIEW,
    NonconformanceStatus.APPROVED,
)


class Disposition(StrEnum):
    REWORK = "rework"  # a different, approved process step to bring it into conformance
    REPROCESS = "reprocess"  # repeat a step of the approved process
    REJECT = "reject"
    DESTROY = "destroy"
    RELEASE_UNDER_CONCESSION = "release_under_concession"


class NonconformingProduct(GxPRecord, Base):
    __tablename__ = "nonconforming_products"
    __audit_type__ = "nonconforming_product"
    __number_prefix__ = "NC"
    __draft_states__ = frozenset({NonconformanceStatus.OPEN.value})
    __table_args__ = (
        Index("ix_nonconforming_products_lot_status", "lot_id", "status"),
        Index("ix_nonconforming_products_source", "source_type", "source_id"),
    )
    __signed_fields__ = (
        "lot_id",
        "source_type",
        "source_id",
        "source_label",
        "description",
        "disposition",
        "disposition_rationale",
        "concession_terms",
        "execution_record",
    )

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False)
    # Where it comes from: a confirmed OOS investigation, a deviation, or a person's report.
    source_type: Mapped[str] = mapped_column(String(60), nullable=False)
    source_id: Mapped[int | None] = mapped_column(Integer)
    source_label: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    lot_status_before_hold: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    disposition: Mapped[str | None] = mapped_column(String(30))
    disposition_rationale: Mapped[str] = mapped_column(Text, nullable=False, default="")
    concession_terms: Mapped[str] = mapped_column(Text, nullable=False, default="")
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # What was done: the rework batch record, the destruction certificate, the release note.
    execution_record: Mapped[str] = mapped_column(Text, nullable=False, default="")
    closed_at: Mapped[datetime | None] = mapped_column()

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        # The disposition is drafted while open; after the proposal, changes need a reason,
        # except the execution record written once the disposition is approved.
        if previous_status == NonconformanceStatus.OPEN:
            return bool(changed - DRAFTING_FIELDS)
        if previous_status == NonconformanceStatus.APPROVED:
            return bool(changed - {"execution_record", "closed_at"})
        return super().reason_required_for(changed, previous_status)


DRAFTING_FIELDS = frozenset(
    {
        "disposition",
        "disposition_rationale",
        "concession_terms",
        "proposed_by_id",
        "lot_status_before_hold",
    }
)
