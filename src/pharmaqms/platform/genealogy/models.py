"""What genealogy adds to the traceability tables: the retraction of an event.

An EPCIS error declaration is a copy of a wrong event (same eventID, or the same content when it
had none) with an ``errorDeclaration``. The event table is append-only, so the wrong event is
not flagged in place: a row here says "the event with this key is declared in error", and the
traces leave out every event whose key has such a row. Keyed by the event's key rather than its
row, so a declaration that arrives before the event it retracts still retracts it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import SealedData


class EpcisErrorDeclaration(SealedData, Base):
    __tablename__ = "epcis_error_declarations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # EpcisEvent.event_id of the retracted event: its eventID, or its content hash.
    declared_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    # The stored declaration itself (an EpcisEvent row with error_declared = true).
    declaration_event_id: Mapped[int] = mapped_column(ForeignKey("epcis_events.id"), nullable=False)
    declared_at: Mapped[datetime] = mapped_column(nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    corrective_event_ids: Mapped[list[str]] = mapped_column(JSONText, nullable=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
