"""Materials and suppliers through the API: the approved supplier list, receipt into
quarantine (refused from an unapproved supplier or when already expired), the supplier's
certificate, the use check with every reason, and QA's signed override."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.lifecycle.production.setup import (
    ASSAY,
    LAPSED_SUPPLIER,
    MATERIAL,
    OTHER_MATERIAL,
    SUPPLIER,
    UNLISTED_SUPPLIER,
    approve_certificate,
    approved_specification,
    qualify_supplier,
    receive_lot,
    record_result,
    release_material_lot,
    reviewed_certificate,
    seed_master_data,
    trail_counts,
)
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.materials.models import MaterialUseOverride
from pharmaqms.platform.masterdata.models import Lot

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def store(api, db, people, frozen_clock):  # type: ignore[no-untyped-def]
    seed_master_data(db, people)
    qc, qa, supervisor = api("qc"), api("qa"), api("supervisor")
    approval = qualify_supplier(
        qa, MATERIAL, SUPPLIER, audited_on=date(2026, 1, 15), until=date(2027, 12, 31)
    )
    spec = approved_specification(
        qc, qa, item_code=MATERIAL, subject_kind="material", market="ALL", tests=[ASSAY]
    )
    return {"qc": qc, "qa": qa, "supervisor": supervisor, "approval": approval, "spec": spec}


def lots(db: Any) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(Lot)) or 0)


def use_check(client: Any, lot_id: int, **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/production/material-lots/{lot_id}/use-check", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_approved_supplier_list_shows_the_signed_qualification(store) -> None:  # type: ignore[no-untyped-def]
    qa = store["qa"]
    [entry] = qa.get("/api/v1/production/supplier-approvals").json()
    assert (entry["number"], entry["status"], entry["approved_today"]) == (
        "ASL-2026-0001",
        "qualified",
        True,
    )
    assert (entry["material_code"], entry["supplier_code"]) == (MATERIAL, SUPPLIER)
    assert entry["qualified_until"] == "2027-12-31"
    [signature] = entry["signatures"]
    assert (signature["meaning"], signature["signer_username"]) == ("Approved", "qa")


def test_qualifying_without_an_audit_is_refused_with_the_reasons(store, db) -> None:  # type: ignore[no-untyped-def]
    qa = store["qa"]
    proposed = qa.post(
        "/api/v1/production/supplier-approvals",
        json={"material_code": MATERIAL, "supplier_code": LAPSED_SUPPLIER},
    ).json()
    before = trail_counts(db)
    refused = qa.post(
        f"/api/v1/records/supplier_approval/{proposed['id']}/transitions/qualify",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "supplier_approval", proposed["id"]),
        },
    )
    assert refused.status_code == 409
    assert refused.json()["reasons"] == [
        "no supplier audit (or questionnaire) date is recorded",
        "the outcome of the supplier audit is not recorded",
        "the qualification has no expiry date",
    ]
    assert trail_counts(db) == before
    assert qa.get(f"/api/v1/production/supplier-approvals/{proposed['id']}").json()["status"] == (
        "proposed"
    )


@pytest.mark.parametrize("supplier", [UNLISTED_SUPPLIER, LAPSED_SUPPLIER])
def test_a_lot_from_a_supplier_not_approved_is_not_received(store, db, supplier) -> None:  # type: ignore[no-untyped-def]
    if supplier == LAPSED_SUPPLIER:  # on the list, but only proposed
        store["qa"].post(
            "/api/v1/production/supplier-approvals",
            json={"material_code": MATERIAL, "supplier_code": supplier},
        )
    before, lot_count = trail_counts(db), lots(db)
    refused = receive_lot(store["supervisor"], "R-0001", supplier=supplier)
    assert refused.status_code == 409
    assert refused.json()["code"] == "supplier_not_approved"
    expected = (
        f"{supplier} is not on the approved supplier list for {MATERIAL}"
        if supplier == UNLISTED_SUPPLIER
        else f"{supplier} is proposed for {MATERIAL} (ASL-2026-0002)"
    )
    assert refused.json()["reasons"] == [expected]
    assert (trail_counts(db), lots(db)) == (before, lot_count)


def test_a_lot_that_arrives_expired_is_not_received(store, db) -> None:  # type: ignore[no-untyped-def]
    before = trail_counts(db)
    refused = receive_lot(store["supervisor"], "R-0002", expires_on=date(2026, 3, 1))
    assert refused.status_code == 422
    assert refused.json()["field"] == "expires_on"
    assert trail_counts(db) == before


def test_the_use_check_names_every_reason_and_a_released_lot_passes(store, db) -> None:  # type: ignore[no-untyped-def]
    qc, qa, supervisor = store["qc"], store["qa"], store["supervisor"]
    lot = receive_lot(supervisor, "R-0003").json()
    assert lot["status"] == "quarantine"

    quarantined = use_check(qc, lot["id"])
    assert (quarantined["usable"], [r["code"] for r in quarantined["reasons"]]) == (
        False,
        ["quarantine"],
    )
    wrong = use_check(qc, lot["id"], expected_material=OTHER_MATERIAL)
    assert [r["message"] for r in wrong["reasons"]] == [
        f"wrong material: lot R-0003 is {MATERIAL}, the step needs {OTHER_MATERIAL}",
        "lot R-0003 is in quarantine: not released by quality control",
    ]

    release_material_lot(qc, qa, lot["id"], store["spec"]["id"])
    released = use_check(qc, lot["id"])
    assert (released["usable"], released["reasons"]) == (True, [])

    # The supplier is disqualified afterwards: the lot already received is refused too.
    disqualified = qa.post(
        f"/api/v1/records/supplier_approval/{store['approval']}/transitions/disqualify",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "supplier_approval", store["approval"]),
            "reason": "failed re-audit: data integrity findings",
        },
    )
    assert disqualified.status_code == 200, disqualified.text
    after = use_check(qc, lot["id"])
    assert [r["code"] for r in after["reasons"]] == ["supplier_not_approved"]
    assert after["reasons"][0]["message"] == (
        f"{SUPPLIER} is disqualified for {MATERIAL} (ASL-2026-0001)"
    )


def test_the_supplier_certificate_is_filed_as_values_and_as_a_checked_file(store, db) -> None:  # type: ignore[no-untyped-def]
    supervisor, qc = store["supervisor"], store["qc"]
    lot = receive_lot(supervisor, "R-0004").json()
    values = qc.post(
        f"/api/v1/production/material-lots/{lot['id']}/certificates",
        json={
            "certificate_number": "ACME-COA-7781",
            "issued_on": "2026-02-20",
            "values": [{"test": "Assay", "result": "99.7", "unit": "%", "limits": "98.0-102.0"}],
        },
    )
    assert values.status_code == 201, values.text
    uploaded = qc.post(
        f"/api/v1/production/material-lots/{lot['id']}/certificates/file",
        data={"certificate_number": "ACME-COA-7781-signed"},
        files={"file": ("coa.pdf", PDF, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["content_type"] == "application/pdf"
    fetched = qc.get(f"/api/v1/production/supplier-certificates/{uploaded.json()['id']}/file")
    assert (fetched.status_code, fetched.content) == (200, PDF)

    before = trail_counts(db)
    fake = qc.post(
        f"/api/v1/production/material-lots/{lot['id']}/certificates/file",
        data={"certificate_number": "ACME-COA-FAKE"},
        files={"file": ("coa.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    assert fake.status_code == 422
    assert fake.json()["detail"] == "the file is not a PDF, PNG or JPEG document"
    assert trail_counts(db) == before


def override_count(db: Any) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(MaterialUseOverride)) or 0)


def test_an_override_needs_qa_and_its_signature_and_covers_only_what_it_named(  # type: ignore[no-untyped-def]
    store, db, frozen_clock
) -> None:
    qa, qc, supervisor = store["qa"], store["qc"], store["supervisor"]
    lot = receive_lot(supervisor, "R-0005", expires_on=date(2026, 3, 20)).json()
    url = f"/api/v1/production/material-lots/{lot['id']}/overrides"
    body = {
        "justification": "Emergency supply: QC testing complete, CoA review pending",
        "password": PASSWORD,
        "batch_reference": "B26010",
    }

    before = trail_counts(db)
    by_qc = qc.post(url, json=body)
    assert by_qc.status_code == 403
    assert by_qc.json()["code"] == "permission_denied"
    assert (trail_counts(db), override_count(db)) == (before, 0)

    wrong_password = qa.post(url, json=body | {"password": "not-the-password"})
    assert wrong_password.status_code == 401
    assert wrong_password.json()["code"] == "signature_refused"
    assert override_count(db) == 0
    assert trail_counts(db)[1] == before[1]  # no signature (the failed attempt is audited)

    granted = qa.post(url, json=body)
    assert granted.status_code == 201, granted.text
    override = granted.json()
    assert (override["number"], override["status"], override["reason_codes"]) == (
        "MUO-2026-0001",
        "approved",
        ["quarantine"],
    )
    assert [s["meaning"] for s in override["signatures"]] == ["Approved"]

    covered = use_check(qc, lot["id"], batch_reference="B26010")
    assert (covered["usable"], covered["override"]) == (True, "MUO-2026-0001")
    other_batch = use_check(qc, lot["id"], batch_reference="B26011")
    assert (other_batch["usable"], other_batch["override"]) == (False, None)
    wrong_material = use_check(
        qc, lot["id"], batch_reference="B26010", expected_material=OTHER_MATERIAL
    )
    assert (wrong_material["usable"], wrong_material["override"]) == (False, None)

    frozen_clock.advance(days=20)  # 2026-03-22: the lot has expired, a reason not overridden
    qc.login("qc")
    expired = use_check(qc, lot["id"], batch_reference="B26010")
    assert [r["code"] for r in expired["reasons"]] == ["quarantine", "expired"]
    assert (expired["usable"], expired["override"]) == (False, None)


def test_without_the_supplier_list_loaded_a_material_certificate_is_not_approved(  # type: ignore[no-untyped-def]
    store, db, monkeypatch
) -> None:
    """QC releases a material lot through the step the materials module registers
    (qc/material_release.py); with none registered the approval is refused, fail closed."""
    from pharmaqms.lifecycle.production.qc import material_release

    qc, qa, supervisor = store["qc"], store["qa"], store["supervisor"]
    lot = receive_lot(supervisor, "R-0009").json()
    assert record_result(qc, lot["id"], ASSAY, sample="M-9").status_code == 201
    coa_id = reviewed_certificate(qc, lot["id"], store["spec"]["id"])
    monkeypatch.setattr(material_release, "_step", [])
    before = trail_counts(db)
    refused = approve_certificate(qa, coa_id)
    assert refused.status_code == 409
    assert "the approved supplier list is not loaded" in refused.json()["detail"]
    assert trail_counts(db) == before
    assert use_check(qc, lot["id"])["reasons"][0]["code"] == "quarantine"
