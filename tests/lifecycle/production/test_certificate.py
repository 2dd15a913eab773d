"""The certificate of analysis: prepared from the lot's results, reviewed by QC and approved by
QA (not by the reviewer), which releases a material lot; the PDF carries the results and the
signature manifestation, and a watermark while it is not valid."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from pypdf import PdfReader
from tests.lifecycle.production.setup import (
    ASSAY,
    MATERIAL,
    SUPPLIER,
    approved_specification,
    lot_status,
    qualify_supplier,
    receive_lot,
    record_result,
    seed_master_data,
    trail_counts,
)
from tests.support import PASSWORD


@pytest.fixture
def incoming(api, db, people, frozen_clock):  # type: ignore[no-untyped-def]
    seed_master_data(db, people)
    qc, qa = api("qc"), api("qa")
    qualify_supplier(qa, MATERIAL, SUPPLIER, audited_on=date(2026, 1, 15), until=date(2027, 12, 31))
    spec = approved_specification(
        qc, qa, item_code=MATERIAL, subject_kind="material", market="ALL", tests=[ASSAY]
    )
    lot = receive_lot(api("supervisor"), "C-0001").json()
    return {"qc": qc, "qa": qa, "spec": spec, "lot": lot}


def pdf_text(client: Any, coa_id: int) -> str:
    response = client.get(f"/api/v1/production/qc/certificates/{coa_id}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def prepare(client: Any, lot_id: int, spec_id: int) -> Any:
    return client.post(
        "/api/v1/production/qc/certificates", json={"lot_id": lot_id, "specification_id": spec_id}
    )


@pytest.mark.postgres
def test_an_approved_certificate_releases_the_lot_and_prints_results_and_signatures(  # type: ignore[no-untyped-def]
    incoming, db
) -> None:
    qc, qa, lot, spec = incoming["qc"], incoming["qa"], incoming["lot"], incoming["spec"]
    assert record_result(qc, lot["id"], ASSAY, sample="C-1").status_code == 201
    coa = prepare(qc, lot["id"], spec["id"]).json()
    assert coa["number"] == "COA-2026-0001"
    assert coa["reported"][0]["results"] == ["100 %"]
    draft = pdf_text(qc, coa["id"])
    assert "DRAFT - NOT VALID" in draft
    assert "Not signed." in draft

    reviewed = qc.post(
        f"/api/v1/records/certificate_of_analysis/{coa['id']}/transitions/review",
        json={"password": PASSWORD},
    )
    assert reviewed.status_code == 200, reviewed.text
    assert lot_status(db, lot["id"]) == "quarantine"
    approved = qa.post(
        f"/api/v1/records/certificate_of_analysis/{coa['id']}/transitions/approve",
        json={"password": PASSWORD},
    )
    assert approved.status_code == 200, approved.text
    assert lot_status(db, lot["id"]) == "released"

    text = pdf_text(qa, coa["id"])
    assert "Certificate of analysis" in text
    assert "COA-2026-0001" in text
    assert "C-0001" in text
    assert "Assay (HPLC)" in text
    assert "HPLC-001" in text
    assert "100 %" in text
    assert "complies" in text
    assert f"The lot complies with specification {spec['number']}." in text
    assert "Reviewed by Chloe Chemist (qc) on 2026-03-02 09:00:00 UTC" in text
    assert "Approved by Quentin Quality (qa) on 2026-03-02 09:00:00 UTC" in text
    assert "NOT VALID" not in text
    assert "NOT RELEASED" not in text


def test_the_reviewer_may_not_also_approve(incoming, db) -> None:  # type: ignore[no-untyped-def]
    qa, lot, spec = incoming["qa"], incoming["lot"], incoming["spec"]
    record_result(incoming["qc"], lot["id"], ASSAY, sample="C-2")
    coa = prepare(qa, lot["id"], spec["id"]).json()
    assert (
        qa.post(
            f"/api/v1/records/certificate_of_analysis/{coa['id']}/transitions/review",
            json={"password": PASSWORD},
        ).status_code
        == 200
    )
    before = trail_counts(db)
    refused = qa.post(
        f"/api/v1/records/certificate_of_analysis/{coa['id']}/transitions/approve",
        json={"password": PASSWORD},
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "segregation_of_duties")
    assert trail_counts(db) == before
    assert lot_status(db, lot["id"]) == "quarantine"


def test_no_certificate_while_an_oos_is_open_nor_for_an_untested_lot(incoming, db) -> None:  # type: ignore[no-untyped-def]
    qc, lot, spec = incoming["qc"], incoming["lot"], incoming["spec"]
    untested = prepare(qc, lot["id"], spec["id"]).json()
    before = trail_counts(db)
    refused = qc.post(
        f"/api/v1/records/certificate_of_analysis/{untested['id']}/transitions/review",
        json={"password": PASSWORD},
    )
    assert refused.status_code == 409
    assert refused.json()["reasons"] == ["ASSAY: no valid result"]
    assert trail_counts(db) == before
    withdrawn = qc.post(
        f"/api/v1/records/certificate_of_analysis/{untested['id']}/transitions/withdraw",
        json={"reason": "prepared before testing"},
    )
    assert withdrawn.status_code == 200

    failing = qc.post(
        "/api/v1/production/qc/results",
        json={
            "lot_id": lot["id"],
            "sample_id": "C-3",
            "test_code": "ASSAY",
            "tested_at": "2026-03-02T08:00:00Z",
            "value": 90.0,
            "unit": "%",
        },
    ).json()
    before = trail_counts(db)
    blocked = prepare(qc, lot["id"], spec["id"])
    assert blocked.status_code == 409
    assert blocked.json()["detail"] == (
        f"lot {MATERIAL}/C-0001 has open OOS investigations "
        f"({failing['investigation_number']}): no certificate before they close"
    )
    assert trail_counts(db) == before
