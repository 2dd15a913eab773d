"""One row per hold on a lot: who (which quality record) holds it, why, and the status the lot
had before. The record that moved the lot to on hold is the *placing* hold; a record that holds
a lot already on hold *joins* it (``previous_status`` is ``on_hold``). A hold is lifted, never
deleted; a lot leaves on hold only through ``set_lot_status``, which lifts the open holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import Audited


class LotHold(Audited, Base):
    __tablename__ = "lot_holds"
    __audit_type__ = "lot_hold"
    __table_args__ = (Index("ix_lot_holds_lot_open", "lot_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False)
    # The number of the record that holds the lot (OOS-…, NC-…, DEV-…, EXA-…); '' for a
    # hold placed by a person directly.
    holder: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    previous_status: Mapped[str] = mapped_column(String(20), nullable=False)
    placed_at: Mapped[datetime] = mapped_column(nullable=False)
    placed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    lifted_at: Mapped[datetime | None] = mapped_column()
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lift_reason: Mapped[str | None] = mapped_column(Text)

    def audit_label(self) -> str:
        return f"hold of lot #{self.lot_id} by {self.holder or 'a person'}"
