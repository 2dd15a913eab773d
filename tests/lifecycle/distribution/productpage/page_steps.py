"""What the product page tests share: packs commissioned through EPCIS (one in the supply
chain, one dispensed, one recalled), the product's master data with a supplier that must never
show, a lot recalled in master data, and counts of what a refusal must leave unchanged."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import func, select

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution.serials.models import SerialVerification
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import LotKind, LotStatus

GTIN = "19506000343522"  # urn:epc:id:sgtin:9506000.134352.*
SUPPLIER = "Zentrallabor Vertraulich GmbH"
PRODUCT = "Coldivax suspension for injection"


def _pack(serial: str) -> str:
    return f"urn:epc:id:sgtin:9506000.134352.{serial}"


def _event(day: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": f"2026-02-{day:02d}T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        **fields,
    }


EVENTS = [
    _event(
        1,
        action="ADD",
        epcList=[_pack(s) for s in ("S1", "S2", "S3")],
        bizStep="commissioning",
        disposition="active",
        ilmd={"cbvmda:lotNumber": "L1", "cbvmda:itemExpirationDate": "2028-01-31"},
    ),
    _event(
        2, action="OBSERVE", epcList=[_pack("S2")], bizStep="dispensing", disposition="dispensed"
    ),
    _event(3, action="OBSERVE", epcList=[_pack("S3")], bizStep="holding", disposition="recalled"),
]


def product_with_packs(db: Database, people: Any) -> dict[str, int]:
    """Returns the internal ids a page must never show."""
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-02-06T00:00:00Z",
        "epcisBody": {"eventList": EVENTS},
    }
    with unit_of_work(db) as s:
        product = masterdata.add_product(
            s,
            actor=people.admin,
            gtin=GTIN,
            code="PRD-COLDIVAX-77",
            name=PRODUCT,
            strength="0.5 mL",
            dosage_form="Suspension for injection",
            storage_min_c=2.0,
            storage_max_c=8.0,
        )
        supplier = masterdata.add_supplier(s, actor=people.admin, code="SUP-4711", name=SUPPLIER)
        lot = masterdata.add_lot(
            s,
            actor=people.admin,
            kind=LotKind.FINISHED.value,
            item_code=product.code,
            lot_number="L1",
            supplier_code=supplier.code,
            expires_on=date(2028, 1, 31),
        )
        recalled = masterdata.add_lot(
            s,
            actor=people.admin,
            kind=LotKind.FINISHED.value,
            item_code=product.code,
            lot_number="L9",
            expires_on=date(2027, 5, 31),
        )
        for status in (LotStatus.RELEASED, LotStatus.RECALLED):
            masterdata.set_lot_status(s, recalled, status, actor=people.admin, reason="test")
        s.flush()
        ids = {"product": product.id, "supplier": supplier.id, "lot": lot.id}
    content = json.dumps(document).encode()
    with unit_of_work(db) as s:
        assert ingest.ingest(s, actor=people.logistics, kind="epcis", content=content).rows_accepted
    return ids


def counts(db: Database) -> dict[str, int]:
    with unit_of_work(db, write=False) as s:
        return {
            name: int(s.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in {"verifications": SerialVerification, "audit": AuditEntry}.items()
        }


def verifications(db: Database) -> list[tuple[str, str, str]]:
    with unit_of_work(db, write=False) as s:
        rows = s.execute(
            select(
                SerialVerification.serial, SerialVerification.answer, SerialVerification.channel
            ).order_by(SerialVerification.id)
        )
        return [(r[0], r[1], r[2]) for r in rows]
