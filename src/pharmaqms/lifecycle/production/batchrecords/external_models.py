"""Review by exception of a batch executed in an external MES: the record imported through the
platform (the batch, its process readings, the materials it consumed) is summed up, its
exceptions listed, and production signs the review; the QP's release checklist then judges the
batch on that evidence as it judges an electronic batch record made here."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import GxPRecord


class ExternalReviewStatus(StrEnum):
    OPEN = "open"
    REVIEWED = "reviewed"


class ExternalBatchReview(GxPRecord, Base):
    __tablename__ = "external_batch_reviews"
    __audit_type__ = "external_batch_review"
    __number_prefix__ = "XBR"
    __draft_states__ = frozenset({ExternalReviewStatus.OPEN.value})
    # The "Reviewed" signature covers the evidence as imported (its digest), the exceptions and
    # what the reviewer said of each.
    __signed_fields__ = ("number", "lot_id", "evidence_digest", "exceptions", "comments")

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False, index=True)
    lot_label: Mapped[str] = mapped_column(String(120), nullable=False)
    # What was imported: readings and consumptions counted, the end of the batch, the runs.
    summary: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False)
    evidence_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    # [{"key": ..., "text": ...}]: what the import found out of the ordinary.
    exceptions: Mapped[list[dict[str, str]]] = mapped_column(JSONText, nullable=False)
    # exception key → the reviewer's assessment of it
    comments: Mapped[dict[str, str]] = mapped_column(JSONText, nullable=False, default=dict)
    reviewed_at: Mapped[datetime | None] = mapped_column()
