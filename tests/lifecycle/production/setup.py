"""What the production tests share: master data written through the platform services (the
platform has no API for it), and the steps of this module done through its API — qualifying a
supplier, approving a specification, receiving a lot."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.materials.service import set_material_gtin
from pharmaqms.platform.gs1 import check_digit
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Lot


def gtin(body13: str) -> str:
    return f"{body13}{check_digit(body13)}"


PRODUCT = "P-PARA500"
PRODUCT_GTIN = gtin("0501234500001")
MATERIAL = "M-PARA-API"
MATERIAL_GTIN = gtin("0501234500002")
OTHER_MATERIAL = "M-MCC"
OTHER_MATERIAL_GTIN = gtin("0501234500003")
SUPPLIER = "S-ACME"  # qualified until 2027
LAPSED_SUPPLIER = "S-BETA"  # qualification ran out on 2026-01-31
UNLISTED_SUPPLIER = "S-GAMMA"  # never on the list


def seed_master_data(db: Database, people: Any) -> None:
    admin = people.admin
    with unit_of_work(db) as s:
        masterdata.add_product(
            s,
            actor=admin,
            gtin=PRODUCT_GTIN,
            code=PRODUCT,
            name="Paracetamol 500 mg tablets",
            strength="500 mg",
        )
        for code, name, body in (
            (MATERIAL, "Paracetamol (API)", MATERIAL_GTIN),
            (OTHER_MATERIAL, "Microcrystalline cellulose", OTHER_MATERIAL_GTIN),
        ):
            masterdata.add_material(s, actor=admin, code=code, name=name, kind="api")
            set_material_gtin(s, actor=admin, material_code=code, gtin=body, reason="label GTIN")
        for code, name in (
            (SUPPLIER, "Acme Fine Chemicals"),
            (LAPSED_SUPPLIER, "Beta Pharma Ingredients"),
            (UNLISTED_SUPPLIER, "Gamma Trading"),
        ):
            masterdata.add_supplier(s, actor=admin, code=code, name=name, country="DE")
    nominate_the_qp(db, people)


def nominate_the_qp(db: Database, people: Any) -> None:
    """The plant's QP holds a QP authorisation (Directive 2001/83/EC Art. 48–51), granted by QA
    with their signature, open-ended and effective from before any test's frozen clock: the
    qualification gate refuses the release signature to a QP without one."""
    from pharmaqms.quality.training.competence.service import grant_authorisation

    with unit_of_work(db) as s:
        grant_authorisation(
            s,
            actor=people.qa,
            password=PASSWORD,
            user_id=people.qp.user_id,
            kind="qp_certification",
            basis="Named as QP on the manufacturing authorisation of the test site",
            effective_from=datetime(2020, 1, 1, tzinfo=UTC),
        )


def qualify_supplier(
    qa: Any, material: str, supplier: str, *, audited_on: date, until: date
) -> int:
    created = qa.post(
        "/api/v1/production/supplier-approvals",
        json={"material_code": material, "supplier_code": supplier, "manufacturer_site": "Site 1"},
    )
    assert created.status_code == 201, created.text
    approval_id = int(created.json()["id"])
    recorded = qa.post(
        f"/api/v1/production/supplier-approvals/{approval_id}/audits",
        json={
            "audited_on": audited_on.isoformat(),
            "outcome": "GMP audit passed, two minor observations closed",
            "qualified_until": until.isoformat(),
        },
    )
    assert recorded.status_code == 200, recorded.text
    qualified = qa.post(
        f"/api/v1/records/supplier_approval/{approval_id}/transitions/qualify",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "supplier_approval", approval_id),
        },
    )
    assert qualified.status_code == 200, qualified.text
    return approval_id


ASSAY = {
    "test_code": "ASSAY",
    "test_name": "Assay (HPLC)",
    "kind": "numeric",
    "unit": "%",
    "lower_limit": 95.0,
    "upper_limit": 105.0,
    "decimals": 1,
    "method": "HPLC-001",
}
APPEARANCE = {
    "test_code": "APPEARANCE",
    "test_name": "Appearance",
    "kind": "list",
    "allowed_values": ["white tablet", "off-white tablet"],
}


def approved_specification(
    qc: Any,
    qa: Any,
    *,
    item_code: str,
    subject_kind: str = "product",
    market: str = "EU",
    tests: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    created = qc.post(
        "/api/v1/production/qc/specifications",
        json={
            "subject_kind": subject_kind,
            "item_code": item_code,
            "market": market,
            "title": f"Release specification {item_code} ({market})",
            "tests": tests or [ASSAY, APPEARANCE],
        },
    )
    assert created.status_code == 201, created.text
    spec_id = created.json()["id"]
    submitted = qc.post(f"/api/v1/records/qc_specification/{spec_id}/transitions/submit", json={})
    assert submitted.status_code == 200, submitted.text
    approved = qa.post(
        f"/api/v1/records/qc_specification/{spec_id}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "qc_specification", spec_id),
        },
    )
    assert approved.status_code == 200, approved.text
    return dict(qa.get(f"/api/v1/production/qc/specifications/{spec_id}").json())


def add_batch(db: Database, people: Any, lot_number: str, **extra: Any) -> int:
    with unit_of_work(db) as s:
        lot = masterdata.add_lot(
            s,
            actor=people.admin,
            kind="finished",
            item_code=PRODUCT,
            lot_number=lot_number,
            expires_on=extra.pop("expires_on", date(2029, 1, 31)),
            **extra,
        )
        s.flush()
        return lot.id


def receive_lot(
    client: Any,
    lot_number: str,
    *,
    material: str = MATERIAL,
    supplier: str = SUPPLIER,
    expires_on: date = date(2028, 6, 30),
) -> Any:
    return client.post(
        "/api/v1/production/material-lots",
        json={
            "material_code": material,
            "supplier_code": supplier,
            "lot_number": lot_number,
            "supplier_lot": f"SUP-{lot_number}",
            "expires_on": expires_on.isoformat(),
            "quantity": 250.0,
            "unit": "kg",
        },
    )


def lot_status(db: Database, lot_id: int) -> str:
    with unit_of_work(db, write=False) as s:
        lot = s.get(Lot, lot_id)
        assert lot is not None
        return lot.status


def trail_counts(db: Database) -> tuple[int, int]:
    """Audit entries and signatures: what a refusal must leave as it was."""
    with unit_of_work(db, write=False) as s:
        return (
            int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0),
            int(s.scalar(select(func.count()).select_from(ElectronicSignature)) or 0),
        )


def record_result(client: Any, lot_id: int, test: dict[str, Any], sample: str = "S-1") -> Any:
    """A conforming result for a test of ``ASSAY``/``APPEARANCE`` shape."""
    body: dict[str, Any] = {
        "lot_id": lot_id,
        "sample_id": sample,
        "test_code": test["test_code"],
        "tested_at": "2026-03-02T08:00:00Z",
    }
    if test["kind"] == "numeric":
        body |= {"value": (test["lower_limit"] + test["upper_limit"]) / 2, "unit": test["unit"]}
    else:
        body["text_value"] = test["allowed_values"][0]
    return client.post("/api/v1/production/qc/results", json=body)


def reviewed_certificate(qc: Any, lot_id: int, spec_id: int) -> int:
    """Prepare the certificate of analysis and QC reviews it: its id, for QA to approve."""
    prepared = qc.post(
        "/api/v1/production/qc/certificates", json={"lot_id": lot_id, "specification_id": spec_id}
    )
    assert prepared.status_code == 201, prepared.text
    coa_id = int(prepared.json()["id"])
    reviewed = qc.post(
        f"/api/v1/records/certificate_of_analysis/{coa_id}/transitions/review",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qc, "certificate_of_analysis", coa_id),
        },
    )
    assert reviewed.status_code == 200, reviewed.text
    return coa_id


def approve_certificate(qa: Any, coa_id: int) -> Any:
    """QA's signed approval of the certificate: the answer."""
    return qa.post(
        f"/api/v1/records/certificate_of_analysis/{coa_id}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "certificate_of_analysis", coa_id),
        },
    )


def certify(qc: Any, qa: Any, lot_id: int, spec_id: int) -> dict[str, Any]:
    """Prepare the certificate of analysis, QC reviews it, QA approves it."""
    coa_id = reviewed_certificate(qc, lot_id, spec_id)
    approved = approve_certificate(qa, coa_id)
    assert approved.status_code == 200, approved.text
    return dict(qa.get(f"/api/v1/production/qc/certificates/{coa_id}").json())


def release_material_lot(qc: Any, qa: Any, lot_id: int, spec_id: int) -> dict[str, Any]:
    """Test the lot against the material specification (conforming) and certify it."""
    assert record_result(qc, lot_id, ASSAY, sample=f"M-{lot_id}").status_code == 201
    return certify(qc, qa, lot_id, spec_id)


def barcode(gtin14: str, lot: str, expiry: date, form: str = "raw") -> str:
    yymmdd = expiry.strftime("%y%m%d")
    if form == "hri":
        return f"(01){gtin14}(17){yymmdd}(10){lot}"
    if form == "digital_link":
        return f"https://id.gs1.org/01/{gtin14}/10/{lot}?17={yymmdd}"
    return f"]d201{gtin14}17{yymmdd}10{lot}"
