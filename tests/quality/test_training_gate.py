"""Training gates work: a step governed by a document is refused, naming the training, to
anyone whose training on it is missing or overdue, and the refusal changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from tests.quality.document_steps import (
    SOP_BODY,
    bring_revision_into_force,
    counts,
    effective_document,
    take,
)
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.auth import system_actor
from pharmaqms.kernel.errors import TrainingMissing
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.training.gate import require_current_training

APPROVE = "/api/v1/records/document_version/{}/transitions/approve"


def reviewed_approval(client: Any, version_id: int) -> dict[str, Any]:
    """An approval of the version the signer reviewed."""
    return {
        "password": PASSWORD,
        "expected_version": reviewed_version(client, "document_version", version_id),
    }


def people_ids(api: Any) -> dict[str, int]:
    return {u["username"]: u["id"] for u in api("admin").get("/api/v1/users").json()}


def submitted_draft(author: Any, title: str) -> int:
    created = author.post(
        "/api/v1/documents", json={"doc_type": "sop", "title": title, "body": SOP_BODY}
    )
    assert created.status_code == 201, created.text
    take(author, "document_version", created.json()["id"], "submit")
    return int(created.json()["id"])


def govern_approval(qa: Any, document_id: int) -> dict[str, Any]:
    rule = qa.post(
        "/api/v1/training/governing",
        json={
            "record_type": "document_version",
            "transition": "approve",
            "document_id": document_id,
            "reason": "approvers follow the document approval SOP",
        },
    )
    assert rule.status_code == 201, rule.text
    result: dict[str, Any] = rule.json()
    return result


@pytest.mark.clause("part11:11.10(i)", "annex11:2")
@pytest.mark.postgres
def test_an_approver_not_trained_on_the_governing_sop_cannot_sign_and_nothing_changes(
    frozen_clock, db, api
) -> None:  # type: ignore[no-untyped-def]
    qa, qa2, author = api("qa"), api("qa2"), api("qc")
    sop = effective_document(author, qa, "Review and approval of controlled documents")
    rule = govern_approval(qa, sop["id"])
    assert (rule["record_type"], rule["transition"], rule["document_number"]) == (
        "document_version",
        "approve",
        sop["number"],
    )
    draft = submitted_draft(author, "Weighing of raw materials")
    before = counts(db)

    refused = qa2.post(APPROVE.format(draft), json=reviewed_approval(qa2, draft))

    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == "training_missing"
    assert body["detail"] == (
        "Rosa Reviewer (qa2) is not trained for this step: "
        f"{sop['number']} Review and approval of controlled documents: never trained"
    )
    assert body["missing_training"] == [
        {"document": sop["number"], "standing": "missing", "requirement": None, "due_at": None}
    ]
    assert counts(db) == before
    assert qa2.get(f"/api/v1/document-versions/{draft}").json()["status"] == "in_review"

    # given: the training is assigned but not yet read
    assigned = qa.post(
        "/api/v1/training/requirements",
        json={
            "user_id": people_ids(api)["qa2"],
            "document_id": sop["id"],
            "reason": "new approver",
        },
    )
    assert assigned.status_code == 201, assigned.text
    before = counts(db)
    still = qa2.post(APPROVE.format(draft), json=reviewed_approval(qa2, draft))
    assert still.json()["reasons"] == [
        f"{sop['number']} Review and approval of controlled documents: training "
        f"{assigned.json()['number']} on {sop['number']} v1.0 assigned (due 2026-03-16) but "
        "not completed"
    ]
    assert counts(db) == before

    # when: read and understood
    qa2.post(f"/api/v1/training/requirements/{assigned.json()['id']}/open")
    signed = qa2.post(
        f"/api/v1/training/requirements/{assigned.json()['id']}/complete",
        json={"password": PASSWORD},
    )
    assert signed.status_code == 200, signed.text
    approved = qa2.post(APPROVE.format(draft), json=reviewed_approval(qa2, draft))

    # then
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"


@pytest.mark.clause("part11:11.10(i)", "annex11:2")
def test_overdue_training_refuses_the_step_naming_the_overdue_training(
    frozen_clock, db, api
) -> None:  # type: ignore[no-untyped-def]
    qa, author = api("qa"), api("qc")
    sop = effective_document(author, qa, "Review and approval of controlled documents")
    govern_approval(qa, sop["id"])
    assigned = qa.post(
        "/api/v1/training/requirements",
        json={
            "user_id": people_ids(api)["qp"],
            "document_id": sop["id"],
            "due_in_days": 3,
            "reason": "new approver",
        },
    ).json()
    draft = submitted_draft(author, "Weighing of raw materials")

    frozen_clock.advance(days=4)
    qp = api("qp")
    before = counts(db)
    refused = qp.post(APPROVE.format(draft), json=reviewed_approval(qp, draft))

    assert (refused.status_code, refused.json()["code"]) == (403, "training_missing")
    assert refused.json()["reasons"] == [
        f"{sop['number']} Review and approval of controlled documents: training "
        f"{assigned['number']} on {sop['number']} v1.0 overdue since 2026-03-05"
    ]
    assert refused.json()["missing_training"][0]["standing"] == "overdue"
    assert counts(db) == before


def test_steps_outside_workflows_call_the_gate_themselves(frozen_clock, db, api, people) -> None:  # type: ignore[no-untyped-def]
    qa, operator, author = api("qa"), api("operator"), api("qc")
    sop = effective_document(author, qa, "Line clearance of the compression suite")
    assigned = qa.post(
        "/api/v1/training/requirements",
        json={"user_id": people_ids(api)["operator"], "document_id": sop["id"], "reason": "new"},
    ).json()
    operator.post(f"/api/v1/training/requirements/{assigned['id']}/open")
    assert (
        operator.post(
            f"/api/v1/training/requirements/{assigned['id']}/complete", json={"password": PASSWORD}
        ).status_code
        == 200
    )

    with unit_of_work(db, write=False) as session:
        require_current_training(session, people.operator, [sop["number"]])
        require_current_training(session, system_actor(session), ["SOP-1999-0001"])
        with pytest.raises(TrainingMissing) as refusal:
            require_current_training(session, people.operator, [sop["number"], "SOP-1999-0001"])
        assert refusal.value.reasons == [
            "SOP-1999-0001: not a document in force, so nobody can be trained on it"
        ]
        with pytest.raises(TrainingMissing) as untrained:
            require_current_training(session, people.supervisor, [sop["number"]])
        assert untrained.value.reasons == [
            f"{sop['number']} Line clearance of the compression suite: never trained"
        ]

    checked = operator.get(f"/api/v1/training/check?document={sop['number']}").json()
    assert checked == {"allowed": True, "reasons": []}

    # a revision in force leaves the operator its due period, then refuses
    version = bring_revision_into_force(author, qa, sop["id"], "Second signature added.")
    with unit_of_work(db, write=False) as session:
        require_current_training(session, people.operator, [sop["number"]])
    frozen_clock.advance(days=15)
    with unit_of_work(db, write=False) as session, pytest.raises(TrainingMissing) as overdue:
        require_current_training(session, people.operator, [sop["number"]])
    [reason] = overdue.value.reasons
    assert reason.endswith(f"on {version['number']} overdue since 2026-03-16")


def test_a_retired_rule_no_longer_governs_the_step(frozen_clock, db, api) -> None:  # type: ignore[no-untyped-def]
    qa, qa2, author = api("qa"), api("qa2"), api("qc")
    sop = effective_document(author, qa, "Review and approval of controlled documents")
    rule = govern_approval(qa, sop["id"])
    draft = submitted_draft(author, "Weighing of raw materials")
    assert qa2.post(APPROVE.format(draft), json=reviewed_approval(qa2, draft)).status_code == 403

    retired = qa.post(
        f"/api/v1/training/governing/{rule['id']}/retire", json={"reason": "SOP merged"}
    )

    assert retired.status_code == 204
    assert qa.get("/api/v1/training/governing").json() == []
    assert qa2.post(APPROVE.format(draft), json=reviewed_approval(qa2, draft)).status_code == 200
