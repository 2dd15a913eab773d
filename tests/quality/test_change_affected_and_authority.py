"""A change names the products, specifications and master batch records it affects (each one
known to the module that owns it), and a prior-approval change is implemented only once the
authority's approval (reference, date, scanned letter) is on record. Refusals change nothing."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from tests.lifecycle.production.setup import PRODUCT, seed_master_data
from tests.quality.quality_steps import counts, days_ahead, problem, take, user_id
from tests.quality.test_changes_api import assessment, decide, requested_change
from tests.support import PASSWORD

from pharmaqms.kernel import clock

LETTER = b"%PDF-1.4\n% scanned letter of the authority\n" + bytes(range(256))


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database must be made on real time (see test_deviations_api)."""


def test_a_change_names_the_products_it_affects_and_the_functions_sign_them(
    api: Any, db: Any, people: Any
) -> None:
    seed_master_data(db, people)
    rd, qa = api("rd"), api("qa")
    change = requested_change(rd)
    cid = change["id"]

    named = rd.post(
        f"/api/v1/changes/{cid}/affected", json={"kind": "product", "reference": PRODUCT}
    )

    assert named.status_code == 201, named.text
    assert named.json()["label"].startswith(PRODUCT)
    shown = qa.get(f"/api/v1/changes/{cid}").json()
    assert [(i["kind"], i["reference"]) for i in shown["affected"]] == [("product", PRODUCT)]
    before = counts(db)
    for body, field in (
        ({"kind": "product", "reference": "P-NOPE"}, "reference"),
        ({"kind": "specification", "reference": "QSPEC-2026-0404"}, "reference"),
        ({"kind": "master_batch_record", "reference": "MBR-2026-0404"}, "reference"),
        ({"kind": "equipment", "reference": "press 3"}, "kind"),
    ):
        refused = rd.post(f"/api/v1/changes/{cid}/affected", json=body)
        assert problem(refused, 422, "invalid_input")["field"] == field, body
    twice = rd.post(
        f"/api/v1/changes/{cid}/affected", json={"kind": "product", "reference": PRODUCT}
    )
    assert problem(twice, 409, "conflict")
    assert counts(db) == before

    # Once in approval, what it affects is what the functions signed: no more naming.
    take(rd, "change_request", cid, "submit")
    qa.post(f"/api/v1/changes/{cid}/impact-assessment", json=assessment(["quality_assurance"]))
    qa.post(
        f"/api/v1/changes/{cid}/actions",
        json={
            "kind": "update_process",
            "description": "Fit the counter",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(20),
        },
    )
    take(qa, "change_request", cid, "submit_for_approval")
    before = counts(db)
    late = rd.post(
        f"/api/v1/changes/{cid}/affected", json={"kind": "product", "reference": PRODUCT}
    )
    assert problem(late, 409, "conflict")
    assert counts(db) == before


def prior_approval_change(api: Any, db: Any) -> tuple[int, Any, Any]:
    """A prior-approval change approved by QA, in implementation: a submission task and an
    equipment task."""
    rd, qa = api("rd"), api("qa")
    cid = requested_change(rd)["id"]
    take(rd, "change_request", cid, "submit")
    response = qa.post(
        f"/api/v1/changes/{cid}/impact-assessment",
        json=assessment(
            ["quality_assurance"],
            regulatory_category="prior_approval",
            regulatory_rationale="A new manufacturing site step: type II variation.",
        ),
    )
    assert response.status_code == 200, response.text
    for kind, text in (
        ("regulatory_submission", "File the variation"),
        ("qualify_equipment", "IQ/OQ"),
    ):
        qa.post(
            f"/api/v1/changes/{cid}/actions",
            json={
                "kind": kind,
                "description": text,
                "owner_id": user_id(db, "supervisor"),
                "due_at": days_ahead(20),
            },
        )
    take(qa, "change_request", cid, "submit_for_approval")
    qa2 = api("qa2")
    decided = decide(qa2, cid, "quality_assurance")
    assert decided.json()["status"] == "implementation", decided.text
    return cid, qa, api("supervisor")


def test_a_prior_approval_change_waits_for_the_authority_before_implementation(
    api: Any, db: Any
) -> None:
    cid, qa, supervisor = prior_approval_change(api, db)
    actions = {a["kind"]: a["id"] for a in qa.get(f"/api/v1/changes/{cid}").json()["actions"]}

    # The submission task is done by the submission record, not by a sentence.
    before = counts(db)
    said = supervisor.post(
        f"/api/v1/changes/{cid}/actions/{actions['regulatory_submission']}/completion",
        json={"evidence": "Variation filed, procedure EMEA/H/C/0001/II/0042"},
    )
    assert "is done when it is recorded" in problem(said, 409, "conflict")["detail"]
    assert counts(db) == before
    submitted = supervisor.post(
        f"/api/v1/changes/{cid}/submission",
        data={"reference": "EMEA/H/C/0001/II/0042", "submitted_on": clock.now().date().isoformat()},
        files={"file": ("variation.zip", b"PK\x03\x04 eCTD sequence 0042")},
    )
    assert submitted.status_code == 200, submitted.text
    [task] = [a for a in submitted.json()["actions"] if a["kind"] == "regulatory_submission"]
    assert task["status"] == "done"
    assert task["completion_evidence"].startswith("submitted EMEA/H/C/0001/II/0042 on ")

    # Nothing else before the authority approved.
    before = counts(db)
    early = supervisor.post(
        f"/api/v1/changes/{cid}/actions/{actions['qualify_equipment']}/completion",
        json={"evidence": "IQ/OQ done"},
    )
    assert "needs the authority's prior approval" in problem(early, 409, "conflict")["detail"]
    not_yet = take(qa, "change_request", cid, "complete_implementation", status=409)
    assert any("authority" in r for r in not_yet["reasons"])
    for files, data, field in (
        (
            {"letter": ("letter.docx", b"PK\x03\x04")},
            {"reference": "II/0042", "approved_on": clock.now().date().isoformat()},
            "letter",
        ),
        (
            {"letter": ("letter.pdf", LETTER)},
            {"reference": "II/0042", "approved_on": "2099-01-01"},
            "approved_on",
        ),
    ):
        refused = qa.post(f"/api/v1/changes/{cid}/authority-approval", data=data, files=files)
        assert problem(refused, 422, "invalid_input")["field"] == field
    by_supervisor = supervisor.post(
        f"/api/v1/changes/{cid}/authority-approval",
        data={"reference": "II/0042", "approved_on": "2026-03-01"},
        files={"letter": ("letter.pdf", LETTER)},
    )
    assert by_supervisor.status_code == 403
    assert counts(db)["change_actions"] == before["change_actions"]
    assert qa.get(f"/api/v1/changes/{cid}").json()["authority_approved_on"] is None

    recorded = qa.post(
        f"/api/v1/changes/{cid}/authority-approval",
        data={"reference": "EMEA/H/C/0001/II/0042", "approved_on": clock.now().date().isoformat()},
        files={"letter": ("approval letter.pdf", LETTER)},
    )
    assert recorded.status_code == 200, recorded.text
    body = recorded.json()
    assert body["authority_reference"] == "EMEA/H/C/0001/II/0042"
    assert body["authority_letter_sha256"] == hashlib.sha256(LETTER).hexdigest()
    assert qa.get(f"/api/v1/changes/{cid}/regulatory-files/approval").content == LETTER
    done = supervisor.post(
        f"/api/v1/changes/{cid}/actions/{actions['qualify_equipment']}/completion",
        json={"evidence": "IQ/OQ report EQ-0042"},
    )
    assert done.status_code == 200, done.text
    take(qa, "change_request", cid, "complete_implementation")


def test_a_change_not_reported_for_prior_approval_records_no_authority_approval(
    api: Any, db: Any
) -> None:
    rd, qa = api("rd"), api("qa")
    cid = requested_change(rd)["id"]
    before = counts(db)
    refused = qa.post(
        f"/api/v1/changes/{cid}/authority-approval",
        data={"reference": "X", "approved_on": "2026-01-01"},
        files={"letter": ("letter.pdf", LETTER)},
    )
    assert "only a prior-approval change" in problem(refused, 409, "conflict")["detail"]
    assert counts(db) == before


def test_a_retraining_naming_its_document_is_done_by_the_training_records(
    api: Any, db: Any, frozen_clock: clock.FrozenClock
) -> None:
    from tests.quality.document_steps import effective_document

    rd, qa, qa2, supervisor = api("rd"), api("qa"), api("qa2"), api("supervisor")
    operator = api("operator")
    sop = effective_document(api("qc"), qa, "Punch inspection")
    cid = requested_change(rd)["id"]
    take(rd, "change_request", cid, "submit")
    qa.post(f"/api/v1/changes/{cid}/impact-assessment", json=assessment(["quality_assurance"]))
    added = qa.post(
        f"/api/v1/changes/{cid}/actions",
        json={
            "kind": "retrain_role",
            "description": "Retrain the operators on the punch inspection SOP",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(20),
            "role": "production_operator",
            "document_id": sop["id"],
        },
    )
    assert added.status_code == 201, added.text
    take(qa, "change_request", cid, "submit_for_approval")
    decide(qa2, cid, "quality_assurance")
    frozen_clock.advance(minutes=5)
    before = counts(db)

    said = supervisor.post(
        f"/api/v1/changes/{cid}/actions/{added.json()['id']}/completion",
        json={"evidence": "all operators were told"},
    )

    assert problem(said, 409, "conflict")["reasons"] == [
        f"not yet trained on {sop['number']} in force: Otto Operator"
    ]
    assert counts(db) == before
    requirement = qa.post(
        "/api/v1/training/requirements",
        json={"user_id": user_id(db, "operator"), "document_id": sop["id"], "reason": "CC"},
    ).json()
    operator.post(f"/api/v1/training/requirements/{requirement['id']}/open")
    operator.post(
        f"/api/v1/training/requirements/{requirement['id']}/complete", json={"password": PASSWORD}
    )
    done = supervisor.post(
        f"/api/v1/changes/{cid}/actions/{added.json()['id']}/completion", json={"evidence": ""}
    )
    assert done.status_code == 200, done.text
    assert done.json()["completion_evidence"] == (
        f"production_operator trained: {requirement['number']}"
    )


def test_a_retraining_task_naming_no_document_is_refused(api: Any, db: Any) -> None:
    rd, qa = api("rd"), api("qa")
    cid = requested_change(rd)["id"]
    take(rd, "change_request", cid, "submit")
    qa.post(f"/api/v1/changes/{cid}/impact-assessment", json=assessment(["quality_assurance"]))
    before = counts(db)

    refused = qa.post(
        f"/api/v1/changes/{cid}/actions",
        json={
            "kind": "retrain_role",
            "description": "Tell the operators about the counter",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(20),
            "role": "production_operator",
        },
    )

    body = problem(refused, 422, "invalid_input")
    assert body["field"] == "document_id"
    assert body["detail"] == (
        "name the document the role is retrained on (document_id): the task is done when "
        "everyone holding the role has signed read and understood on it"
    )
    assert counts(db) == before
    assert qa.get(f"/api/v1/changes/{cid}").json()["actions"] == []


def test_a_retraining_planned_before_the_rule_is_still_completed_with_written_evidence(
    api: Any, db: Any, frozen_clock: clock.FrozenClock
) -> None:
    from sqlalchemy import update
    from tests.quality.document_steps import effective_document

    from pharmaqms.kernel.uow import unit_of_work
    from pharmaqms.quality.changes.models import ChangeAction

    rd, qa, qa2, supervisor = api("rd"), api("qa"), api("qa2"), api("supervisor")
    sop = effective_document(api("qc"), qa, "Punch inspection")
    cid = requested_change(rd)["id"]
    take(rd, "change_request", cid, "submit")
    qa.post(f"/api/v1/changes/{cid}/impact-assessment", json=assessment(["quality_assurance"]))
    task = qa.post(
        f"/api/v1/changes/{cid}/actions",
        json={
            "kind": "retrain_role",
            "description": "Retrain the operators",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(20),
            "role": "production_operator",
            "document_id": sop["id"],
        },
    ).json()
    take(qa, "change_request", cid, "submit_for_approval")
    decide(qa2, cid, "quality_assurance")
    # The task as a release before the rule stored it: a role, no document.
    with unit_of_work(db) as s:
        s.execute(
            update(ChangeAction).where(ChangeAction.id == task["id"]).values(document_id=None)
        )
    url = f"/api/v1/changes/{cid}/actions/{task['id']}/completion"
    before = counts(db)

    empty = supervisor.post(url, json={"evidence": " "})

    assert problem(empty, 422, "invalid_input")["field"] == "evidence"
    assert counts(db) == before
    done = supervisor.post(url, json={"evidence": "Briefing 2026-03-02, attendance list TR-17"})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["completion_evidence"]) == (
        "done",
        "Briefing 2026-03-02, attendance list TR-17",
    )
