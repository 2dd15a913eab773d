"""Writing one inventory movement, the same way for every entry point (the WMS/TMS connector,
an EPCIS receiving or shipping event): found again when it is already there, refused with a
reason code when the database says it can't be (a conflicting reference, more picked than is
on hand). The caller holds the audit change context: the row is sealed with its delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.platform.governance.rules import Problem
from pharmaqms.platform.inventory.matching import find_counterpart, link_second
from pharmaqms.platform.inventory.movements import balance
from pharmaqms.platform.masterdata.models import Location
from pharmaqms.platform.traceability.models import InventoryMovement

# Reason codes of the store step (docs/data-services.md lists them with the others).
BEYOND_STOCK = "beyond_stock"
CONFLICTING_REFERENCE = "conflicting_reference"


@dataclass(frozen=True)
class MovementDraft:
    lot_id: int
    movement_type: str
    quantity: float
    unit: str
    moved_at: datetime
    reference: str
    from_location: Location | None = None
    to_location: Location | None = None
    order_reference: str | None = None
    shipment_id: int | None = None
    run_id: int | None = None
    source_id: int | None = None
    epcis_event_id: int | None = None
    # The source that reports it (matching.WMS or matching.EPCIS): its record of a movement
    # the other source reported already is linked to that one and counted once.
    channel: str | None = None

    def same_as(self, row: InventoryMovement) -> bool:
        return (
            row.movement_type == self.movement_type
            and row.quantity == self.quantity
            and row.unit == self.unit
            and row.from_location_id == _id(self.from_location)
            and row.to_location_id == _id(self.to_location)
            and row.moved_at == self.moved_at
        )


def _id(location: Location | None) -> int | None:
    return location.id if location is not None else None


@dataclass(frozen=True)
class Recorded:
    movement: InventoryMovement | None
    duplicate: bool = False
    problem: Problem | None = None


def record_movement(
    session: Session, draft: MovementDraft, *, check_stock: bool = True
) -> Recorded:
    """Write ``draft``, or find it already written (same reference and lot, same content), or
    refuse it with the reason. With ``check_stock``, a movement out of one of our locations may
    not take more than the lot's balance there at that moment (a customer's balance is not
    ours to know: a return is not held to it)."""
    existing = session.scalars(
        select(InventoryMovement).where(
            InventoryMovement.reference == draft.reference,
            InventoryMovement.lot_id == draft.lot_id,
        )
    ).first()
    if existing is not None:
        if draft.same_as(existing):
            return Recorded(existing, duplicate=True)
        return Recorded(
            None,
            problem=Problem(
                "reference",
                CONFLICTING_REFERENCE,
                f"movement {draft.reference} of this lot is recorded already with other "
                f"values (movement #{existing.id})",
            ),
        )
    counterpart = None
    if draft.channel is not None:
        counterpart = find_counterpart(
            session,
            source=draft.channel,
            lot_id=draft.lot_id,
            movement_type=draft.movement_type,
            unit=draft.unit,
            from_id=_id(draft.from_location),
            to_id=_id(draft.to_location),
            moved_at=draft.moved_at,
            quantity=draft.quantity,
            order_reference=draft.order_reference,
        )
    origin = draft.from_location
    # The second record of a movement out of a location takes nothing more from it: the
    # first took it already (and the balance shows it gone).
    takes = counterpart is None or not counterpart.from_side
    if check_stock and takes and origin is not None and not origin.is_customer:
        on_hand = balance(session, draft.lot_id, origin.id, draft.moved_at)
        if draft.quantity > on_hand + 1e-9:
            return Recorded(
                None,
                problem=Problem(
                    "quantity",
                    BEYOND_STOCK,
                    f"{draft.quantity:g} {draft.unit} taken from {origin.code}, where "
                    f"{on_hand:g} are on hand at {draft.moved_at:%Y-%m-%d %H:%M} UTC",
                ),
            )
    movement = InventoryMovement(
        lot_id=draft.lot_id,
        movement_type=draft.movement_type,
        from_location_id=_id(draft.from_location),
        to_location_id=_id(draft.to_location),
        shipment_id=draft.shipment_id,
        quantity=draft.quantity,
        unit=draft.unit,
        moved_at=draft.moved_at,
        reference=draft.reference,
        order_reference=draft.order_reference,
        run_id=draft.run_id,
        source_id=draft.source_id,
        epcis_event_id=draft.epcis_event_id,
    )
    session.add(movement)
    session.flush()
    if counterpart is not None:
        link_second(session, movement, counterpart)
    return Recorded(movement)
