"""A small company's master data for the connector tests, written through the services."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.masterdata import service as masterdata

SAMPLES = Path(__file__).parent / "samples"
TABLET_GTIN = "08712345000011"
VACCINE_GTIN = "08712345000028"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def count(db: Database, model, *where) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        query = select(func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)
        return int(s.scalar(query) or 0)


def set_up_company(db: Database, people, *, batches: tuple[str, ...] = ()) -> None:  # type: ignore[no-untyped-def]
    """Two products, two materials with a received lot each, the vaccine batch 25V-014, and
    the tablet batches named in ``batches`` (expiring 2029-01-31)."""
    with unit_of_work(db) as s:
        masterdata.add_product(
            s,
            actor=people.admin,
            gtin="8712345000011",
            code="PARA500",
            name="Paracetamol 500 mg tablets",
            marketing_authorisation="RVG 12345",
            storage_min_c=15.0,
            storage_max_c=25.0,
        )
        masterdata.add_product(
            s,
            actor=people.admin,
            gtin=VACCINE_GTIN,
            code="VAXFLU",
            name="Fluvaxin quadrivalent influenza vaccine",
            marketing_authorisation="EU/1/24/1842/001",
            storage_min_c=2.0,
            storage_max_c=8.0,
            shelf_life_months=12,
        )
        masterdata.add_supplier(
            s, actor=people.admin, code="SUP-GIL", name="Granules India", country="IN"
        )
        masterdata.add_material(
            s, actor=people.admin, code="API-PARA", name="Paracetamol", kind="api"
        )
        masterdata.add_material(
            s,
            actor=people.admin,
            code="EXC-MCC",
            name="Microcrystalline cellulose",
            kind="excipient",
        )
        masterdata.add_lot(
            s,
            actor=people.qc,
            kind="material",
            item_code="API-PARA",
            lot_number="GIL-2511-07",
            supplier_code="SUP-GIL",
            quantity=500.0,
            unit="kg",
        )
        masterdata.add_lot(
            s,
            actor=people.qc,
            kind="finished",
            item_code="VAXFLU",
            lot_number="25V-014",
            manufactured_on=date(2025, 11, 20),
            expires_on=date(2026, 11, 30),
        )
        for lot_number in batches:
            masterdata.add_lot(
                s,
                actor=people.qc,
                kind="finished",
                item_code="PARA500",
                lot_number=lot_number,
                manufactured_on=date(2026, 2, 10),
                expires_on=date(2029, 1, 31),
            )
