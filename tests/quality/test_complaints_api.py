"""Complaints through the API: intake, triage with the pharmacovigilance handover of an
adverse event, investigation, response, signed closure, and the trend by product and lot."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from tests.quality.quality_steps import counts, days_ago, problem, sign, take, user_id
from tests.support import reviewed_version

from pharmaqms.kernel import clock
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.complaints import workflow as complaint_workflow


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database must be made on real time (see test_deviations_api)."""


def received(client: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "product": "Paracetamol 500 mg tablets",
        "lot": "L2403-117",
        "complainant_name": "Apotheek De Roos",
        "complainant_type": "pharmacist",
        "complainant_contact": "info@apotheekderoos.example",
        "received_at": days_ago(1),
        "description": "Blister contains a broken tablet; the patient felt dizzy after a dose.",
        **overrides,
    }
    response = client.post("/api/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def triage(client: Any, db: Any, cid: int, category: str, **overrides: Any) -> Any:
    return client.post(
        f"/api/v1/complaints/{cid}/triage",
        json={
            "category": category,
            "criticality": "major",
            "rationale": "Broken tablet is a quality defect; dizziness is an adverse event.",
            "investigator_id": user_id(db, "qc"),
            **overrides,
        },
    )


@pytest.mark.postgres
def test_an_adverse_event_complaint_is_handed_to_pv_and_closes_after_acknowledgement(
    api: Any, db: Any
) -> None:
    qa, qc, pv = api("qa"), api("qc"), api("pv")
    complaint = received(qa)
    cid = complaint["id"]
    assert (complaint["number"], complaint["status"]) == ("CMP-2026-0001", "received")

    triaged = triage(qa, db, cid, "quality_and_adverse_event")
    assert triaged.status_code == 200, triaged.text
    assert (triaged.json()["status"], triaged.json()["pv_handover_status"]) == (
        "investigation",
        "pending",
    )
    # The PV case is opened at triage, linked to the complaint; PV triages the case and
    # acknowledges the handover.
    assert triaged.json()["pv_reference"] == "PV-2026-0001"
    assert [t["title"] for t in pv.get("/api/v1/tasks").json()] == [
        "Adverse event in CMP-2026-0001 (Paracetamol 500 mg tablets, lot L2403-117): "
        "open the PV case and acknowledge",
        "Triage PV-2026-0001: check the four minimum criteria",
    ]
    with unit_of_work(db, write=False) as session:
        handover = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "pv_handover")
        ).one()
        assert (handover.record_label, handover.reason) == (
            "CMP-2026-0001",
            "triaged as an adverse event",
        )

    qc.post(
        f"/api/v1/complaints/{cid}/investigation",
        json={
            "summary": "Retained samples intact; the blister was crushed in transport.",
            "confirmed": True,
            "root_cause": "Outer carton not rigid enough for courier handling.",
        },
    )
    take(qc, "complaint", cid, "complete_investigation")
    qa.post(
        f"/api/v1/complaints/{cid}/response",
        json={
            "response_text": "Replacement sent; packaging improved.",
            "responded_at": days_ago(0),
        },
    )

    refused = qa.post(
        f"/api/v1/records/complaint/{cid}/transitions/close",
        json={"password": "x", "expected_version": reviewed_version(qa, "complaint", cid)},
    )
    assert problem(refused, 409, "transition_not_allowed")["reasons"] == [
        "pharmacovigilance has not acknowledged the adverse event handover yet"
    ]
    not_a_case = pv.post(
        f"/api/v1/complaints/{cid}/pv-acknowledgement", json={"pv_reference": "PV-2026-0042"}
    )
    assert problem(not_a_case, 422, "invalid_input")["field"] == "pv_reference"
    acknowledged = pv.post(
        f"/api/v1/complaints/{cid}/pv-acknowledgement", json={"pv_reference": "PV-2026-0001"}
    )
    assert acknowledged.json()["pv_handover_status"] == "acknowledged"
    assert [t["title"] for t in pv.get("/api/v1/tasks").json()] == [
        "Triage PV-2026-0001: check the four minimum criteria"
    ]

    closed = sign(qa, "complaint", cid, "close")
    assert closed["status"] == "closed"
    shown = qa.get(f"/api/v1/complaints/{cid}").json()
    assert [s["meaning"] for s in shown["signatures"]] == ["Closed"]
    assert shown["pv_reference"] == "PV-2026-0001"
    assert [(link["label"], link["url"]) for link in shown["links"]["led_to"]] == [
        ("PV-2026-0001", "/pv/cases/1")
    ]


def test_a_pharmacovigilance_module_receives_the_handover(api: Any, db: Any) -> None:
    qa = api("qa")
    complaint = received(qa)
    seen: list[complaint_workflow.AdverseEventHandover] = []

    def open_case(_s: Any, handover: complaint_workflow.AdverseEventHandover, _a: Any) -> None:
        seen.append(handover)

    complaint_workflow.on_adverse_event(open_case)
    try:
        triage(qa, db, complaint["id"], "adverse_event")
    finally:
        complaint_workflow.remove_adverse_event_hook(open_case)

    assert [(h.complaint_number, h.product, h.lot) for h in seen] == [
        ("CMP-2026-0001", "Paracetamol 500 mg tablets", "L2403-117")
    ]


def test_a_quality_complaint_is_not_handed_over(api: Any, db: Any) -> None:
    qa = api("qa")
    complaint = received(qa, description="Tablets are chipped.")

    triaged = triage(qa, db, complaint["id"], "quality").json()

    assert triaged["pv_handover_status"] is None
    assert api("pv").get("/api/v1/tasks").json() == []


def test_triage_needs_a_known_category_and_changes_nothing_otherwise(api: Any, db: Any) -> None:
    qa = api("qa")
    complaint = received(qa)
    before = counts(db)

    response = triage(qa, db, complaint["id"], "serious")

    body = problem(response, 422, "invalid_input")
    assert body["field"] == "category"
    assert counts(db) == before
    assert qa.get(f"/api/v1/complaints/{complaint['id']}").json()["status"] == "received"


def test_triage_is_for_qa_only(api: Any, db: Any) -> None:
    complaint = received(api("qa"))
    qc = api("qc")
    before = counts(db)

    response = triage(qc, db, complaint["id"], "quality")

    problem(response, 403, "permission_denied")
    assert counts(db) == before


def test_a_complaint_received_in_the_future_or_without_a_lot_is_refused(api: Any, db: Any) -> None:
    qa = api("qa")
    before = counts(db)

    future = qa.post(
        "/api/v1/complaints",
        json={
            "product": "P",
            "lot": "L1",
            "complainant_name": "N",
            "complainant_type": "patient",
            "received_at": "2026-03-09T09:00:00+00:00",
            "description": "d",
        },
    )
    assert problem(future, 422, "invalid_input")["field"] == "received_at"
    no_lot = qa.post(
        "/api/v1/complaints",
        json={
            "product": "P",
            "lot": "no lot!",
            "complainant_name": "N",
            "complainant_type": "patient",
            "received_at": days_ago(1),
            "description": "d",
        },
    )
    assert problem(no_lot, 422, "invalid_input")["field"] == "lot"
    assert counts(db) == before


def test_the_contact_of_the_complainant_is_masked_in_the_audit_trail(api: Any, db: Any) -> None:
    qa = api("qa")
    complaint = received(qa)

    trail = qa.get(f"/api/v1/records/complaint/{complaint['id']}/audit").json()["items"]

    created = next(e for e in trail if e["action"] == "create")
    assert created["changes"]["complainant_contact"] == [None, "***"]
    assert created["changes"]["complainant_name"] == [None, "Apotheek De Roos"]


def test_complaints_trend_by_product_and_by_lot(api: Any, db: Any) -> None:
    qa = api("qa")
    received(qa, lot="L2403-117")
    received(qa, lot="L2403-117", description="Tablets crumble.")
    received(qa, lot="L2403-118", description="Wrong colour.")
    received(qa, product="Ibuprofen 400 mg tablets", lot="I-0099", description="Bad smell.")
    triage(qa, db, 1, "adverse_event")

    by_product = qa.get("/api/v1/complaints/trend", params={"months": 2}).json()
    assert by_product["months"] == ["2026-02", "2026-03"]
    assert [
        (r["product"], r["lot"], r["total"], r["adverse_events"], r["per_month"])
        for r in by_product["rows"]
    ] == [
        ("Paracetamol 500 mg tablets", None, 3, 1, [0, 3]),
        ("Ibuprofen 400 mg tablets", None, 1, 0, [0, 1]),
    ]
    by_lot = qa.get("/api/v1/complaints/trend", params={"by": "lot", "months": 2}).json()
    assert [(r["lot"], r["total"]) for r in by_lot["rows"]] == [
        ("L2403-117", 2),
        ("I-0099", 1),
        ("L2403-118", 1),
    ]
