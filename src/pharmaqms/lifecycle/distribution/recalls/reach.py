"""Who the recalled goods reached, and how many of them: the genealogy's recall scope (the
platform's forward trace) with, per place, the quantity of affected units shipped to it.

A shipping event moves containers or packs as a whole; the affected units it carried are the
affected packs inside what it names at that moment (pallet → cases → packs), plus any quantity
of an affected class named directly. The destination is the event's destination location
(CBV ``location`` source/destination). A place that received goods without a shipping event
naming it (a ``receiving`` event at its ``bizLocation``) is listed with what it received.

Inventory movements (a WMS's receipts, moves and shipments) of our lots in scope add the places
they reached that no EPCIS event names, with the quantity moved there: where both describe a
place, the serialised EPCIS count is kept, so that one shipment is never counted twice."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.platform import trace
from pharmaqms.platform.epcis import EPCISEvent
from pharmaqms.platform.genealogy.graph import RecallScope, ScopeLocation
from pharmaqms.platform.genealogy.identifiers import resolve
from pharmaqms.platform.genealogy.scope import traced
from pharmaqms.platform.genealogy.service import forward_starts_of
from pharmaqms.platform.inventory.match_models import counted
from pharmaqms.platform.masterdata.models import Location
from pharmaqms.platform.traceability.models import InventoryMovement


@dataclass(frozen=True, slots=True)
class PlaceReached:
    place: ScopeLocation
    quantity: int
    first_shipped_at: datetime | None


@dataclass(frozen=True, slots=True)
class Reach:
    scope: RecallScope
    places: tuple[PlaceReached, ...]
    """Every place reached other than where the goods started, customers first."""


def _units(event: EPCISEvent, snapshot: trace.Snapshot, items: set[str], lots: set[str]) -> int:
    moved: set[str] = set()
    for raw in getattr(event, "epc_list", ()) or ():
        top = trace.canonical(raw)
        moved |= {top} | snapshot.contents(top)
    count = len(moved & items)
    for q in getattr(event, "quantity_list", ()) or ():
        if trace.canonical(q.epc_class) in lots and q.quantity is not None:
            count += int(q.quantity)
    return count


def quantities(
    events: list[EPCISEvent], items: Iterable[str], lots: Iterable[str]
) -> tuple[dict[str, int], dict[str, datetime]]:
    """Affected units shipped to (else received at) each place, and when first shipped."""
    affected, classes = set(items), set(lots)
    shipped: dict[str, int] = {}
    received: dict[str, int] = {}
    first: dict[str, datetime] = {}
    for event in events:
        if event.biz_step not in ("shipping", "receiving"):
            continue
        units = _units(event, trace.replay(events, event.event_time), affected, classes)
        if event.biz_step == "shipping":
            for d in event.destinations:
                if d.type == "location":
                    place = trace.canonical(d.value)
                    shipped[place] = shipped.get(place, 0) + units
                    first.setdefault(place, event.event_time)
        elif event.biz_location:
            place = trace.canonical(event.biz_location)
            received[place] = received.get(place, 0) + units
    return {**received, **shipped}, first


def reach(session: Session, identifiers: Iterable[str], at: datetime | None = None) -> Reach:
    """The scope of every identifier together (a lot, a pack, an SSCC), and the places."""
    starts: list[str] = []
    first_start = ""
    for identifier in identifiers:
        start, more = forward_starts_of(session, identifier)
        first_start = first_start or start
        starts += more
    scope, events = traced(session, first_start, starts, at)
    counts, first = quantities(events, scope.items, scope.lots)
    origins = {s.origin for s in scope.shipments if s.origin} - set(counts)
    places = [
        PlaceReached(loc, counts.get(loc.id, 0), first.get(loc.id))
        for loc in scope.locations
        if loc.id not in origins and (loc.id in counts or loc.is_customer)
    ]
    places += _moved(session, scope, {p.place.id for p in places} | origins, at)
    places.sort(key=lambda p: (not p.place.is_customer, p.place.name))
    return Reach(scope, tuple(places))


def _moved(
    session: Session, scope: RecallScope, known: set[str], at: datetime | None
) -> list[PlaceReached]:
    """Places that inventory movements of our lots in scope reached and no event names."""
    lot_ids = {resolve(session, lot).lot_id for lot in scope.lots} - {None}
    if not lot_ids:
        return []
    query = (
        select(
            Location.id,
            Location.code,
            Location.name,
            Location.kind,
            Location.is_customer,
            Location.epc_uri,
            func.sum(InventoryMovement.quantity),
            func.min(InventoryMovement.moved_at),
        )
        .join(Location, Location.id == InventoryMovement.to_location_id)
        .where(InventoryMovement.lot_id.in_(lot_ids), counted("to"))
        .group_by(Location.id)
    )
    if at is not None:
        query = query.where(InventoryMovement.moved_at <= at)
    found = []
    for _id, code, name, kind, customer, uri, quantity, first in session.execute(query):
        place = trace.canonical(uri) if uri else f"location:{code}"
        if place in known or not quantity or quantity <= 0:
            continue
        reached = ScopeLocation(place, code, name, kind, bool(customer), first, "movement")
        found.append(PlaceReached(reached, int(quantity), first))
    return found
