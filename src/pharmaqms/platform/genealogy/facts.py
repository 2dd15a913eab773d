"""Lot facts: what every module knows about one lot, gathered for the lot's lifecycle page
without the platform (or the module asking) knowing the modules that answer.

A link provider (``providers.py``) draws records into the genealogy graph of many lots; a
*fact provider* answers for one lot with the records a quality reviewer weighs when reports
gather on it: production's batch record exceptions, OOS investigations and SPC alerts,
distribution's excursions and remaining stability budget. Modules register theirs at import
time, exactly like link providers::

    register_fact_provider("production.oos", oos_of)

Each fact is a ``LinkedRecord``; its ``kind`` names the section it is shown in
(``FACT_SECTIONS``). The platform answers for what it holds itself: the raw-material lots that
went into the batch (with their suppliers) and the shipments that carried it. A provider must
not write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from pharmaqms.platform.genealogy.providers import LinkedRecord, LinkProvider
from pharmaqms.platform.inventory.stock import units_shipped
from pharmaqms.platform.masterdata.models import Lot, MaterialConsumption, Supplier
from pharmaqms.platform.traceability.models import InventoryMovement, Shipment

# Section → its heading, in the order a reviewer reads the lot's life.
FACT_SECTIONS: dict[str, str] = {
    "raw_material": "Raw-material lots and their suppliers",
    "batch_exception": "Batch record exceptions",
    "deviation": "Deviations",
    "oos": "Out-of-specification results",
    "spc_alert": "SPC alerts",
    "shipment": "Shipments",
    "excursion": "Cold-chain excursions",
    "stability_budget": "Remaining stability budget",
    "complaint": "Complaints",
}

FACT_PROVIDERS: dict[str, LinkProvider] = {}


def register_fact_provider(name: str, provider: LinkProvider) -> None:
    """Add (or replace, by name) a provider of facts about a lot."""
    FACT_PROVIDERS[name] = provider


def lot_facts(session: Session, lot_id: int) -> list[LinkedRecord]:
    found: list[LinkedRecord] = []
    for _name, provider in sorted(FACT_PROVIDERS.items()):
        found.extend(provider(session, [lot_id], None))
    return found


@dataclass(frozen=True, slots=True)
class Distributed:
    """Units of a lot that left on shipments, in the unit its movements were recorded in."""

    quantity: float
    unit: str


def units_distributed(session: Session, lot_ids: Sequence[int]) -> dict[int, Distributed]:
    """Per lot, the quantity that left on shipments net of returns, from the inventory
    movements (``load_lot``, the WMS/TMS connector, EPCIS shipping events): see
    :func:`pharmaqms.platform.inventory.stock.units_shipped`.

    A lot absent from the answer has no shipped quantity known; it is not zero. Movements in
    more than one unit are not added together: such a lot is left out too (unknown)."""
    return {
        lot: Distributed(found.quantity, found.unit)
        for lot, found in units_shipped(session, lot_ids).items()
    }


def _raw_materials(session: Session, lot_ids: Sequence[int], _at: object) -> list[LinkedRecord]:
    material = aliased(Lot)
    rows = session.execute(
        select(MaterialConsumption.batch_id, material, Supplier)
        .join(material, material.id == MaterialConsumption.material_lot_id)
        .outerjoin(Supplier, Supplier.id == material.supplier_id)
        .where(MaterialConsumption.batch_id.in_(lot_ids))
        .order_by(material.item_code, material.lot_number)
    )
    seen: set[tuple[int, int]] = set()
    found = []
    for batch_id, lot, supplier in rows:
        if (batch_id, lot.id) in seen:  # several consumptions of the same lot: one fact
            continue
        seen.add((batch_id, lot.id))
        by = f"supplier {supplier.name} ({supplier.code})" if supplier else "no supplier known"
        supplier_lot = f", supplier lot {lot.supplier_lot}" if lot.supplier_lot else ""
        found.append(
            LinkedRecord(
                lot_id=batch_id,
                kind="raw_material",
                key=f"lot:{lot.id}",
                label=f"{lot.item_code} / {lot.lot_number}",
                relation="consumed",
                url=f"/pv/lots/{lot.id}",
                detail=f"{by}{supplier_lot} · {lot.status}",
            )
        )
    return found


def _shipments(session: Session, lot_ids: Sequence[int], _at: object) -> list[LinkedRecord]:
    rows = session.execute(
        select(
            InventoryMovement.lot_id,
            Shipment,
            func.sum(InventoryMovement.quantity),
            func.min(InventoryMovement.unit),
        )
        .join(Shipment, Shipment.id == InventoryMovement.shipment_id)
        .where(InventoryMovement.lot_id.in_(lot_ids))
        .group_by(InventoryMovement.lot_id, Shipment.id)
        .order_by(Shipment.shipped_at, Shipment.id)
    )
    return [
        LinkedRecord(
            lot_id=lot_id,
            kind="shipment",
            key=f"shipment:{shipment.id}",
            label=shipment.code,
            relation="shipped",
            time=shipment.shipped_at,
            url=f"/data/genealogy?id={shipment.code}",
            detail=f"{total:g} {unit} · {shipment.status}"
            + (f" · {shipment.carrier}" if shipment.carrier else ""),
        )
        for lot_id, shipment, total, unit in rows
    ]


register_fact_provider("platform.raw_materials", _raw_materials)
register_fact_provider("platform.shipments", _shipments)
