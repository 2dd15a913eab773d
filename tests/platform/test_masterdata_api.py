"""Master data through the API: the people who own it create products, materials, suppliers and
places (audited, readable through the data services); bad input is refused naming the field,
and nothing is created."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.masterdata.models import Location, Material, Product, Supplier

PRODUCT = {"gtin": "9506000134352", "code": "PARA500", "name": "Paracetamol 500 mg tablets",
           "dosage_form": "tablet", "strength": "500 mg", "storage_max_c": 25}  # fmt: skip


def counts(db: Database) -> tuple[int, ...]:
    with unit_of_work(db, write=False) as s:
        return tuple(
            s.scalar(select(func.count()).select_from(model)) or 0
            for model in (Product, Material, Supplier, Location, AuditEntry)
        )


def test_master_data_is_created_audited_and_read_back(db: Database, api: Any) -> None:
    qa = api("qa")
    product = qa.post("/api/v1/data/products", json=PRODUCT)
    assert product.status_code == 201, product.text
    assert product.json()["gtin"] == "09506000134352"  # stored as GTIN-14
    material = qa.post(
        "/api/v1/data/materials",
        json={"code": "EXC-MCC", "name": "Microcrystalline cellulose", "kind": "excipient"},
    )
    supplier = qa.post(
        "/api/v1/data/suppliers",
        json={"code": "SUP-01", "name": "Cellulose Works", "country": "DE", "gln": "4012345000009"},
    )
    place = qa.post(
        "/api/v1/data/locations",
        json={
            "code": "PH-ADLER",
            "name": "Adler Pharmacy",
            "kind": "pharmacy",
            "country": "DE",
            "is_customer": True,
        },
    )
    assert [r.status_code for r in (material, supplier, place)] == [201, 201, 201]

    listed = qa.get("/api/v1/data/products", params={"code": "PARA500"})
    assert listed.status_code == 200, listed.text
    with unit_of_work(db, write=False) as s:
        trail = s.scalars(
            select(AuditEntry.record_type).where(AuditEntry.action == "create")
            .where(AuditEntry.record_type.in_(("product", "material", "supplier", "location")))
        ).all()  # fmt: skip
        assert sorted(trail) == ["location", "material", "product", "supplier"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("products", {**PRODUCT, "gtin": "9506000134353"}, "gtin"),  # check digit
        ("products", {**PRODUCT, "gtin": "95060001343"}, "gtin"),  # 11 digits
        ("products", {**PRODUCT, "code": "   "}, "code"),
        ("products", {**PRODUCT, "shelf_life_months": 0}, "shelf_life_months"),
        ("materials", {"code": "X", "name": "X", "kind": "magic"}, "kind"),
        ("materials", {"code": "X", "name": "X", "kind": "api", "unit": "furlongs-ish"}, "unit"),
        ("suppliers", {"code": "S", "name": "S", "gln": "4012345000008"}, "gln"),
        ("suppliers", {"code": "S", "name": "S", "country": "Germany"}, "country"),
        ("locations", {"code": "L", "name": "L", "kind": "moon base"}, "kind"),
        ("locations", {"code": "L", "name": "L", "kind": "site", "gln": "12"}, "gln"),
        ("products", {**PRODUCT, "colour": "white"}, "colour"),  # unknown field
    ],
)
def test_bad_master_data_is_refused_naming_the_field(
    db: Database, api: Any, path: str, body: dict[str, Any], field: str
) -> None:
    qa = api("qa")  # logging in is audited: before counting
    before = counts(db)
    answer = qa.post(f"/api/v1/data/{path}", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in answer.text
    assert counts(db) == before


def test_a_duplicate_or_an_unauthorised_creation_is_refused(db: Database, api: Any) -> None:
    qa, operator = api("qa"), api("operator")
    assert qa.post("/api/v1/data/products", json=PRODUCT).status_code == 201
    before = counts(db)
    again = qa.post("/api/v1/data/products", json={**PRODUCT, "code": "OTHER"})
    assert again.status_code == 409, again.text
    assert "09506000134352" in again.json()["detail"]
    refused = operator.post(
        "/api/v1/data/materials", json={"code": "M", "name": "M", "kind": "api"}
    )
    assert refused.status_code == 403
    assert counts(db) == before


def test_sensors_and_shipments_are_registered_between_known_places(db: Database, api: Any) -> None:
    qa = api("qa")
    for code, kind in (("WH-NL", "warehouse"), ("PH-ADLER", "pharmacy")):
        made = qa.post("/api/v1/data/locations", json={"code": code, "name": code, "kind": kind})
        assert made.status_code == 201, made.text
    shipment = qa.post(
        "/api/v1/data/shipments",
        json={
            "code": "SHP-0001",
            "origin_code": "WH-NL",
            "destination_code": "PH-ADLER",
            "sscc": "095060000000000015",
            "required_min_c": 2,
            "required_max_c": 8,
            "shipped_at": "2026-03-02T08:00:00+01:00",
        },
    )
    assert shipment.status_code == 201, shipment.text
    sensor = qa.post(
        "/api/v1/data/sensors",
        json={
            "code": "LOGGER-7",
            "shipment_code": "SHP-0001",
            "calibrated_on": "2026-01-10",
            "calibration_due_on": "2027-01-10",
            "certificate": "CAL-2026-117",
        },
    )
    assert sensor.status_code == 201, sensor.text
    calibrated = qa.post(
        "/api/v1/data/sensors/LOGGER-7/calibration",
        json={
            "calibrated_on": "2026-03-01",
            "calibration_due_on": "2027-03-01",
            "certificate": "CAL-2026-201",
        },
    )
    assert (calibrated.status_code, calibrated.json()["certificate"]) == (200, "CAL-2026-201")

    before = counts(db)
    refusals = [
        qa.post(
            "/api/v1/data/shipments",
            json={"code": "SHP-2", "origin_code": "WH-NL", "destination_code": "NOWHERE"},
        ),
        qa.post(
            "/api/v1/data/shipments",
            json={
                "code": "SHP-3",
                "origin_code": "WH-NL",
                "destination_code": "PH-ADLER",
                "sscc": "095060000000000017",
            },
        ),
        qa.post(
            "/api/v1/data/shipments",
            json={
                "code": "SHP-4",
                "origin_code": "WH-NL",
                "destination_code": "PH-ADLER",
                "shipped_at": "2026-03-02T08:00:00",
            },
        ),
        qa.post("/api/v1/data/sensors", json={"code": "a/b"}),
        qa.post("/api/v1/data/sensors", json={"code": "LOGGER-7"}),
    ]
    assert [r.status_code for r in refusals] == [422, 422, 422, 422, 409]
    fields = [r.json().get("field") or r.text for r in refusals]
    assert "destination_code" in fields[0] and "sscc" in fields[1] and "shipped_at" in fields[2]
    assert counts(db) == before
