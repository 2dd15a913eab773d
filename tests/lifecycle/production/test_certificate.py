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
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.errors import Conflict
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.qc.certificates import on_approved
from pharmaqms.lifecycle.production.qc.models import CertificateOfAnalysis


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
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qc, "certificate_of_analysis", coa["id"]),
        },
    )
    assert reviewed.status_code == 200, reviewed.text
    assert lot_status(db, lot["id"]) == "quarantine"
    approved = qa.post(
        f"/api/v1/records/certificate_of_analysis/{coa['id']}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "certificate_of_analysis", coa["id"]),
        },
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
            json={
                "password": PASSWORD,
                "expected_version": reviewed_version(qa, "certificate_of_analysis", coa["id"]),
            },
        ).status_code
        == 200
    )
    before = trail_counts(db)
    refused = qa.post(
        f"/api/v1/records/certificate_of_analysis/{coa['id']}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "certificate_of_analysis", coa["id"]),
        },
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
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qc, "certificate_of_analysis", untested["id"]),
        },
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


def assay(client: Any, lot_id: int, sample: str, day: int, value: float) -> Any:
    return client.post(
        "/api/v1/production/qc/results",
        json={
            "lot_id": lot_id,
            "sample_id": sample,
            "test_code": "ASSAY",
            "tested_at": f"2026-02-{day:02d}T08:00:00Z",
            "value": value,
            "unit": "%",
        },
    )


def transition(client: Any, coa_id: int, name: str) -> Any:
    """Sign a step of the certificate at the version the signer just read."""
    seen = client.get(f"/api/v1/production/qc/certificates/{coa_id}").json()["version"]
    return client.post(
        f"/api/v1/records/certificate_of_analysis/{coa_id}/transitions/{name}",
        json={"password": PASSWORD, "expected_version": seen},
    )


def test_an_unassessed_out_of_trend_result_keeps_the_coa_unapproved_and_the_lot_in_quarantine(  # type: ignore[no-untyped-def]
    api, db, people, frozen_clock
) -> None:
    # Given ten material lots whose assays rise 99.3 → 99.7 over the last five
    seed_master_data(db, people)
    qc, qa = api("qc"), api("qa")
    qualify_supplier(qa, MATERIAL, SUPPLIER, audited_on=date(2026, 1, 10), until=date(2028, 1, 10))
    trended = {**ASSAY, "trend_rule": "both", "trend_window": 6}
    spec = approved_specification(
        qc, qa, item_code=MATERIAL, subject_kind="material", tests=[trended]
    )
    history = [99.0, 99.1, 99.3, 99.2, 99.4, 99.3, 99.4, 99.5, 99.6, 99.7]
    for day, value in enumerate(history, start=1):
        earlier = receive_lot(qa, f"T{day:03d}").json()["id"]
        assert assay(qc, earlier, f"S{day}", day, value).status_code == 201
    # and an eleventh lot, first tested at 99.5 (in trend), its certificate reviewed
    lot = receive_lot(qa, "T011").json()["id"]
    assert assay(qc, lot, "S11", 11, 99.5).json()["trend_findings"] == []
    coa = prepare(qc, lot, spec["id"]).json()
    assert transition(qc, coa["id"], "review").status_code == 200
    # when a second sample of it reads 99.9, completing a rising run of six
    flagged = assay(qc, lot, "S11-B", 12, 99.9).json()
    assert flagged["result"]["trend_status"] == "open"
    open_trend = "out-of-trend result not assessed: result ASSAY 99.9 % (sample S11-B)"

    # then QA's approval is refused, naming the open trend, and nothing changes
    before = trail_counts(db)
    refused = transition(qa, coa["id"], "approve")
    assert refused.status_code == 409, refused.text
    assert refused.json()["reasons"] == [f"lot {MATERIAL}/T011: {open_trend}"]
    assert trail_counts(db) == before
    assert lot_status(db, lot) == "quarantine"
    assert qa.get(f"/api/v1/production/qc/certificates/{coa['id']}").json()["status"] == (
        "reviewed"
    )

    # and the approval's own check refuses too, whatever a guard let through
    with unit_of_work(db) as s:
        certificate = s.get(CertificateOfAnalysis, coa["id"])
        with pytest.raises(Conflict) as raised:
            on_approved(s, certificate, actor=people.qa)
        assert raised.value.detail == (
            f"{coa['number']} is not approved: lot {MATERIAL}/T011: {open_trend}"
        )
        s.rollback()
    assert trail_counts(db) == before
    assert lot_status(db, lot) == "quarantine"

    # when QC assesses the trend, QA's approval releases the lot
    assessed = qc.post(
        f"/api/v1/production/qc/results/{flagged['result']['id']}/trend-assessment",
        json={"assessment": "Within specification; new API supplier lot; watch the next 3."},
    )
    assert assessed.status_code == 200, assessed.text
    approved = transition(qa, coa["id"], "approve")
    assert approved.status_code == 200, approved.text
    assert lot_status(db, lot) == "released"


def test_a_certificate_prepared_while_a_trend_is_open_is_not_reviewed(  # type: ignore[no-untyped-def]
    api, db, people, frozen_clock
) -> None:
    # Given a material lot whose assay completes a rising run of six
    seed_master_data(db, people)
    qc, qa = api("qc"), api("qa")
    qualify_supplier(qa, MATERIAL, SUPPLIER, audited_on=date(2026, 1, 10), until=date(2028, 1, 10))
    trended = {**ASSAY, "trend_rule": "both", "trend_window": 6}
    spec = approved_specification(
        qc, qa, item_code=MATERIAL, subject_kind="material", tests=[trended]
    )
    for day, value in enumerate([99.3, 99.4, 99.5, 99.6, 99.7], start=1):
        earlier = receive_lot(qa, f"R{day:03d}").json()["id"]
        assert assay(qc, earlier, f"S{day}", day, value).status_code == 201
    lot = receive_lot(qa, "R006").json()["id"]
    assert assay(qc, lot, "S6", 6, 99.8).json()["result"]["trend_status"] == "open"
    coa = prepare(qc, lot, spec["id"]).json()

    # when QC reviews its certificate, then the review is refused naming the trend
    before = trail_counts(db)
    refused = transition(qc, coa["id"], "review")
    assert refused.status_code == 409, refused.text
    assert refused.json()["reasons"] == [
        f"lot {MATERIAL}/R006: out-of-trend result not assessed: result ASSAY 99.8 % (sample S6)"
    ]
    assert trail_counts(db) == before
    assert qc.get(f"/api/v1/production/qc/certificates/{coa['id']}").json()["status"] == "draft"
    assert lot_status(db, lot) == "quarantine"
