"""A product with three lots and a small network of locations, for the inventory tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.masterdata import service as masterdata

GTIN = "09506000134352"
WH_A = "urn:epc:id:sgln:9506000.00001.0"
WH_B = "urn:epc:id:sgln:9506000.00002.0"
PHARMACY = "urn:epc:id:sgln:9506000.00009.0"


def network(db: Database, people: Any) -> dict[str, int]:
    """Product PARA (GTIN above) with released lots L1 (exp. 2028-06-30) and L2 (2027-01-31)
    and L3 in quarantine; warehouses WH-A (GLN 9506000000015) and WH-B, a dispatch area, and
    the customer pharmacy PH-1. Returns lot ids by number."""
    ids = {}
    with unit_of_work(db) as s:
        masterdata.add_product(s, actor=people.admin, gtin=GTIN, code="PARA", name="Paracetamol")
        for code, kind, uri, customer, gln in (
            ("WH-A", "warehouse", WH_A, False, "9506000000015"),
            ("WH-B", "warehouse", WH_B, False, None),
            ("DISPATCH", "warehouse", None, False, None),
            ("PH-1", "pharmacy", PHARMACY, True, None),
        ):
            masterdata.add_location(
                s,
                actor=people.admin,
                code=code,
                name=code,
                kind=kind,
                epc_uri=uri,
                is_customer=customer,
                gln=gln,
            )
        for number, expires, status in (
            ("L1", date(2028, 6, 30), "released"),
            ("L2", date(2027, 1, 31), "released"),
            ("L3", date(2028, 12, 31), "quarantine"),
        ):
            lot = masterdata.add_lot(
                s,
                actor=people.admin,
                kind="finished",
                item_code="PARA",
                lot_number=number,
                expires_on=expires,
                status=status,
            )
            s.flush()
            ids[number] = lot.id
    return ids
