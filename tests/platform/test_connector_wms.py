"""The WMS/TMS connector: receipts, moves, picks, shipments, returns and adjustments as CSV and
JSON, taken row by row; bad rows quarantined with specific reasons and nothing else changed;
a movement stored once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.platform.inventory_setup import GTIN, network

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.connectors.wms import INVENTORY_MOVEMENT
from pharmaqms.platform.governance.rules import Context, check
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import Lineage, QuarantinedRow
from pharmaqms.platform.inventory.movements import packs_per_unit
from pharmaqms.platform.inventory.stock import stock_on_hand, units_shipped
from pharmaqms.platform.masterdata.models import Location, Lot
from pharmaqms.platform.traceability.models import InventoryMovement

HEADER = (
    "movement_type,gtin,product_code,lot_number,quantity,unit,from_location,to_location,"
    "moved_at,reference,order\n"
)
GOOD = (
    f"receipt,{GTIN},,L1,100,ea,,WH-A,2026-02-01T08:00:00+01:00,R-1,PO-7\n"
    "move,,PARA,L1,40,pcs,9506000000015,WH-B,2026-02-02T08:00:00+01:00,M-1,\n"
    "pick,,PARA,L1,2,dozen,WH-A,DISPATCH,2026-02-03T08:00:00+01:00,P-1,SO-1\n"
    "shipment,,PARA,L1,24,pack,DISPATCH,PH-1,2026-02-03T12:00:00+01:00,S-1,SO-1\n"
    "return,,PARA,L1,4,ea,PH-1,WH-A,2026-02-10T12:00:00+01:00,RT-1,SO-1\n"
    "adjustment,,PARA,L1,1,ea,WH-B,,2026-02-11T12:00:00+01:00,A-1,\n"
)
BAD = (
    "pick,,PARA,L1,500,ea,WH-A,DISPATCH,2026-02-20T08:00:00+01:00,P-2,SO-2\n"
    "receipt,,PARA,L9,10,ea,,WH-A,2026-02-01T08:00:00+01:00,R-2,\n"
    "receipt,,PARA,L1,-5,ea,,WH-A,2026-02-01T08:00:00+01:00,R-3,\n"
    "receipt,,PARA,L1,5,kg,,WH-A,2026-02-01T08:00:00+01:00,R-4,\n"
    "move,,PARA,L1,5,ea,WH-A,WH-Z,2026-02-01T09:00:00+01:00,M-2,\n"
    "receipt,,PARA,L1,5,ea,,WH-A,2026-02-01T08:00:00,R-5,\n"
    "shipment,,PARA,L1,5,ea,,PH-1,2026-02-01T08:00:00+01:00,S-2,\n"
    "receipt,,NOPE,L1,5,ea,,WH-A,2026-02-01T08:00:00+01:00,R-6,\n"
    "receipt,,PARA,L1,0,ea,,WH-A,2026-02-01T08:00:00+01:00,R-7,\n"
    "receipt,,PARA,L1,1.5,ea,,WH-A,2026-02-01T08:00:00+01:00,R-8,\n"
)
# Line numbers of BAD in the CSV (header = line 1, GOOD = lines 2-7) → the reason codes.
BAD_REASONS = {
    "line 8": ["beyond_stock"],
    "line 9": ["unknown_lot"],
    "line 10": ["negative_quantity"],
    "line 11": ["not_a_count"],
    "line 12": ["unknown_location"],
    "line 13": ["no_time_zone"],
    "line 14": ["missing_location"],
    "line 15": ["unknown_product"],
    "line 16": ["zero_quantity"],
    "line 17": ["not_whole"],
}


def _snapshot(db: Any) -> tuple[Any, ...]:
    with unit_of_work(db, write=False) as s:
        movements = sorted(
            (
                m.reference,
                m.lot_id,
                m.movement_type,
                m.quantity,
                m.from_location_id,
                m.to_location_id,
            )
            for m in s.scalars(select(InventoryMovement))
        )
        lots = sorted((lot.lot_number, lot.status, lot.version) for lot in s.scalars(select(Lot)))
        places = int(s.scalar(select(func.count()).select_from(Location)) or 0)
    return tuple(movements), tuple(lots), places


def _reasons(db: Any) -> dict[str, list[str]]:
    with unit_of_work(db, write=False) as s:
        return {
            q.position: [r["code"] for r in q.reasons] for q in s.scalars(select(QuarantinedRow))
        }


@pytest.mark.postgres
def test_a_wms_csv_is_taken_row_by_row_and_moves_stock(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    ids = network(db, people)
    with unit_of_work(db) as s:
        run = ingest.ingest(
            s, actor=people.logistics, kind="wms", content=(HEADER + GOOD + BAD).encode()
        )
        counts = (run.status, run.rows_total, run.rows_accepted, run.rows_quarantined)
    assert counts == ("completed", 16, 6, 10)
    assert _reasons(db) == BAD_REASONS
    with unit_of_work(db, write=False) as s:
        stock = {(x.location_code, x.lot_number): x.quantity for x in stock_on_hand(s)}
        with_customers = {
            (x.location_code, x.lot_number): x.quantity
            for x in stock_on_hand(s, include_customers=True)
        }
        shipped = units_shipped(s, [ids["L1"], ids["L2"]])
        lineage = [(x.field, x.original, x.corrected) for x in s.scalars(select(Lineage))]
        orders = {m.reference: m.order_reference for m in s.scalars(select(InventoryMovement))}
    # WH-A: +100 −40 −24 +4; WH-B: +40 −1; the dispatch area: +24 −24 (empty, not listed).
    assert stock == {("WH-A", "L1"): 40.0, ("WH-B", "L1"): 39.0}
    assert with_customers[("PH-1", "L1")] == 20.0
    assert shipped[ids["L1"]].quantity == 20.0 and shipped[ids["L1"]].unit == "pack"
    assert ids["L2"] not in shipped  # never shipped: unknown, not zero
    assert lineage == [("quantity", "2 dozen", "24 pack")]
    assert orders["P-1"] == "SO-1" and orders["M-1"] is None


def test_json_movements_sent_again_are_stored_once(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    network(db, people)
    rows = [
        {
            "type": "receipt",
            "gtin": GTIN,
            "lot": "L2",
            "qty": 30,
            "uom": "EA",
            "to": "WH-B",
            "timestamp": "2026-02-05T10:00:00Z",
            "reference": "GRN-55",
            "order": "PO-9",
        },
        {
            "type": "pick",
            "product_code": "PARA",
            "lot": "L2",
            "qty": 31,
            "uom": "EA",
            "from": "WH-B",
            "to": "DISPATCH",
            "timestamp": "2026-02-06T10:00:00Z",
            "reference": "PK-1",
        },
    ]
    content = json.dumps({"movements": rows}).encode()
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.logistics, kind="wms", content=content)
        assert (run.rows_accepted, run.rows_quarantined) == (1, 1)
    assert _reasons(db) == {"record 1": ["beyond_stock"]}
    before = _snapshot(db)
    with unit_of_work(db) as s:
        again = ingest.ingest(s, actor=people.logistics, kind="wms", content=content)
        assert (again.rows_accepted, again.rows_quarantined, again.rows_duplicate) == (0, 0, 2)
    assert _snapshot(db) == before


def test_bad_rows_only_change_nothing_but_the_quarantine(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    network(db, people)
    before = _snapshot(db)
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.logistics, kind="wms", content=(HEADER + BAD).encode())
        assert (run.rows_accepted, run.rows_quarantined) == (0, 10)
    assert _snapshot(db) == before
    assert sorted(_reasons(db).values()) == sorted(BAD_REASONS.values())


def test_a_known_reference_with_other_values_conflicts(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    network(db, people)
    first = HEADER + f"receipt,{GTIN},,L1,100,ea,,WH-A,2026-02-01T08:00:00+01:00,R-1,\n"
    changed = HEADER + f"receipt,{GTIN},,L1,90,ea,,WH-A,2026-02-01T08:00:00+01:00,R-1,\n"
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="wms", content=first.encode())
    before = _snapshot(db)
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.logistics, kind="wms", content=changed.encode())
        assert (run.rows_accepted, run.rows_quarantined) == (0, 1)
    assert _snapshot(db) == before
    assert _reasons(db) == {"line 2": ["conflicting_reference"]}


@pytest.mark.parametrize(
    ("unit", "factor"),
    [("ea", 1.0), ("PCS", 1.0), ("pack", 1.0), ("dozen", 12.0), ("count", 1.0)],
)
def test_count_units_are_packs(unit: str, factor: float) -> None:
    assert packs_per_unit(unit) == factor


@pytest.mark.parametrize("unit", ["kg", "mL", "case", "percent", "furlong"])
def test_units_that_are_not_counts_are_refused(unit: str) -> None:
    values = {
        "movement_type": "receipt",
        "product_code": "PARA",
        "lot_number": "L1",
        "quantity": "5",
        "unit": unit,
        "to_location": "WH-A",
        "moved_at": "2026-02-01T08:00:00+01:00",
        "reference": "R-9",
    }
    checked = check(INVENTORY_MOVEMENT, values, Context(now=frozen_now()))
    assert [p.code for p in checked.problems] == ["not_a_count"]


def frozen_now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2026, 3, 2, tzinfo=UTC)


def test_a_shipment_between_our_own_locations_is_not_units_to_the_market(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    ids = network(db, people)
    rows = (
        f"receipt,{GTIN},,L2,50,ea,,WH-A,2026-02-01T08:00:00+01:00,R-1,\n"
        "shipment,,PARA,L2,20,ea,WH-A,WH-B,2026-02-02T08:00:00+01:00,S-1,\n"
        "shipment,,PARA,L2,5,ea,WH-B,PH-1,2026-02-03T08:00:00+01:00,S-2,\n"
        "shipment,,PARA,L2,3,ea,WH-A,,2026-02-03T09:00:00+01:00,S-3,\n"
    )
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.logistics, kind="wms", content=(HEADER + rows).encode())
        assert run.rows_accepted == 4
    with unit_of_work(db, write=False) as s:
        shipped = units_shipped(s, [ids["L2"]])
    # WH-A → WH-B is a transfer of ours; to the pharmacy and to an unknown customer count.
    assert shipped[ids["L2"]].quantity == 8.0
