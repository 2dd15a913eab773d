"""Tables of the EPCIS repository: duplicate findings and named queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, SealedData


class EpcisDuplicate(SealedData, Base):
    """An event that arrived with an eventID of its own but the CBV 2.0 event hash of an event
    already captured: both are kept (accepted data is never dropped), and this row is the
    finding a person reviews — a re-sent document, two systems reporting one observation, or
    an eventID reused to disguise a copy."""

    __tablename__ = "epcis_duplicates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_hash: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("epcis_events.id"), nullable=False)
    """The later arrival."""
    original_event_id: Mapped[int] = mapped_column(ForeignKey("epcis_events.id"), nullable=False)
    """The event captured first with the same hash."""
    found_at: Mapped[datetime] = mapped_column(nullable=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))


class EpcisNamedQuery(Audited, Base):
    """A stored EPCIS query (the standard's named queries): its parameters as given to
    ``GET /api/v1/epcis/events``, checked when it is created."""

    __tablename__ = "epcis_named_queries"
    __audit_type__ = "epcis_named_query"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    retired: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    def audit_label(self) -> str:
        return f"EPCIS query {self.name}"
