"""The link that makes two records of one physical movement count once.

The WMS/TMS connector and EPCIS receiving/shipping events both write inventory movements; when
both report the same movement, the record that arrived second is kept (accepted data is never
lost) and linked here to the one counted first. Stock, shipped quantities and recall reach
leave the linked record's matched sides out (``from_side``: the location it left; ``to_side``:
the location it entered) — a side the second record names and the first does not still counts.
Append-only: a link is a fact of the moment it was made, with the window then in force."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    exists,
    not_,
)
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import SealedData
from pharmaqms.platform.traceability.models import InventoryMovement


class MatchOutcome:
    AGREES = "agrees"  # same lot, place, direction and quantity within the window
    QUANTITY_DIFFERS = "quantity_differs"  # the same movement by every key but the quantity


class InventoryMovementMatch(SealedData, Base):
    __tablename__ = "inventory_movement_matches"
    __table_args__ = (Index("ix_inventory_movement_matches_counted", "counted_movement_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The record that arrived second: kept, not counted again on the matched sides.
    movement_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_movements.id"), nullable=False, unique=True
    )
    # The record counted (the first of the two to arrive).
    counted_movement_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_movements.id"), nullable=False
    )
    from_side: Mapped[bool] = mapped_column(Boolean, nullable=False)
    to_side: Mapped[bool] = mapped_column(Boolean, nullable=False)
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    # The second record's quantity minus the counted one's (0 when they agree).
    difference: Mapped[float] = mapped_column(Float, nullable=False)
    window_min: Mapped[int] = mapped_column(Integer, nullable=False)
    matched_at: Mapped[datetime] = mapped_column(nullable=False)


def counted(side: str) -> ColumnElement[bool]:
    """The inventory movements whose ``side`` ("from": the location left, "to": the location
    entered) counts in stock: every movement but the second record of a pair, on the sides
    it shares with the first."""
    flag = InventoryMovementMatch.from_side if side == "from" else InventoryMovementMatch.to_side
    return not_(
        exists().where(InventoryMovementMatch.movement_id == InventoryMovement.id, flag.is_(True))
    )
