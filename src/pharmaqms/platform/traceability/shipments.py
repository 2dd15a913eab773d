"""Registering a shipment: where from, where to, by whom, and the temperature range it must
keep (from the products it carries). Audited; the distribution module builds its planning
and excursion handling on these rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.governance.rules import gtin_check_digit_ok
from pharmaqms.platform.masterdata.models import Location, Lot
from pharmaqms.platform.traceability.models import InventoryMovement, Shipment

SHIPMENT_STATUSES = ("planned", "in_transit", "delivered", "cancelled")


def _location_id(session: Session, code: str, field: str) -> int:
    found = session.scalar(select(Location.id).where(Location.code == code))
    if found is None:
        raise InvalidInput(f"no location {code}", field=field)
    return found


def register_shipment(
    session: Session,
    *,
    actor: Actor,
    code: str,
    origin_code: str,
    destination_code: str,
    carrier: str = "",
    sscc: str | None = None,
    shipped_at: datetime | None = None,
    delivered_at: datetime | None = None,
    status: str = "planned",
    required_min_c: float | None = None,
    required_max_c: float | None = None,
) -> Shipment:
    actor.require("data.ingest", "register shipments")
    code = code.strip()
    if not code or len(code) > 60 or any(c in code for c in "/+#"):
        # The code is a level of the sensors' MQTT topics: no separators or wildcards.
        raise InvalidInput("a shipment code is 1 to 60 characters without / + #", field="code")
    if status not in SHIPMENT_STATUSES:
        raise InvalidInput(f"unknown shipment status {status!r}", field="status")
    low, high = required_min_c, required_max_c
    if low is not None and high is not None and low > high:
        raise InvalidInput(
            f"the required range {low}–{high} °C is upside down", field="required_min_c"
        )
    if shipped_at and delivered_at and delivered_at < shipped_at:
        raise InvalidInput("delivered before it was shipped", field="delivered_at")
    sscc = (sscc or "").strip() or None
    if sscc is not None and not (len(sscc) == 18 and sscc.isdecimal()):
        raise InvalidInput(f"{sscc!r} is not an SSCC (18 digits)", field="sscc")
    if sscc is not None and not gtin_check_digit_ok(sscc):
        raise InvalidInput(f"{sscc} has a wrong GS1 check digit", field="sscc")
    if session.scalar(select(Shipment.id).where(Shipment.code == code)) is not None:
        raise Conflict(f"a shipment {code} exists already", field="code")
    shipment = Shipment(
        code=code,
        sscc=sscc,
        origin_id=_location_id(session, origin_code, "origin_code"),
        destination_id=_location_id(session, destination_code, "destination_code"),
        carrier=carrier,
        shipped_at=shipped_at,
        delivered_at=delivered_at,
        status=status,
        required_min_c=required_min_c,
        required_max_c=required_max_c,
    )
    with audit.changes(session, actor=actor, reason="shipment registered"):
        session.add(shipment)
    return shipment


def load_lot(
    session: Session,
    *,
    actor: Actor,
    shipment_code: str,
    lot_id: int,
    quantity: float,
    unit: str,
    moved_at: datetime,
    reference: str,
) -> InventoryMovement:
    """Record that ``quantity`` of a lot left on a shipment: an inventory movement from the
    shipment's origin to its destination (sealed, append-only). These are the units distributed
    that lot-level reporting rates are divided by."""
    actor.require("data.ingest", "record shipped quantities")
    shipment = session.scalar(select(Shipment).where(Shipment.code == shipment_code.strip()))
    if shipment is None:
        raise NotFound(f"no shipment {shipment_code!r}")
    if session.get(Lot, lot_id) is None:
        raise NotFound(f"no lot with id {lot_id}")
    if not quantity > 0:
        raise InvalidInput("a shipped quantity is more than zero", field="quantity")
    unit, reference = unit.strip(), reference.strip()
    if not unit or len(unit) > 20:
        raise InvalidInput("the unit is 1 to 20 characters", field="unit")
    if not reference or len(reference) > 80:
        raise InvalidInput(
            "the reference (delivery note, order) is 1 to 80 characters", field="reference"
        )
    if moved_at.tzinfo is None:
        raise InvalidInput("moved_at needs a time zone", field="moved_at")
    movement = InventoryMovement(
        lot_id=lot_id,
        movement_type="shipment",  # platform/inventory/movements.py: MovementType.SHIPMENT
        from_location_id=shipment.origin_id,
        to_location_id=shipment.destination_id,
        shipment_id=shipment.id,
        quantity=quantity,
        unit=unit,
        moved_at=moved_at,
        reference=reference,
    )
    with audit.changes(session, actor=actor, reason=f"lot loaded on shipment {shipment.code}"):
        session.add(movement)
        session.flush()
    return movement
