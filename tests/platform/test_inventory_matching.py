"""The same physical movement reported by the WMS/TMS connector and by an EPCIS event counts
once, whichever arrives first; the second record is kept and linked. Quantities that differ are
a finding (the first record is counted); a movement one source alone reports is counted and is
a finding once the window has passed, until the other source's record arrives and is linked.
Refused rows change nothing, links included."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.platform.inventory_setup import GTIN, PHARMACY, WH_A, network
from tests.web.conftest import UiClient

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import QuarantinedRow
from pharmaqms.platform.inventory.match_models import InventoryMovementMatch
from pharmaqms.platform.inventory.matching import findings
from pharmaqms.platform.inventory.stock import shipped_to, stock_on_hand, units_shipped
from pharmaqms.platform.traceability.models import InventoryMovement

HEADER = (
    "movement_type,gtin,product_code,lot_number,quantity,unit,from_location,to_location,"
    "moved_at,reference,order\n"
)
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
SDT_LOCATION = "https://ref.gs1.org/cbv/SDT-location"
ORDER = "urn:epcglobal:cbv:bt:0614141073467:SO-1"
NOW = datetime(2026, 2, 3, 12, 0, tzinfo=UTC)


def lot_class(lot: str) -> str:
    return f"https://id.gs1.org/01/{GTIN}/10/{lot}"


def epcis(people: Any, db: Database, *events: dict[str, Any]) -> None:
    document = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-02-01T10:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }
    with unit_of_work(db) as s:
        run = ingest.ingest(
            s, actor=people.logistics, kind="epcis", content=json.dumps(document).encode()
        )
        assert run.rows_quarantined == 0


def event(n: int, time: str, step: str, lot: str, quantity: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:33333333-0000-4000-8000-{n:012d}",
        "eventTime": time,
        "eventTimeZoneOffset": "+01:00",
        "action": "OBSERVE",
        "bizStep": step,
        "quantityList": [{"epcClass": lot_class(lot), "quantity": quantity}],
        **fields,
    }


def received(n: int, time: str, lot: str, quantity: int) -> dict[str, Any]:
    return event(n, time, "receiving", lot, quantity, bizLocation={"id": WH_A})


def shipped(n: int, time: str, lot: str, quantity: int) -> dict[str, Any]:
    return event(
        n,
        time,
        "shipping",
        lot,
        quantity,
        readPoint={"id": WH_A},
        destinationList=[{"type": SDT_LOCATION, "destination": PHARMACY}],
        bizTransactionList=[{"type": "po", "bizTransaction": ORDER}],
    )


def wms(people: Any, db: Database, rows: str) -> Any:
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.logistics, kind="wms", content=(HEADER + rows).encode())
        return run.rows_accepted, run.rows_quarantined


def receipt(lot: str, quantity: int, time: str, reference: str) -> str:
    """A WMS receipt row into WH-A."""
    return f"receipt,,PARA,{lot},{quantity},ea,,WH-A,{time},{reference},\n"


def stock(db: Database) -> dict[tuple[str, str], float]:
    with unit_of_work(db, write=False) as s:
        return {(x.location_code, x.lot_number): x.quantity for x in stock_on_hand(s)}


def table_counts(db: Database) -> tuple[int, int, int]:
    with unit_of_work(db, write=False) as s:
        return tuple(  # type: ignore[return-value]
            int(s.scalar(select(func.count()).select_from(model)) or 0)
            for model in (InventoryMovement, InventoryMovementMatch, QuarantinedRow)
        )


def links(db: Database) -> list[tuple[str, bool, bool, float]]:
    with unit_of_work(db, write=False) as s:
        return [
            (m.outcome, m.from_side, m.to_side, m.difference)
            for m in s.scalars(select(InventoryMovementMatch).order_by(InventoryMovementMatch.id))
        ]


def kinds(db: Database) -> list[tuple[str, str, str]]:
    with unit_of_work(db, write=False) as s:
        return [(f.kind, f.lot_number, f.location_code) for f in findings(s)]


def test_a_receipt_from_epcis_then_the_wms_counts_once(db, people) -> None:  # type: ignore[no-untyped-def]
    with clock.frozen_at(NOW) as now:
        network(db, people)
        epcis(people, db, received(1, "2026-02-01T08:00:00+01:00", "L1", 120))
        rows = "receipt,,PARA,L1,120,ea,,WH-A,2026-02-01T09:30:00+01:00,R-1,\n"
        assert wms(people, db, rows) == (1, 0)
        assert stock(db) == {("WH-A", "L1"): 120.0}
        assert table_counts(db)[:2] == (2, 1)  # both records kept, linked
        assert links(db) == [("agrees", False, True, 0.0)]
        now.advance(days=2)
        assert kinds(db) == []


@pytest.mark.postgres
def test_a_shipment_from_the_wms_then_epcis_counts_once_and_in_the_other_order_too(
    db, people
) -> None:  # type: ignore[no-untyped-def]
    with clock.frozen_at(NOW):
        ids = network(db, people)
        rows = (
            f"receipt,{GTIN},,L1,100,ea,,WH-A,2026-02-01T08:00:00+01:00,R-1,\n"
            "shipment,,PARA,L1,30,ea,WH-A,PH-1,2026-02-02T08:00:00+01:00,S-1,SO-1\n"
            f"receipt,{GTIN},,L2,30,ea,,WH-A,2026-02-01T08:00:00+01:00,R-2,\n"
        )
        assert wms(people, db, rows) == (3, 0)
        epcis(
            people,
            db,
            shipped(1, "2026-02-02T08:05:00+01:00", "L1", 30),  # WMS first
            shipped(2, "2026-02-02T10:00:00+01:00", "L2", 30),  # EPCIS first: all of L2
        )
        # The WMS's shipment of L2 comes after EPCIS took the stock to 0: not beyond stock,
        # because it is the same movement, taken once.
        wms_l2 = "shipment,,PARA,L2,30,ea,WH-A,PH-1,2026-02-02T10:20:00+01:00,S-2,SO-1\n"
        assert wms(people, db, wms_l2) == (1, 0)
        assert stock(db) == {("WH-A", "L1"): 70.0}
        assert len(links(db)) == 2
        assert all(outcome == "agrees" for outcome, *_ in links(db))
        # Both sides name the pharmacy: it received each lot once.
        with unit_of_work(db, write=False) as s:
            assert units_shipped(s, [ids["L1"], ids["L2"]]) == {
                ids["L1"]: units_shipped(s, [ids["L1"]])[ids["L1"]],
                ids["L2"]: units_shipped(s, [ids["L2"]])[ids["L2"]],
            }
            assert units_shipped(s, [ids["L1"]])[ids["L1"]].quantity == 30.0
            assert units_shipped(s, [ids["L2"]])[ids["L2"]].quantity == 30.0
            reached = shipped_to(s, [ids["L1"], ids["L2"]])
            assert sorted(reached.values()) == [30.0, 30.0]


def test_quantities_that_differ_are_a_finding_and_the_first_record_counts(  # type: ignore[no-untyped-def]
    db, people, api, app
) -> None:
    with clock.frozen_at(NOW):
        network(db, people)
        epcis(people, db, received(1, "2026-02-01T08:00:00+01:00", "L1", 120))
        assert wms(people, db, receipt("L1", 100, "2026-02-01T08:10:00+01:00", "R-1")) == (1, 0)
        # The first record (EPCIS) is counted; the WMS's is kept, linked, not added.
        assert stock(db) == {("WH-A", "L1"): 120.0}
        assert links(db) == [("quantity_differs", False, True, -20.0)]
        assert kinds(db) == [("quantity_differs", "L1", "WH-A")]
        client = api("qa")
        answer = client.get("/api/v1/distribution/inventory/reconciliation")
        assert answer.status_code == 200, answer.text
        (finding,) = answer.json()
        assert (finding["counted_quantity"], finding["other_quantity"]) == (120.0, 100.0)
        assert finding["direction"] == "into" and "EPCIS (counted) says 120" in finding["detail"]
        page = UiClient(app)
        assert page.login("qa").status_code == 303
        shown = page.get("/distribution/inventory/reconciliation")
        assert shown.status_code == 200
        assert shown.text.count('data-kind="quantity_differs"') == 1
        assert "#1: 120 pack" in shown.text and ": 100 pack" in shown.text


@pytest.mark.postgres
def test_a_movement_only_one_source_reports_is_counted_a_finding_then_linked_when_the_other_comes(
    db, people
) -> None:  # type: ignore[no-untyped-def]
    with clock.frozen_at(NOW) as now:
        network(db, people)
        # Both sources report on WH-A.
        epcis(people, db, received(1, "2026-02-03T08:00:00+01:00", "L1", 10))
        assert wms(people, db, receipt("L1", 10, "2026-02-03T08:00:00+01:00", "R-1")) == (1, 0)
        epcis(people, db, received(2, "2026-02-03T12:00:00+01:00", "L2", 50))
        assert stock(db) == {("WH-A", "L1"): 10.0, ("WH-A", "L2"): 50.0}
        assert kinds(db) == []  # within the window: nothing to say yet
        now.advance(hours=6)
        assert kinds(db) == [("only_epcis", "L2", "WH-A")]
        # The WMS's record arrives late, but its time is within the window of the event's.
        assert wms(people, db, receipt("L2", 50, "2026-02-03T13:00:00+01:00", "R-2")) == (1, 0)
        assert stock(db) == {("WH-A", "L1"): 10.0, ("WH-A", "L2"): 50.0}
        assert kinds(db) == []
        # A receipt outside the window is another movement: counted, and a finding.
        assert wms(people, db, receipt("L2", 5, "2026-02-03T07:00:00+01:00", "R-3")) == (1, 0)
        assert stock(db)[("WH-A", "L2")] == 55.0
        assert kinds(db) == [("only_wms", "L2", "WH-A")]


def test_refused_rows_change_nothing_links_included(db, people) -> None:  # type: ignore[no-untyped-def]
    with clock.frozen_at(NOW):
        network(db, people)
        epcis(people, db, received(1, "2026-02-01T08:00:00+01:00", "L1", 10))
        before = (table_counts(db), stock(db), links(db))
        rows = (
            "receipt,,PARA,L9,10,ea,,WH-A,2026-02-01T08:00:00+01:00,R-1,\n"  # unknown lot
            "pick,,PARA,L1,50,ea,WH-A,DISPATCH,2026-02-01T08:30:00+01:00,P-1,\n"  # beyond stock
            "receipt,,PARA,L1,10,kg,,WH-A,2026-02-01T08:00:00+01:00,R-2,\n"  # not a count
        )
        assert wms(people, db, rows) == (0, 3)
        movements, matches, quarantined = table_counts(db)
        assert (movements, matches) == before[0][:2] and quarantined == before[0][2] + 3
        assert (stock(db), links(db)) == before[1:]
