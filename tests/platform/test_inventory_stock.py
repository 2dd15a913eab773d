"""Stock on hand per location, lot and status: the status is derived from the lot's status, its
open holds and its expiry date, never taken from the warehouse."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from tests.platform.inventory_setup import GTIN, network

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.inventory.stock import LotState, StockStatus, stock_on_hand, stock_status
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Lot

TODAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (LotState("released", date(2027, 1, 1)), StockStatus.RELEASED),
        (LotState("released", date(2026, 3, 2)), StockStatus.RELEASED),  # usable on its day
        (LotState("released", date(2026, 3, 1)), StockStatus.EXPIRED),
        (LotState("released", date(2027, 1, 1), ("DEV-2026-0001",)), StockStatus.ON_HOLD),
        (LotState("on_hold", date(2027, 1, 1)), StockStatus.ON_HOLD),
        (LotState("quarantine", date(2027, 1, 1)), StockStatus.QUARANTINE),
        (LotState("quarantine", date(2026, 1, 1)), StockStatus.EXPIRED),
        (LotState("rejected", date(2026, 1, 1)), StockStatus.REJECTED),
        (LotState("recalled", date(2027, 1, 1), ("RC-1",)), StockStatus.RECALLED),
        (LotState("expired", date(2027, 1, 1)), StockStatus.EXPIRED),
    ],
)
def test_the_status_of_stock_is_derived(state: LotState, expected: StockStatus) -> None:
    assert stock_status(state, TODAY)[0] is expected


def test_the_register_shows_each_lot_with_its_derived_status(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    network(db, people)
    with unit_of_work(db) as s:
        masterdata.add_lot(
            s,
            actor=people.admin,
            kind="finished",
            item_code="PARA",
            lot_number="L4",
            expires_on=date(2026, 2, 28),
            status="released",
        )
    rows = "".join(
        f"receipt,{GTIN},,{lot},10,ea,,WH-A,2026-02-01T08:00:00+01:00,R-{lot},\n"
        for lot in ("L1", "L2", "L3", "L4")
    )
    content = (
        "movement_type,gtin,product_code,lot_number,quantity,unit,from_location,to_location,"
        "moved_at,reference,order\n" + rows
    ).encode()
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="wms", content=content)
        lot2 = s.scalars(select(Lot).where(Lot.lot_number == "L2")).one()
        masterdata.set_lot_status(
            s, lot2, "on_hold", actor=people.qa, reason="excursion", holder="EXA-2026-0001"
        )
    with unit_of_work(db, write=False) as s:
        found = {x.lot_number: (x.status.value, x.why) for x in stock_on_hand(s)}
        held = [x.lot_number for x in stock_on_hand(s, status="on_hold")]
        of_other_product = stock_on_hand(s, product_code="OTHER")
    assert found == {
        "L1": ("released", "released"),
        "L2": ("on_hold", "on hold by EXA-2026-0001"),
        "L3": ("quarantine", "not released yet"),
        "L4": ("expired", "expired on 2026-02-28"),
    }
    assert held == ["L2"]
    assert of_other_product == []
