"""EPCIS receiving and shipping events book inventory movements at capture: counted from a
quantityList (lot classes) or from serialised packs, once per event; a receiving after our own
shipping to the same place books nothing twice; other steps move no stock."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from tests.platform.inventory_setup import GTIN, PHARMACY, WH_A, WH_B, network

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.inventory.stock import stock_on_hand, units_shipped
from pharmaqms.platform.traceability.models import InventoryMovement

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
LOT1 = f"https://id.gs1.org/01/{GTIN}/10/L1"
ORDER = "urn:epcglobal:cbv:bt:0614141073467:PO-1"
SDT_LOCATION = "https://ref.gs1.org/cbv/SDT-location"


def _document(*events: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-02-01T10:00:00Z",
            "epcisBody": {"eventList": list(events)},
        }
    ).encode()


def _event(event_id: str, time: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventID": event_id,
        "eventTime": time,
        "eventTimeZoneOffset": "+01:00",
        "action": "OBSERVE",
        **fields,
    }


def _movements(db: Any) -> list[tuple[Any, ...]]:
    with unit_of_work(db, write=False) as s:
        return [
            (
                m.movement_type,
                m.quantity,
                m.from_location_id is not None,
                m.to_location_id is not None,
                m.order_reference,
            )
            for m in s.scalars(select(InventoryMovement).order_by(InventoryMovement.id))
        ]


def test_receiving_and_shipping_with_quantities_move_stock(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    ids = network(db, people)
    received = _event(
        "urn:uuid:11111111-0000-4000-8000-000000000001",
        "2026-02-01T08:00:00+01:00",
        bizStep="receiving",
        disposition="in_progress",
        bizLocation={"id": WH_A},
        quantityList=[{"epcClass": LOT1, "quantity": 120}],
    )
    shipped = _event(
        "urn:uuid:11111111-0000-4000-8000-000000000002",
        "2026-02-02T08:00:00+01:00",
        bizStep="shipping",
        disposition="in_transit",
        readPoint={"id": WH_A},
        destinationList=[{"type": SDT_LOCATION, "destination": PHARMACY}],
        bizTransactionList=[{"type": "po", "bizTransaction": ORDER}],
        quantityList=[{"epcClass": LOT1, "quantity": 30}],
    )
    arrived = _event(
        "urn:uuid:11111111-0000-4000-8000-000000000003",
        "2026-02-02T14:00:00+01:00",
        bizStep="receiving",
        bizLocation={"id": PHARMACY},
        quantityList=[{"epcClass": LOT1, "quantity": 30}],
    )
    counted = _event(
        "urn:uuid:11111111-0000-4000-8000-000000000004",
        "2026-02-03T08:00:00+01:00",
        bizStep="inspecting",
        bizLocation={"id": WH_A},
        quantityList=[{"epcClass": LOT1, "quantity": 5}],
    )
    document = _document(received, shipped, arrived, counted)
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="epcis", content=document)
    # The pharmacy's own receiving of our shipment books nothing: the shipment brought it.
    assert _movements(db) == [
        ("receipt", 120.0, False, True, None),
        ("shipment", 30.0, True, True, ORDER),
    ]
    with unit_of_work(db) as s:
        again = ingest.ingest(s, actor=people.logistics, kind="epcis", content=document)
        assert again.rows_duplicate == 4
    assert len(_movements(db)) == 2
    with unit_of_work(db, write=False) as s:
        stock = {(x.location_code, x.lot_number): x.quantity for x in stock_on_hand(s)}
        shipped_units = units_shipped(s, [ids["L1"]])
    assert stock == {("WH-A", "L1"): 90.0}
    assert shipped_units[ids["L1"]].quantity == 30.0


def test_serialised_packs_are_counted_by_their_lot(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    network(db, people)
    packs = [f"https://id.gs1.org/01/{GTIN}/21/S{n}" for n in range(1, 6)]
    commissioned = _event(
        "urn:uuid:22222222-0000-4000-8000-000000000001",
        "2026-02-01T07:00:00+01:00",
        action="ADD",
        bizStep="commissioning",
        epcList=packs,
        ilmd={"cbvmda:lotNumber": "L2", "cbvmda:itemExpirationDate": "2027-01-31"},
        bizLocation={"id": "urn:epc:id:sgln:9506000.00077.0"},  # the maker's site, not ours
    )
    received = _event(
        "urn:uuid:22222222-0000-4000-8000-000000000002",
        "2026-02-01T09:00:00+01:00",
        bizStep="receiving",
        bizLocation={"id": WH_B},
        epcList=packs[:4],
    )
    with unit_of_work(db) as s:
        ingest.ingest(
            s, actor=people.logistics, kind="epcis", content=_document(commissioned, received)
        )
    with unit_of_work(db, write=False) as s:
        stock = {(x.location_code, x.lot_number): x.quantity for x in stock_on_hand(s)}
    assert stock == {("WH-B", "L2"): 4.0}


def test_a_pallet_shipped_counts_the_packs_it_held(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    # Commissioned at WH-A (a receipt), 3 of 4 packs packed on a pallet, the pallet shipped to
    # the pharmacy: WH-A keeps the one pack left out.
    network(db, people)
    packs = [f"https://id.gs1.org/01/{GTIN}/21/P{n}" for n in range(1, 5)]
    pallet = "urn:epc:id:sscc:9506000.0000000001"
    commissioned = _event(
        "urn:uuid:33333333-0000-4000-8000-000000000001",
        "2026-02-01T07:00:00+01:00",
        action="ADD",
        bizStep="commissioning",
        epcList=packs,
        ilmd={"cbvmda:lotNumber": "L1", "cbvmda:itemExpirationDate": "2028-06-30"},
        bizLocation={"id": WH_A},
    )
    packed = {
        "type": "AggregationEvent",
        "eventID": "urn:uuid:33333333-0000-4000-8000-000000000002",
        "eventTime": "2026-02-01T08:00:00+01:00",
        "eventTimeZoneOffset": "+01:00",
        "action": "ADD",
        "bizStep": "packing",
        "parentID": pallet,
        "childEPCs": packs[:3],
        "bizLocation": {"id": WH_A},
    }
    shipped = _event(
        "urn:uuid:33333333-0000-4000-8000-000000000003",
        "2026-02-01T09:00:00+01:00",
        bizStep="shipping",
        readPoint={"id": WH_A},
        destinationList=[{"type": SDT_LOCATION, "destination": PHARMACY}],
        epcList=[pallet],
    )
    with unit_of_work(db) as s:
        ingest.ingest(
            s,
            actor=people.logistics,
            kind="epcis",
            content=_document(commissioned, packed, shipped),
        )
    assert _movements(db) == [
        ("receipt", 4.0, False, True, None),
        ("shipment", 3.0, True, True, None),
    ]
    with unit_of_work(db, write=False) as s:
        stock = {(x.location_code, x.lot_number): x.quantity for x in stock_on_hand(s)}
    assert stock == {("WH-A", "L1"): 1.0}
