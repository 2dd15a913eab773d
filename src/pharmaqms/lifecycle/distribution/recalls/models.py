"""The recall (a signed quality record) and its notification list (one audited row per place
the recalled goods reached)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import Audited, GxPRecord


class RecallStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class RecallClass(StrEnum):
    """Health hazard classification (21 CFR 7.3(m); EU rapid alert classes 1-3)."""

    I = "I"  # noqa: E741 - the regulatory name of the class
    II = "II"
    III = "III"


class RecallDepth(StrEnum):
    """How far down the supply chain the recall goes (21 CFR 7.42(b)(1))."""

    WHOLESALE = "wholesale"
    PHARMACY = "pharmacy"
    PATIENT = "patient"


class Recall(GxPRecord, Base):
    """A recall (or, with ``mock``, a recall exercise that changes no lot). ``subjects`` are
    the identifiers asked for (JSON list); ``lots`` the lot classes the genealogy found in
    scope (JSON list). The scope's computation is timed: a mock recall measures how fast the
    organisation can name everyone reached."""

    __tablename__ = "recalls"
    __audit_type__ = "recall"
    __number_prefix__ = "RCL"
    __draft_states__ = frozenset({"draft"})
    __signed_fields__ = ("mock", "subjects", "lots", "classification", "depth", "reason")

    mock: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    subjects: Mapped[str] = mapped_column(Text, nullable=False)
    lots: Mapped[str] = mapped_column(Text, nullable=False)
    classification: Mapped[str] = mapped_column(String(3), nullable=False)
    depth: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    # Effectiveness below which closing needs a signed justification (percent).
    target_pct: Mapped[float] = mapped_column(Float, nullable=False)
    scope_started_at: Mapped[datetime] = mapped_column(nullable=False)
    scope_completed_at: Mapped[datetime] = mapped_column(nullable=False)
    scope_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    scope_events: Mapped[int] = mapped_column(Integer, nullable=False)
    closure_justification: Mapped[str | None] = mapped_column(Text)


class RecallNotification(Audited, Base):
    """One place the recalled goods reached, with what was shipped there; its acknowledgement
    (who at the customer, when, by which means) and the quantity returned."""

    __tablename__ = "recall_notifications"
    __audit_type__ = "recall_notification"
    __table_args__ = (UniqueConstraint("recall_id", "place"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("recalls.id"), nullable=False, index=True)
    place: Mapped[str] = mapped_column(String(200), nullable=False)
    """Canonical identifier of the place (SGLN Digital Link), as the events name it."""
    place_code: Mapped[str | None] = mapped_column(String(60))
    place_name: Mapped[str] = mapped_column(String(200), nullable=False)
    place_kind: Mapped[str] = mapped_column(String(40), nullable=False)
    is_customer: Mapped[bool] = mapped_column(Boolean, nullable=False)
    quantity_shipped: Mapped[int] = mapped_column(Integer, nullable=False)
    first_shipped_at: Mapped[datetime | None] = mapped_column()
    notified_at: Mapped[datetime | None] = mapped_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_how: Mapped[str | None] = mapped_column(String(20))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    quantity_returned: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    def audit_label(self) -> str:
        return f"notification of {self.place_code or self.place} in recall #{self.recall_id}"
