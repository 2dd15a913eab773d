"""A full batch through the API, from the master batch record to the QP's release: the master
defined, approved and made effective through document control; the batch record opened, every
step executed (material dispensed with its lot check, parameters judged at entry, equipment
checked, second-person verification), an out-of-limit value recorded as an exception and
reviewed by QA, the production review, QC, and the release signed by the qualified person with
the end-to-release cycle time recorded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.production.ebr_setup import (
    BALANCE,
    GRANULATOR,
    PRESS,
    effective_sop,
    qualified_equipment,
    steps,
    train,
)
from tests.lifecycle.production.setup import (
    APPEARANCE,
    ASSAY,
    MATERIAL,
    PRODUCT,
    SUPPLIER,
    approved_specification,
    certify,
    qualify_supplier,
    receive_lot,
    record_result,
    release_material_lot,
    seed_master_data,
)
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.masterdata.models import Lot, MaterialConsumption


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


@pytest.mark.postgres
def test_a_batch_from_master_record_to_release_through_the_api(
    db, people, api, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    # Given the plant: suppliers qualified, a released API lot, the product's specification,
    # an SOP in force that the operator and the supervisor are trained on, and equipment
    seed_master_data(db, people)
    qc, qa, supervisor, operator, qp = (
        api("qc"),
        api("qa"),
        api("supervisor"),
        api("operator"),
        api("qp"),
    )
    qualify_supplier(
        qa,
        MATERIAL,
        SUPPLIER,
        audited_on=frozen_clock.current.date() - timedelta(days=40),
        until=frozen_clock.current.date() + timedelta(days=600),
    )
    material_spec = approved_specification(
        qc, qa, item_code=MATERIAL, subject_kind="material", market="ALL", tests=[ASSAY]
    )
    received = ok(receive_lot(supervisor, "API-0001"), 201)
    release_material_lot(qc, qa, received["id"], material_spec["id"])
    product_spec = approved_specification(qc, qa, item_code=PRODUCT)
    sop_id, sop = effective_sop(db, people, "Tablet manufacturing")
    train(db, people, sop_id, "operator", "supervisor")
    for code, kind in ((BALANCE, "balance"), (PRESS, "tablet press")):
        qualified_equipment(db, people, code, kind)
    granulator = ok(
        supervisor.post(
            "/api/v1/production/equipment",
            json={
                "code": GRANULATOR,
                "name": "High-shear granulator",
                "equipment_type": "granulator",
                "calibration_required": False,
            },
        ),
        201,
    )
    assert (granulator["usable_now"], granulator["reasons"]) == (
        False,
        ["GRN-01 had no qualification on record"],
    )
    qualified = ok(
        supervisor.post(
            f"/api/v1/production/equipment/{granulator['id']}/qualifications",
            json={
                "stage": "PQ",
                "qualified_at": "2026-01-10T08:00:00Z",
                "valid_until": "2027-01-10",
                "passed": True,
                "report": "PQ-GRN-01",
            },
        )
    )
    assert (qualified["usable_now"], qualified["qualified_until"]) == (True, "2027-01-10")

    # When the supervisor defines the master batch record and QA approves it in document control
    master = ok(
        supervisor.post(
            "/api/v1/production/masters",
            json={
                "product_code": PRODUCT,
                "title": "Paracetamol 500 mg tablets, 100,000 tablets",
                "batch_size": 100000,
                "batch_unit": "tablets",
                "steps": steps(sop),
            },
        ),
        201,
    )
    assert master["number"] == "MBR-2026-0001 v1.0"
    assert (master["document_status"], master["effective"]) == ("draft", False)
    version = master["document_version_id"]
    ok(supervisor.post(f"/api/v1/records/document_version/{version}/transitions/submit", json={}))
    ok(
        qa.post(
            f"/api/v1/records/document_version/{version}/transitions/approve",
            json={
                "password": PASSWORD,
                "expected_version": reviewed_version(qa, "document_version", version),
            },
        )
    )
    ok(qa.post(f"/api/v1/records/document_version/{version}/transitions/make_effective", json={}))
    master = ok(supervisor.get(f"/api/v1/production/masters/{master['id']}"))
    assert (master["document_status"], master["effective"], master["problems"]) == (
        "effective",
        True,
        [],
    )

    # And opens the batch record of batch B2601
    record = ok(
        supervisor.post(
            "/api/v1/production/batch-records",
            json={"master_id": master["id"], "lot_number": "B2601"},
        ),
        201,
    )
    assert (record["number"], record["status"], record["step_count"], record["current_step"]) == (
        "EBR-2026-0001",
        "in_progress",
        3,
        1,
    )
    step_ids = [s["id"] for s in record["steps"]]
    assert [s["number"] for s in record["steps"]] == [
        "EBR-2026-0001-0001",
        "EBR-2026-0001-0002",
        "EBR-2026-0001-0003",
    ]

    # Then the operator dispenses the API lot, records the balance and signs step 1
    dispensed = ok(
        operator.post(
            f"/api/v1/production/batch-steps/{step_ids[0]}/materials",
            json={
                "material_code": MATERIAL,
                "lot_number": "API-0001",
                "quantity": 50.1,
                "unit": "kg",
            },
        ),
        201,
    )
    assert (
        dispensed["value"],
        dispensed["within_limits"],
        dispensed["low"],
        dispensed["high"],
    ) == (
        50.1,
        True,
        49.5,
        50.5,
    )
    ok(
        operator.post(
            f"/api/v1/production/batch-steps/{step_ids[0]}/equipment",
            json={"equipment_code": BALANCE},
        ),
        201,
    )
    frozen_clock.advance(minutes=20)
    performed = ok(
        operator.post(
            f"/api/v1/production/batch-steps/{step_ids[0]}/perform", json={"password": PASSWORD}
        )
    )
    assert performed["status"] == "performed"
    assert [s["manifestation"] for s in performed["signatures"]] == [
        "Performed by Otto Operator (operator) on 2026-03-02 09:20:00 UTC (+00:00)"
    ]
    # And the supervisor verifies it as the second person
    verified = ok(
        supervisor.post(
            f"/api/v1/production/batch-steps/{step_ids[0]}/verify", json={"password": PASSWORD}
        )
    )
    assert [
        (s["meaning"], s["signer_username"], s["valid_for_current_content"])
        for s in verified["signatures"]
    ] == [
        ("Performed", "operator", True),
        ("Verified", "supervisor", True),
    ]

    # Step 2: one value outside its limits is accepted and recorded as an exception
    out_of_limit = ok(
        operator.post(
            f"/api/v1/production/batch-steps/{step_ids[1]}/values",
            json={"name": "impeller_speed", "value": 155, "unit": "rpm"},
        ),
        201,
    )
    assert out_of_limit["within_limits"] is False
    ok(
        operator.post(
            f"/api/v1/production/batch-steps/{step_ids[1]}/values",
            json={"name": "granulation_time", "value": "9.5", "unit": "min"},
        ),
        201,
    )
    ok(
        operator.post(
            f"/api/v1/production/batch-steps/{step_ids[1]}/equipment",
            json={"equipment_code": GRANULATOR},
        ),
        201,
    )
    frozen_clock.advance(minutes=45)
    ok(
        operator.post(
            f"/api/v1/production/batch-steps/{step_ids[1]}/perform", json={"password": PASSWORD}
        )
    )

    # Step 3: compression and its in-process control
    ok(
        operator.post(
            f"/api/v1/production/batch-steps/{step_ids[2]}/values",
            json={"name": "compression_force", "value": 12.5, "unit": "kN"},
        ),
        201,
    )
    ok(
        operator.post(
            f"/api/v1/production/batch-steps/{step_ids[2]}/values",
            json={
                "name": "tablet_hardness",
                "value": 98,
                "unit": "N",
                "kind": "in_process_control",
            },
        ),
        201,
    )
    ok(
        operator.post(
            f"/api/v1/production/batch-steps/{step_ids[2]}/equipment",
            json={"equipment_code": PRESS},
        ),
        201,
    )
    frozen_clock.advance(minutes=180)
    ok(
        operator.post(
            f"/api/v1/production/batch-steps/{step_ids[2]}/perform", json={"password": PASSWORD}
        )
    )
    ended = frozen_clock.current

    # The production review completes the record; manufacture ended with the last step
    frozen_clock.advance(minutes=30)
    completed = ok(
        supervisor.post(
            f"/api/v1/production/batch-records/{record['id']}/complete", json={"password": PASSWORD}
        )
    )
    assert (completed["status"], completed["steps_performed"], completed["open_exceptions"]) == (
        "completed",
        3,
        1,
    )
    assert completed["manufacturing_ended_at"] == "2026-03-02T13:05:00Z"
    with unit_of_work(db, write=False) as s:
        lot = s.get(Lot, record["lot_id"])
        assert lot is not None
        assert (lot.status, lot.manufacturing_ended_at) == ("quarantine", ended)
        consumed = s.scalars(
            select(MaterialConsumption).where(MaterialConsumption.batch_id == lot.id)
        ).all()
        assert [(c.quantity, c.unit, c.step) for c in consumed] == [
            (50.1, "kg", "EBR-2026-0001-0001")
        ]

    # QC tests the batch, QA approves the certificate of analysis
    for test in (ASSAY, APPEARANCE):
        assert record_result(qc, record["lot_id"], test, sample="B2601-1").status_code == 201
    certify(qc, qa, record["lot_id"], product_spec["id"])

    # The QP sees one failing rule: the exception is not reviewed yet
    checklist = ok(qp.get(f"/api/v1/production/batches/{record['lot_id']}/release"))
    assert (checklist["passed"], checklist["failing_rules"]) == (False, ["exceptions_reviewed"])
    failing = next(r for r in checklist["rules"] if r["code"] == "exceptions_reviewed")
    assert failing["findings"] == [
        "not reviewed: BRX-2026-0001 (out of limit): impeller_speed = 155 rpm at step 2 is "
        "outside its limits 100 – 150 rpm"
    ]

    # QA reviews the exception by exception
    exceptions = operator.get(f"/api/v1/production/batch-records/{record['id']}/exceptions").json()
    assert [(e["number"], e["kind"], e["status"]) for e in exceptions] == [
        ("BRX-2026-0001", "out_of_limit", "open")
    ]
    reviewed = ok(
        qa.post(
            f"/api/v1/production/batch-record-exceptions/{exceptions[0]['id']}/review",
            json={
                "decision": "accept",
                "reason": "5 rpm over for 40 s at start-up; granule PSD in specification",
                "password": PASSWORD,
            },
        )
    )
    assert (reviewed["status"], [s["meaning"] for s in reviewed["signatures"]]) == (
        "accepted",
        ["Reviewed"],
    )

    # Then every rule passes and the QP releases the batch with the checklist as shown
    checklist = ok(qp.get(f"/api/v1/production/batches/{record['lot_id']}/release"))
    assert (checklist["passed"], checklist["failing_rules"]) == (True, [])
    assert [r["code"] for r in checklist["rules"]] == [
        "batch_record_complete",
        "exceptions_reviewed",
        "deviations_closed",
        "qc_passed",
        "materials_released",
        "equipment_qualified",
        "training_current",
        "no_blocking_change",
        "spc_alerts_acknowledged",
        "no_open_nonconformance",
        "lot_awaits_release",
    ]
    frozen_clock.advance(hours=2)
    released = ok(
        qp.post(
            f"/api/v1/production/batches/{record['lot_id']}/release",
            json={"password": PASSWORD, "evaluation_hash": checklist["evaluation_hash"]},
        )
    )
    decision = released["decision"]
    assert (released["lot_status"], decision["number"], decision["status"]) == (
        "released",
        "REL-2026-0001",
        "released",
    )
    # 13:05 end of manufacture → 15:35 release
    assert decision["cycle_time_hours"] == 2.5
    assert [s["manifestation"] for s in decision["signatures"]] == [
        "Released by Petra Qualified (qp) on 2026-03-02 15:35:00 UTC (+00:00)"
    ]
    assert decision["evaluation_hash"] == checklist["evaluation_hash"]
    certificate = qp.get(f"/api/v1/production/batches/{record['lot_id']}/release-certificate.pdf")
    assert (certificate.status_code, certificate.headers["content-type"]) == (
        200,
        "application/pdf",
    )
    assert certificate.content.startswith(b"%PDF-")
