"""Inventory movements from EPCIS receiving and shipping events, at capture.

An ObjectEvent (action OBSERVE or ADD) with bizStep ``receiving`` or ``shipping`` moves goods
(and a commissioning, action ADD, at a location of ours puts what was made into its stock);
how many of which lot is read from the event:

* its ``quantityList`` — lot classes (LGTIN) with a quantity; a quantity without a unit of
  measure, or in eaches (EA, C62, H87), is a count of packs; one in a measure (KGM, LTR) is
  not stock of packs and is left out;
* its ``epcList`` — serialised packs (SGTIN) count one each, by the lot they were commissioned
  in; a container (an SSCC pallet, a case) counts the packs it held at the event's time (the
  containment replay of :mod:`pharmaqms.platform.genealogy.containment`).

Where to and from:

* shipping: out of the location it is read at (readPoint, else bizLocation, else the source
  location) into its destination when that is a location of ours or a customer's, else into
  the world outside (``to`` empty);
* receiving: into its bizLocation (else readPoint) — unless a shipping event captured before,
  naming the same goods, booked them to this location already (its receiving must not count
  them twice);
* a side that is not a known location stays empty; without a known location of ours on the
  side the event is about, the event moves no stock we keep.

Movements from events are facts received, not requests: they are not held to the stock on
hand (a missing receipt shows as a negative balance on the stock register, for a person to
find). An event's movements are keyed by its eventID, so a re-sent event books nothing twice.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.platform import trace
from pharmaqms.platform.epcis import Action, EPCISEvent, ObjectEvent
from pharmaqms.platform.genealogy.containment import containment
from pharmaqms.platform.gs1 import GS1Error, KeyKind, parse_identifier
from pharmaqms.platform.inventory.matching import EPCIS as EPCIS_CHANNEL
from pharmaqms.platform.inventory.movements import COUNT_UNIT, MovementType
from pharmaqms.platform.inventory.record import MovementDraft, record_movement
from pharmaqms.platform.masterdata.models import Location, Lot, LotKind, Product
from pharmaqms.platform.traceability.models import (
    EpcisEvent,
    EpcisEventObject,
    InventoryMovement,
    SerialisedPack,
)

# Commissioning (action ADD) at a location of ours is production output entering its stock:
# booked as a receipt, or what the site ships would leave it negative.
STEPS: Final = {
    "receiving": MovementType.RECEIPT,
    "commissioning": MovementType.RECEIPT,
    "shipping": MovementType.SHIPMENT,
}
# UN/CEFACT codes of "one each" (EPCIS uom is a UN/ECE Rec 20 code).
COUNT_UOMS: Final = frozenset({"EA", "C62", "H87", "PCE", "NAR"})
_SESSION_PLACES: Final = "pharmaqms.inventory.epcis_places"


def _bare_step(step: str | None) -> str:
    if not step:
        return ""
    for prefix in ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"):
        if step.startswith(prefix):
            return step[len(prefix) :]
    return step


def _places(session: Session) -> dict[str, Location]:
    """Our locations by the canonical spelling of their EPC URI (cached per session)."""
    cached = session.info.get(_SESSION_PLACES)
    if cached is None:
        cached = {
            trace.canonical(place.epc_uri): place
            for place in session.scalars(select(Location).where(Location.epc_uri.is_not(None)))
            if place.epc_uri
        }
        session.info[_SESSION_PLACES] = cached
    return dict(cached)


def _place(places: dict[str, Location], *uris: str | None) -> Location | None:
    for uri in uris:
        if uri and (found := places.get(trace.canonical(uri))) is not None:
            return found
    return None


def _located(event: ObjectEvent, side: str) -> list[str]:
    entries = event.sources if side == "source" else event.destinations
    return [e.value for e in entries if e.type.endswith("location")]


def _lot_of_class(session: Session, epc_class: str) -> int | None:
    try:
        key = parse_identifier(epc_class)
    except GS1Error:
        return None
    if key is None or key.kind is not KeyKind.LGTIN or not key.gtin or not key.lot:
        return None
    return session.scalar(
        select(Lot.id)
        .join(Product, Product.id == Lot.product_id)
        .where(
            Product.gtin == key.gtin,
            Lot.lot_number == key.lot,
            Lot.kind == LotKind.FINISHED.value,
        )
    )


def _packs_by_lot(session: Session, event: ObjectEvent) -> Counter[int]:
    counted: Counter[int] = Counter()
    for q in event.quantity_list:
        if q.quantity is None or (q.uom and q.uom.upper() not in COUNT_UOMS):
            continue
        lot_id = _lot_of_class(session, q.epc_class)
        if lot_id is not None and q.quantity > 0:
            counted[lot_id] += int(q.quantity) if q.quantity == int(q.quantity) else 0
    packs: list[str] = []
    for raw in event.epc_list:
        epc = trace.canonical(raw)
        try:
            key = parse_identifier(raw)
        except GS1Error:
            continue
        if key is not None and key.kind is KeyKind.SGTIN:
            packs.append(epc)
        else:  # a container: the packs it held when the event happened
            held = containment(session, epc, event.event_time)
            packs.extend(h.epc for h in held.contents)
    for start in range(0, len(packs), 500):
        for lot_id in session.scalars(
            select(SerialisedPack.lot_id).where(
                SerialisedPack.epc.in_(packs[start : start + 500]),
                SerialisedPack.lot_id.is_not(None),
            )
        ):
            if lot_id is not None:
                counted[lot_id] += 1
    return counted


def _booked_by_shipping(session: Session, event: ObjectEvent, lot_id: int, place: Location) -> bool:
    """A shipping event captured before, naming any of these EPCs, that booked the lot to
    ``place`` already."""
    epcs = [trace.canonical(e) for e in event.epc_list] + [
        trace.canonical(q.epc_class) for q in event.quantity_list
    ]
    if not epcs:
        return False
    shipped = (
        select(EpcisEventObject.event_id)
        .join(EpcisEvent, EpcisEvent.id == EpcisEventObject.event_id)
        .where(
            EpcisEventObject.epc.in_(epcs),
            EpcisEvent.event_time <= event.event_time,
        )
    )
    return (
        session.scalar(
            select(InventoryMovement.id).where(
                InventoryMovement.epcis_event_id.in_(shipped),
                InventoryMovement.movement_type == MovementType.SHIPMENT.value,
                InventoryMovement.lot_id == lot_id,
                InventoryMovement.to_location_id == place.id,
            )
        )
        is not None
    )


def _reference(key: str) -> str:
    reference = f"epcis:{key}"
    if len(reference) <= 80:
        return reference
    return "epcis:sha256:" + hashlib.sha256(key.encode()).hexdigest()[:48]


def movements_of_event(
    session: Session,
    event: EPCISEvent,
    row: EpcisEvent,
    *,
    run_id: int | None,
    source_id: int | None,
) -> list[InventoryMovement]:
    """Book the stock movements a captured receiving or shipping event says happened."""
    if not isinstance(event, ObjectEvent) or event.error_declaration is not None:
        return []
    step = _bare_step(event.biz_step)
    kind = STEPS.get(step)
    if kind is None or event.action is Action.DELETE:
        return []
    if step == "commissioning" and event.action is not Action.ADD:
        return []
    places = _places(session)
    if kind is MovementType.SHIPMENT:
        origin = _place(places, event.read_point, event.biz_location, *_located(event, "source"))
        target = _place(places, *_located(event, "destination"))
        if origin is None or origin.is_customer:
            return []
    else:
        origin = None
        target = _place(places, event.biz_location, event.read_point)
        if target is None:
            return []
    counted = _packs_by_lot(session, event)
    order = next((t.value[:80] for t in event.biz_transactions), None)
    booked = []
    for lot_id, packs in sorted(counted.items()):
        if packs <= 0:
            continue
        if kind is MovementType.RECEIPT:
            assert target is not None
            if _booked_by_shipping(session, event, lot_id, target):
                continue
        recorded = record_movement(
            session,
            MovementDraft(
                lot_id=lot_id,
                movement_type=kind.value,
                quantity=float(packs),
                unit=COUNT_UNIT,
                moved_at=event.event_time,
                reference=_reference(row.event_id),
                from_location=origin,
                to_location=target,
                order_reference=order,
                run_id=run_id,
                source_id=source_id,
                epcis_event_id=row.id,
                channel=EPCIS_CHANNEL,
            ),
            check_stock=False,
        )
        if recorded.movement is not None and not recorded.duplicate:
            booked.append(recorded.movement)
    return booked
