"""The OOS flow through the API, end to end: a result out of specification opens an
investigation and holds the lot; phase I, phase II, QA's conclusion; a confirmed OOS opens a
nonconforming product record whose disposition QA signs. And the other branch: a proven
laboratory error invalidates the original (which stays, unchanged) and allows the retest."""

from __future__ import annotations

from typing import Any

import pytest
from tests.lifecycle.production.setup import (
    PRODUCT,
    add_batch,
    approved_specification,
    lot_status,
    seed_master_data,
    trail_counts,
)
from tests.support import PASSWORD, reviewed_version

ALL_CHECKS_OK = {
    key: "ok"
    for key in (
        "sample_identity",
        "sample_preparation",
        "calculation",
        "instrument",
        "standards_reagents",
        "method",
        "analyst",
        "glassware_equipment",
    )
}


@pytest.fixture
def lab(api, db, people, frozen_clock):  # type: ignore[no-untyped-def]
    seed_master_data(db, people)
    qc, qa = api("qc"), api("qa")
    spec = approved_specification(qc, qa, item_code=PRODUCT)
    return {"qc": qc, "qa": qa, "spec": spec, "clock": frozen_clock}


def assay(client: Any, lot_id: int, value: float, sample: str = "S-1") -> Any:
    return client.post(
        "/api/v1/production/qc/results",
        json={
            "lot_id": lot_id,
            "sample_id": sample,
            "test_code": "ASSAY",
            "tested_at": "2026-03-02T08:00:00Z",
            "value": value,
            "unit": "%",
        },
    )


def transition(client: Any, record_type: str, record_id: int, name: str, **body: Any) -> Any:
    if "password" in body:  # a signer signs the version they reviewed
        body["expected_version"] = reviewed_version(client, record_type, record_id)
    return client.post(f"/api/v1/records/{record_type}/{record_id}/transitions/{name}", json=body)


@pytest.mark.postgres
def test_a_confirmed_oos_runs_from_result_to_a_signed_rejection(lab, api, db, people) -> None:  # type: ignore[no-untyped-def]
    qc, qa = lab["qc"], lab["qa"]
    supervisor = api("supervisor")
    batch = add_batch(db, people, "B26001")

    # The result: 94.94 % rounds to 94.9 %, below 95.0 %.
    recorded = assay(qc, batch, 94.94)
    assert recorded.status_code == 201, recorded.text
    body = recorded.json()
    assert body["result"]["outcome"] == "fail"
    assert body["result"]["evaluations"][0]["compared_value"] == 94.9
    assert body["investigation_number"] == "OOS-2026-0001"
    inv_id = body["investigation_id"]
    assert lot_status(db, batch) == "on_hold"

    # Phase I: nothing wrong in the laboratory.
    phase1 = qc.post(
        f"/api/v1/production/qc/investigations/{inv_id}/phase-1",
        json={
            "findings": "Sample, standards, calculation and system suitability all checked.",
            "checklist": ALL_CHECKS_OK,
            "assignable_cause": False,
        },
    )
    assert phase1.status_code == 200, phase1.text
    # The analyst who ran the test does not sign the review of it; nothing changes.
    before = trail_counts(db)
    own = transition(qc, "oos_investigation", inv_id, "escalate", password=PASSWORD)
    assert own.status_code == 403, own.text
    assert "ran or recorded the result under investigation" in own.text
    assert trail_counts(db) == before
    # A second person of the laboratory's reviewers (here QA) signs the phase I review.
    reviewer = api("qa2")
    escalated = transition(reviewer, "oos_investigation", inv_id, "escalate", password=PASSWORD)
    assert escalated.status_code == 200, escalated.text
    assert escalated.json()["status"] == "phase_2"

    # Phase II: the granulation step ran short of API; the OOS stands.
    phase2 = qc.patch(
        f"/api/v1/production/qc/investigations/{inv_id}/phase-2",
        json={
            "manufacturing_review": "Batch record shows a dispensing shortfall at step 3.",
            "root_cause": "Under-dispensed API at granulation (scale out of calibration).",
            "conclusion": "confirmed",
            "conclusion_rationale": "Manufacturing cause found; no laboratory error.",
            "impact_on_other_lots": "B26002 dispensed on the same scale: tested, conforms.",
        },
    )
    assert phase2.status_code == 200, phase2.text
    submitted = transition(qc, "oos_investigation", inv_id, "submit_conclusion")
    assert submitted.json()["status"] == "pending_approval"
    closed = transition(qa, "oos_investigation", inv_id, "approve_conclusion", password=PASSWORD)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"

    investigation = qa.get(f"/api/v1/production/qc/investigations/{inv_id}").json()
    assert [s["meaning"] for s in investigation["signatures"]] == ["Reviewed", "Approved"]
    assert investigation["original"]["status"] == "valid"
    assert investigation["original"]["value"] == 94.94
    nc_id = investigation["nonconformance_id"]
    assert nc_id is not None
    assert lot_status(db, batch) == "on_hold"  # the nonconformance holds it now

    nc = qa.get(f"/api/v1/production/nonconformances/{nc_id}").json()
    assert nc["number"] == "NC-2026-0001"
    assert (nc["source_type"], nc["source_label"], nc["status"]) == (
        "oos_investigation",
        "OOS-2026-0001",
        "open",
    )

    # Disposition: proposed by production, approved by QA with a signature.
    drafted = supervisor.post(
        f"/api/v1/production/nonconformances/{nc_id}/disposition",
        json={"disposition": "reject", "rationale": "Assay below specification; no rework."},
    )
    assert drafted.status_code == 200, drafted.text
    assert transition(supervisor, "nonconforming_product", nc_id, "propose").status_code == 200
    approved = transition(qa, "nonconforming_product", nc_id, "approve", password=PASSWORD)
    assert approved.status_code == 200, approved.text
    assert lot_status(db, batch) == "rejected"
    executed = qa.post(
        f"/api/v1/production/nonconformances/{nc_id}/execution",
        json={"execution_record": "Destroyed by incineration, certificate DC-4411."},
    )
    assert executed.status_code == 200, executed.text
    done = transition(qa, "nonconforming_product", nc_id, "close", password=PASSWORD)
    assert done.json()["status"] == "closed"

    status = qa.get(f"/api/v1/production/qc/lots/{batch}/status").json()
    assert status["verdict"] == "failed"
    assert status["open_investigations"] == []
    assert status["open_nonconformances"] == []


def test_a_proven_lab_error_invalidates_the_original_and_allows_the_retest(lab, db, people) -> None:  # type: ignore[no-untyped-def]
    qc, qa = lab["qc"], lab["qa"]
    batch = add_batch(db, people, "B26002")
    body = assay(qc, batch, 91.0).json()
    inv_id, original_id = body["investigation_id"], body["result"]["id"]

    # A retest before phase I has proven anything is testing into compliance.
    before = trail_counts(db)
    early = qc.post(
        f"/api/v1/production/qc/investigations/{inv_id}/retests",
        json={"tested_at": "2026-03-02T08:30:00Z", "value": 99.5, "unit": "%"},
    )
    assert early.status_code == 409
    assert early.headers["content-type"].startswith("application/problem+json")
    assert early.json()["code"] == "retest_not_allowed"
    assert trail_counts(db) == before
    assert qc.get(f"/api/v1/production/qc/lots/{batch}/results").json()[0]["id"] == original_id
    assert len(qc.get(f"/api/v1/production/qc/lots/{batch}/results").json()) == 1

    checklist = {**ALL_CHECKS_OK, "sample_preparation": "error"}
    assert (
        qc.post(
            f"/api/v1/production/qc/investigations/{inv_id}/phase-1",
            json={
                "findings": "Dilution made with the 50 ml flask instead of 100 ml.",
                "checklist": checklist,
                "assignable_cause": True,
                "lab_error_evidence": "Flask log entry 2026-03-02 08:05; analyst statement.",
            },
        ).status_code
        == 200
    )
    invalidated = transition(
        qa,
        "oos_investigation",
        inv_id,
        "invalidate_lab_error",
        password=PASSWORD,
        reason="wrong dilution proven by the flask log",
    )
    assert invalidated.status_code == 200, invalidated.text
    assert invalidated.json()["status"] == "retest"

    retest = qc.post(
        f"/api/v1/production/qc/investigations/{inv_id}/retests",
        json={"tested_at": "2026-03-02T08:45:00Z", "value": 99.8, "unit": "%"},
    )
    assert retest.status_code == 201, retest.text
    assert retest.json()["result"]["outcome"] == "pass"
    assert retest.json()["result"]["retest_of_id"] == original_id
    assert retest.json()["investigation_number"] is None

    closed = transition(qa, "oos_investigation", inv_id, "close_after_retest", password=PASSWORD)
    assert closed.status_code == 200, closed.text
    assert lot_status(db, batch) == "quarantine"  # hold lifted: back to where it was

    results = {r["id"]: r for r in qc.get(f"/api/v1/production/qc/lots/{batch}/results").json()}
    original = results[original_id]
    assert (original["value"], original["status"]) == (91.0, "invalidated")
    assert original["invalidated_reason"].startswith("OOS-2026-0001: assignable laboratory error")
    status = qc.get(f"/api/v1/production/qc/lots/{batch}/status").json()
    [assay_line] = [t for t in status["tests"] if t["test_code"] == "ASSAY"]
    assert (assay_line["results"], assay_line["outcome"]) == (["99.8 %"], "pass")


def test_a_failing_retest_after_a_lab_error_opens_its_own_investigation(lab, db, people) -> None:  # type: ignore[no-untyped-def]
    qc, qa = lab["qc"], lab["qa"]
    batch = add_batch(db, people, "B26003")
    inv_id = assay(qc, batch, 90.5).json()["investigation_id"]
    qc.post(
        f"/api/v1/production/qc/investigations/{inv_id}/phase-1",
        json={
            "findings": "Integration of the wrong peak.",
            "checklist": {**ALL_CHECKS_OK, "calculation": "error"},
            "assignable_cause": True,
            "lab_error_evidence": "Chromatogram 2026-03-02/14: impurity peak integrated.",
        },
    )
    transition(
        qa,
        "oos_investigation",
        inv_id,
        "invalidate_lab_error",
        password=PASSWORD,
        reason="wrong peak integrated",
    )
    retest = qc.post(
        f"/api/v1/production/qc/investigations/{inv_id}/retests",
        json={"tested_at": "2026-03-02T08:50:00Z", "value": 92.0, "unit": "%"},
    ).json()
    assert (retest["result"]["outcome"], retest["investigation_number"]) == (
        "fail",
        "OOS-2026-0002",
    )
    closed = transition(qa, "oos_investigation", inv_id, "close_after_retest", password=PASSWORD)
    assert closed.json()["status"] == "closed"
    assert lot_status(db, batch) == "on_hold"  # OOS-2026-0002 still holds it
    status = qc.get(f"/api/v1/production/qc/lots/{batch}/status").json()
    assert (status["verdict"], status["open_investigations"]) == (
        "under_investigation",
        ["OOS-2026-0002"],
    )
