"""QC testing through the API: out-of-trend detection over successive batches, LIMS results
taken over from the platform, and the refusals — bad unit, time in the future, unknown test,
a duplicate, an OOS closed without a conclusion, segregation of duties — each leaving nothing
behind."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from tests.lifecycle.production.setup import (
    ASSAY,
    PRODUCT,
    add_batch,
    approved_specification,
    lot_status,
    seed_master_data,
    trail_counts,
)
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.models import Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.qc.models import OosInvestigation, QcResult
from pharmaqms.platform.ingest import service as ingest

TRENDED_ASSAY = {**ASSAY, "trend_rule": "both", "trend_window": 6}


@pytest.fixture
def lab(api, db, people, frozen_clock):  # type: ignore[no-untyped-def]
    seed_master_data(db, people)
    qc, qa = api("qc"), api("qa")
    spec = approved_specification(qc, qa, item_code=PRODUCT, tests=[TRENDED_ASSAY])
    return {"qc": qc, "qa": qa, "spec": spec}


def result(client: Any, lot_id: int, day: int, amount: float, **extra: Any) -> Any:
    body = {
        "lot_id": lot_id,
        "sample_id": f"S-{lot_id}",
        "test_code": "ASSAY",
        "tested_at": f"2026-02-{day:02d}T08:00:00Z",
        "value": amount,
        "unit": "%",
    } | extra
    return client.post("/api/v1/production/qc/results", json=body)


def count(db: Any, model: Any) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_sixth_rising_batch_is_out_of_trend_until_qc_assesses_it(lab, api, db, people) -> None:  # type: ignore[no-untyped-def]
    qc = lab["qc"]
    for day, value in enumerate([99.0, 99.1, 99.3, 99.2, 99.4, 99.3], start=1):
        recorded = result(qc, add_batch(db, people, f"T{day:03d}"), day, value).json()
        assert recorded["trend_findings"] == []  # no run yet, inside mean ± 3 s
    # 99.3 → 99.4 → 99.5 → 99.6 → 99.7 → 99.8: the last completes a rising run of six.
    for day, value in enumerate([99.4, 99.5, 99.6, 99.7], start=7):
        assert (
            result(qc, add_batch(db, people, f"T{day:03d}"), day, value).json()["trend_findings"]
            == []
        )
    last_lot = add_batch(db, people, "T011")
    flagged = result(qc, last_lot, 11, 99.8).json()
    spec_number = lab["spec"]["number"]
    assert flagged["result"]["outcome"] == "pass"
    assert flagged["result"]["trend_status"] == "open"
    assert flagged["trend_findings"] == [
        f"{spec_number}: 99.8 ends a run of 6 batches each higher than the one before"
    ]
    with unit_of_work(db, write=False) as s:
        [task] = s.scalars(select(Task).where(Task.kind == "assess_oot")).all()
        assert (task.assignee_role, task.status) == ("qc_analyst", "open")
    status = qc.get(f"/api/v1/production/qc/lots/{last_lot}/status").json()
    assert status["verdict"] == "pending"
    assert status["reasons"] == [
        "out-of-trend result not assessed: result ASSAY 99.8 % (sample S-11)"
    ]

    assessed = qc.post(
        f"/api/v1/production/qc/results/{flagged['result']['id']}/trend-assessment",
        json={"assessment": "Within specification; new API supplier lot; watch next 3 batches."},
    )
    assert assessed.status_code == 200, assessed.text
    assert assessed.json()["trend_status"] == "assessed"
    assert qc.get(f"/api/v1/production/qc/lots/{last_lot}/status").json()["verdict"] == "passed"


def test_a_value_outside_three_sigma_of_the_last_batches_is_out_of_trend(lab, db, people) -> None:  # type: ignore[no-untyped-def]
    qc = lab["qc"]
    for day, value in enumerate([100.0, 99.8, 100.1, 99.9, 100.2, 100.0], start=1):
        result(qc, add_batch(db, people, f"K{day:03d}"), day, value)
    flagged = result(qc, add_batch(db, people, "K007"), 7, 101.2).json()
    [finding] = flagged["trend_findings"]
    assert finding.startswith(f"{lab['spec']['number']}: 101.2 lies outside mean ± 3·s")
    assert flagged["result"]["outcome"] == "pass"  # in specification, but out of trend


@pytest.mark.postgres
def test_lims_results_are_taken_over_and_judged_as_their_delivery_commits_and_an_oos_opens_once(
    lab, db, people
) -> None:  # type: ignore[no-untyped-def]
    qc = lab["qc"]
    batch = add_batch(db, people, "L26001")
    csv = (
        "item_code,lot_number,sample_id,test_code,value,unit,analyst,tested_at\n"
        f"{PRODUCT},L26001,S-9001,ASSAY,99.6,%,chen,2026-03-01T09:30:00+01:00\n"
        f"{PRODUCT},L26001,S-9002,ASSAY,92.1,%,chen,2026-03-01T10:30:00+01:00\n"
        f"{PRODUCT},L26001,S-9003,ASSAY,0.98,kg,chen,2026-03-01T11:30:00+01:00\n"
    ).encode()
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.qc, kind="lims", content=csv, filename="lims.csv")
        assert run.rows_accepted == 3
    # Judged as soon as the delivery committed (platform delivery listener): the lot is held.
    assert lot_status(db, batch) == "on_hold"
    investigations = qc.get("/api/v1/records/oos_investigation/1/transitions")
    assert investigations.status_code == 200, investigations.text
    again = qc.post("/api/v1/production/qc/lims-results/evaluate", json={})
    assert again.status_code == 200, again.text
    assert again.json() == {"taken_over": 0, "failed": [], "not_evaluated": 0, "out_of_trend": 0}
    results = {
        r["sample_id"]: r for r in qc.get(f"/api/v1/production/qc/lots/{batch}/results").json()
    }
    assert (results["S-9001"]["outcome"], results["S-9001"]["source"]) == ("pass", "lims")
    assert results["S-9003"]["outcome"] == "not_evaluated"
    assert "'kg' can't be converted to '%'" in results["S-9003"]["evaluation_note"]


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"unit": "kg"}, 422, "unit_mismatch", "unit"),
        ({"unit": ""}, 422, "unit_mismatch", "unit"),
        ({"tested_at": "2026-03-02T10:00:00Z"}, 422, "result_in_future", "tested_at"),
        ({"test_code": "DISSOLUTION"}, 422, "invalid_input", "test_code"),
        ({"value": None, "text_value": "conforms"}, 422, "invalid_input", "value"),
        ({"tested_at": "2026-03-01T08:00:00"}, 422, "invalid_input", "tested_at"),
        # Issue 9 §4/§5: unit texts that crashed pint (AssertionError, ZeroDivisionError).
        ({"unit": "mg/"}, 422, "unit_mismatch", "unit"),
        ({"unit": "1/0"}, 422, "unit_mismatch", "unit"),
        ({"unit": "a=b"}, 422, "unit_mismatch", "unit"),
        ({"tested_at": "0001-01-01T00:00:00+14:00"}, 422, "invalid_input", "tested_at"),
    ],
)
def test_a_result_that_cant_be_judged_is_refused_and_nothing_is_written(  # type: ignore[no-untyped-def]
    lab, db, people, change, status, code, field
) -> None:
    batch = add_batch(db, people, "R26001")
    before = (trail_counts(db), count(db, QcResult), count(db, OosInvestigation))
    refused = result(lab["qc"], batch, 1, 93.0, **change)
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (refused.json()["code"], refused.json()["field"]) == (code, field)
    assert (trail_counts(db), count(db, QcResult), count(db, OosInvestigation)) == before
    assert lot_status(db, batch) == "quarantine"


def test_a_result_is_never_overwritten_by_a_second_entry(lab, db, people) -> None:  # type: ignore[no-untyped-def]
    batch = add_batch(db, people, "R26002")
    assert result(lab["qc"], batch, 1, 99.0).status_code == 201
    before = trail_counts(db)
    again = result(lab["qc"], batch, 1, 100.0)
    assert again.status_code == 409
    assert "a result is never overwritten" in again.json()["detail"]
    assert trail_counts(db) == before


def to_phase_2(qc: Any, reviewer: Any, inv_id: int) -> None:
    """Phase I recorded by the analyst, its review signed by another person (``reviewer``)."""
    checklist = {
        k: "ok"
        for k in (
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
    assert (
        qc.post(
            f"/api/v1/production/qc/investigations/{inv_id}/phase-1",
            json={"findings": "No error found.", "checklist": checklist, "assignable_cause": False},
        ).status_code
        == 200
    )
    assert (
        reviewer.post(
            f"/api/v1/records/oos_investigation/{inv_id}/transitions/escalate",
            json={
                "password": PASSWORD,
                "expected_version": reviewed_version(reviewer, "oos_investigation", inv_id),
            },
        ).status_code
        == 200
    )


def test_an_oos_is_not_closed_without_a_conclusion_nor_by_who_wrote_it(
    lab, api, db, people
) -> None:  # type: ignore[no-untyped-def]
    qc, qa = lab["qc"], lab["qa"]
    batch = add_batch(db, people, "R26003")
    inv_id = result(qc, batch, 1, 93.0).json()["investigation_id"]
    to_phase_2(qc, api("qa2"), inv_id)

    before = trail_counts(db)
    early = qa.post(
        f"/api/v1/records/oos_investigation/{inv_id}/transitions/approve_conclusion",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "oos_investigation", inv_id),
        },
    )
    assert early.status_code == 409
    assert early.json()["code"] == "transition_not_allowed"
    unconcluded = qc.post(
        f"/api/v1/records/oos_investigation/{inv_id}/transitions/submit_conclusion", json={}
    )
    assert unconcluded.status_code == 409
    assert unconcluded.json()["reasons"] == [
        "the review of manufacturing (batch record, deviations) is not recorded",
        "the root cause is not stated (write 'not identified' and why)",
        "the conclusion is missing: OOS confirmed or invalidated",
        "the rationale of the conclusion is missing",
        "the impact on other lots is not assessed",
    ]
    assert trail_counts(db) == before

    written = qa.patch(
        f"/api/v1/production/qc/investigations/{inv_id}/phase-2",
        json={
            "manufacturing_review": "Batch record reviewed: no deviation.",
            "root_cause": "Not identified after full investigation.",
            "conclusion": "confirmed",
            "conclusion_rationale": "No laboratory or manufacturing cause; the result stands.",
            "impact_on_other_lots": "None: no shared materials.",
        },
    )
    assert written.status_code == 200, written.text
    submitted = qa.post(
        f"/api/v1/records/oos_investigation/{inv_id}/transitions/submit_conclusion", json={}
    )
    assert submitted.status_code == 200, submitted.text
    before = trail_counts(db)
    own = qa.post(
        f"/api/v1/records/oos_investigation/{inv_id}/transitions/approve_conclusion",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "oos_investigation", inv_id),
        },
    )
    assert own.status_code == 403
    assert own.json()["code"] == "segregation_of_duties"
    assert trail_counts(db) == before
    qa2 = api("qa2")
    other = qa2.post(
        f"/api/v1/records/oos_investigation/{inv_id}/transitions/approve_conclusion",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa2, "oos_investigation", inv_id),
        },
    )
    assert other.status_code == 200, other.text


def test_only_qa_invalidates_a_result_and_only_with_evidence(lab, db, people) -> None:  # type: ignore[no-untyped-def]
    qc = lab["qc"]
    batch = add_batch(db, people, "R26004")
    inv_id = result(qc, batch, 1, 93.0).json()["investigation_id"]
    checklist = {
        k: "ok"
        for k in (
            "sample_identity",
            "sample_preparation",
            "calculation",
            "instrument",
            "standards_reagents",
            "method",
            "analyst",
            "glassware_equipment",
        )
    } | {"calculation": "error"}
    before = trail_counts(db)
    no_evidence = qc.post(
        f"/api/v1/production/qc/investigations/{inv_id}/phase-1",
        json={"findings": "Spreadsheet error.", "checklist": checklist, "assignable_cause": True},
    )
    assert (no_evidence.status_code, no_evidence.json()["field"]) == (422, "lab_error_evidence")
    assert trail_counts(db) == before
    recorded = qc.post(
        f"/api/v1/production/qc/investigations/{inv_id}/phase-1",
        json={
            "findings": "Spreadsheet error.",
            "checklist": checklist,
            "assignable_cause": True,
            "lab_error_evidence": "Dilution factor 10 typed as 1.0 in cell D4.",
        },
    )
    assert recorded.status_code == 200, recorded.text
    before = trail_counts(db)
    by_qc = qc.post(
        f"/api/v1/records/oos_investigation/{inv_id}/transitions/invalidate_lab_error",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qc, "oos_investigation", inv_id),
            "reason": "spreadsheet error",
        },
    )
    assert by_qc.status_code == 403
    assert by_qc.json()["code"] == "permission_denied"
    assert trail_counts(db) == before
    original = qc.get(f"/api/v1/production/qc/lots/{batch}/results").json()[0]
    assert original["status"] == "valid"


def test_the_author_of_a_specification_may_not_approve_it(api, db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    seed_master_data(db, people)
    qa = api("qa")
    spec_id = qa.post(
        "/api/v1/production/qc/specifications",
        json={
            "subject_kind": "product",
            "item_code": PRODUCT,
            "market": "US",
            "title": "US release specification",
            "tests": [ASSAY],
        },
    ).json()["id"]
    qa.post(f"/api/v1/records/qc_specification/{spec_id}/transitions/submit", json={})
    before = trail_counts(db)
    refused = qa.post(
        f"/api/v1/records/qc_specification/{spec_id}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "qc_specification", spec_id),
        },
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "segregation_of_duties")
    assert trail_counts(db) == before
    assert qa.get(f"/api/v1/production/qc/specifications/{spec_id}").json()["status"] == (
        "in_review"
    )


def test_an_oos_result_is_not_also_out_of_trend_nor_part_of_the_history(lab, db, people) -> None:  # type: ignore[no-untyped-def]
    qc = lab["qc"]
    for day, value in enumerate([100.0, 99.8, 100.1, 99.9, 100.2, 100.0], start=1):
        result(qc, add_batch(db, people, f"H{day:03d}"), day, value)
    oos = result(qc, add_batch(db, people, "H007"), 7, 93.0).json()
    assert (oos["result"]["outcome"], oos["trend_findings"]) == ("fail", [])
    assert oos["result"]["trend_status"] == "none"
    # Six conforming batches: mean 100.0, s 0.141, limits 99.58 … 100.42. With the OOS in the
    # history there would be seven batches and s 2.6, and 100.6 would pass unnoticed.
    after = result(qc, add_batch(db, people, "H008"), 8, 100.6).json()
    [finding] = after["trend_findings"]
    assert "of the previous 6 batches" in finding


@pytest.mark.parametrize(
    ("unit", "why"),
    [
        ("mg/", "an operator has nothing on one side"),
        ("1/0", "its arithmetic fails"),
        ("°C)", "a ')' closes nothing"),
        ("a=b", "it holds '='"),
    ],
)
def test_a_specification_in_a_unit_that_is_no_unit_expression_is_refused(
    api, db, people, frozen_clock, unit: str, why: str
) -> None:  # type: ignore[no-untyped-def]
    """Issue 9 §4/§5: "mg/" answered 500 (an AssertionError inside pint); the QC specification
    reads its unit through the same ``parse_unit`` as the LIMS and sensor ingest."""
    seed_master_data(db, people)
    qa = api("qa")
    before = trail_counts(db)

    response = qa.post(
        "/api/v1/production/qc/specifications",
        json={
            "subject_kind": "product",
            "item_code": PRODUCT,
            "market": "EU",
            "title": "Release specification",
            "tests": [{**ASSAY, "unit": unit}],
        },
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert why in response.json()["detail"]
    assert trail_counts(db) == before
