"""What the lot safety tests share: a product with five shipped lots and one never shipped,
and staff cases citing them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.lifecycle.use.cases.pv_steps import staff_report

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import service as cases
from pharmaqms.lifecycle.use.cases.intake import ProductReport
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.traceability import shipments

PRODUCT = "Paracetamol 500 mg tablets"
SHIPPED = ("L1", "L2", "L3", "L4", "L5")
NEVER_SHIPPED = "L6"


def shipped_lots(db: Database, people: Any) -> dict[str, int]:
    """Lots L1–L5 of PARA500, 10 000 tablets each on its own shipment; L6 never shipped."""
    ids = {}
    with unit_of_work(db) as s:
        masterdata.add_product(
            s, actor=people.admin, gtin="05012345678900", code="PARA500", name=PRODUCT
        )
        for code in ("WH-1", "PH-1"):
            masterdata.add_location(s, actor=people.admin, code=code, name=code, kind="warehouse")
        for number in (*SHIPPED, NEVER_SHIPPED):
            lot = masterdata.add_lot(
                s,
                actor=people.admin,
                kind="finished",
                item_code="PARA500",
                lot_number=number,
                status="released",
            )
            s.flush()
            ids[number] = lot.id
        for number in SHIPPED:
            shipments.register_shipment(
                s,
                actor=people.logistics,
                code=f"SH-{number}",
                origin_code="WH-1",
                destination_code="PH-1",
                status="delivered",
            )
            shipments.load_lot(
                s,
                actor=people.logistics,
                shipment_code=f"SH-{number}",
                lot_id=ids[number],
                quantity=10_000,
                unit="tablet",
                moved_at=datetime(2026, 2, 1, tzinfo=UTC),
                reference=f"DN-{number}",
            )
    return ids


def cases_citing(db: Database, people: Any, lot_number: str, how_many: int) -> None:
    with unit_of_work(db) as s:
        for i in range(how_many):
            cases.record_case(
                s,
                actor=people.pv,
                report=staff_report(
                    patient_initials=f"{lot_number[:2]}{i}",
                    narrative=f"Report {i} on lot {lot_number}.",
                    products=(ProductReport(PRODUCT, lot_number),),
                ),
            )


def concentrated(db: Database, people: Any) -> dict[str, int]:
    """12 cases on L3, one on each other shipped lot, 5 on the never-shipped L6."""
    ids = shipped_lots(db, people)
    for number in SHIPPED:
        cases_citing(db, people, number, 12 if number == "L3" else 1)
    cases_citing(db, people, NEVER_SHIPPED, 5)
    return ids
