"""The release decision of a batch: the rule-based evaluation the qualified person saw, and their
signed decision (release or reject). One per batch: a released or rejected batch is decided."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import GxPRecord


class ReleaseStatus(StrEnum):
    # Only between the creation of the decision and the QP's signature, inside one transaction.
    PENDING = "pending"
    RELEASED = "released"
    REJECTED = "rejected"


class BatchRelease(GxPRecord, Base):
    """The QP's certification of a batch (EU GMP Annex 16, Annex 11 §15): the checklist as it
    was evaluated at the moment of signing, bound to the "Released" or "Rejected" signature."""

    __tablename__ = "batch_releases"
    __audit_type__ = "batch_release"
    __number_prefix__ = "REL"
    __draft_states__ = frozenset({ReleaseStatus.PENDING.value})
    __signed_fields__ = (
        "number",
        "lot_id",
        "batch_record_id",
        "decision",
        "evaluation",
        "evaluation_hash",
        "all_passed",
    )

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), unique=True, nullable=False)
    batch_record_id: Mapped[int | None] = mapped_column(ForeignKey("batch_records.id"))
    decision: Mapped[str] = mapped_column(String(20), nullable=False)
    # Every rule with its result, findings and evidence, as evaluated for the decision.
    evaluation: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False)
    evaluation_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    all_passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    evaluated_at: Mapped[datetime] = mapped_column(nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column()
    manufacturing_ended_at: Mapped[datetime | None] = mapped_column()
    # End of manufacture to decision, in hours: the release cycle time.
    cycle_time_hours: Mapped[float | None] = mapped_column(Float)
    decision_comment: Mapped[str] = mapped_column(Text, nullable=False, default="")

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        # The decision's time and cycle time are recorded by the decision itself.
        if previous_status in (ReleaseStatus.RELEASED, ReleaseStatus.REJECTED):
            return bool(changed - {"decided_at", "cycle_time_hours", "decision_comment"})
        return super().reason_required_for(changed, previous_status)
