"""Change control through the API: request, impact assessment, one signed approval per
impacted function, implementation tasks tied to document control, effectiveness review and
closure — and the refusals with their reasons and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from tests.quality.document_steps import name_job_role
from tests.quality.quality_steps import (
    add_person,
    counts,
    days_ahead,
    problem,
    sign,
    take,
    user_id,
)
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel import clock

SOP_BODY = (
    "1. Purpose\n\nHow punches of the tablet presses are inspected, counted and retired.\n\n"
    "2. Steps\n\n2.1 Inspect the tips. 2.2 Record the stroke count. 2.3 Retire at the limit."
)
AREAS = ("documents", "processes", "equipment", "validation", "regulatory_filing", "training")


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database must be made on real time (see test_deviations_api)."""


def effective_sop(author: Any, approver: Any) -> dict[str, Any]:
    version = author.post(
        "/api/v1/documents",
        json={"doc_type": "sop", "title": "Tooling management", "body": SOP_BODY},
    ).json()
    take(author, "document_version", version["id"], "submit")
    sign(approver, "document_version", version["id"], "approve")
    name_job_role(approver, version["document_id"])
    take(approver, "document_version", version["id"], "make_effective")
    return dict(version)


def revise_into_force(author: Any, approver: Any, document_id: int) -> None:
    revised = author.post(
        f"/api/v1/documents/{document_id}/revisions",
        json={"change_summary": "Stroke counter and life limit added (change control)."},
    )
    assert revised.status_code == 201, revised.text
    vid = revised.json()["id"]
    take(author, "document_version", vid, "submit")
    sign(approver, "document_version", vid, "approve")
    take(approver, "document_version", vid, "make_effective")


def requested_change(client: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Stroke counter for tablet press punches",
        "description": "Count compressions per punch set and retire punches at 5 M strokes.",
        "justification": "Punch fatigue caused DEV-2026-0001.",
        **overrides,
    }
    response = client.post("/api/v1/changes", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def assessment(functions: list[str], **overrides: Any) -> dict[str, Any]:
    return {
        "impacts": [
            {
                "area": area,
                "impacted": area in ("documents", "equipment", "training"),
                "assessment": f"Assessed for {area.replace('_', ' ')}.",
            }
            for area in AREAS
        ],
        "regulatory_category": "notification",
        "regulatory_rationale": "Equipment change within the registered design space.",
        "functions": functions,
        **overrides,
    }


def change_in_approval(db: Any, api: Any, functions: list[str]) -> tuple[dict[str, Any], Any]:
    """A change requested by R&D, assessed by QA and submitted for approval."""
    rd, qa = api("rd"), api("qa")
    change = requested_change(rd)
    cid = change["id"]
    take(rd, "change_request", cid, "submit")
    response = qa.post(f"/api/v1/changes/{cid}/impact-assessment", json=assessment(functions))
    assert response.status_code == 200, response.text
    response = qa.post(
        f"/api/v1/changes/{cid}/actions",
        json={
            "kind": "qualify_equipment",
            "description": "Verify the stroke counters",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(20),
        },
    )
    assert response.status_code == 201, response.text
    take(qa, "change_request", cid, "submit_for_approval")
    return dict(qa.get(f"/api/v1/changes/{cid}").json()), qa


def decide(client: Any, cid: int, function: str, **body: Any) -> Any:
    return client.post(
        f"/api/v1/changes/{cid}/decisions",
        json={"function": function, "approve": True, "password": PASSWORD, **body},
    )


@pytest.mark.clause("annex11:10")
@pytest.mark.postgres
def test_a_change_is_approved_by_each_function_implemented_and_closed(
    api: Any, db: Any, frozen_clock: clock.FrozenClock
) -> None:
    rd, qa, qa2, qc, supervisor = api("rd"), api("qa"), api("qa2"), api("qc"), api("supervisor")
    sop = effective_sop(qc, qa)

    # given R&D requests a change, QA assesses its impact in every area and plans the tasks
    change = requested_change(rd)
    cid = change["id"]
    assert (change["number"], change["status"]) == ("CC-2026-0001", "draft")
    take(rd, "change_request", cid, "submit")
    functions = ["quality_assurance", "production", "quality_control"]
    assessed = qa.post(f"/api/v1/changes/{cid}/impact-assessment", json=assessment(functions))
    assert [(i["area"], i["impacted"]) for i in assessed.json()["impacts"]] == [
        ("documents", True),
        ("processes", False),
        ("equipment", True),
        ("validation", False),
        ("regulatory_filing", False),
        ("training", True),
    ]
    for task in (
        {
            "kind": "revise_document",
            "description": "Revise the tooling SOP",
            "document_id": sop["document_id"],
            "owner_id": user_id(db, "qc"),
        },
        {
            "kind": "retrain_role",
            "description": "Train operators on the counter",
            "document_id": sop["document_id"],
            "role": "production_operator",
            "owner_id": user_id(db, "supervisor"),
        },
    ):
        added = qa.post(f"/api/v1/changes/{cid}/actions", json={**task, "due_at": days_ahead(30)})
        assert added.status_code == 201, added.text
    in_approval = take(qa, "change_request", cid, "submit_for_approval")
    assert in_approval["status"] == "approval"

    # when each impacted function signs for itself
    assert decide(qa2, cid, "quality_assurance").status_code == 200
    assert decide(supervisor, cid, "production").status_code == 200
    waiting = qa.get(f"/api/v1/changes/{cid}").json()
    assert (waiting["status"], waiting["functions_waiting"]) == ("approval", ["quality_control"])
    last = decide(qc, cid, "quality_control", comment="QC methods unaffected")

    # then the last approval starts implementation
    shown = last.json()
    assert shown["status"] == "implementation"
    assert shown["functions_waiting"] == []
    assert [(s["meaning"], s["signer_username"]) for s in shown["signatures"]] == [
        ("Approved", "qa2"),
        ("Approved", "supervisor"),
        ("Approved", "qc"),
    ]
    assert [(a["function"], a["valid_for_current_content"]) for a in shown["approvals"]] == [
        ("quality_assurance", True),
        ("production", True),
        ("quality_control", True),
    ]
    revise_task, train_task = shown["actions"]

    # and the document task is done only once a revision of the SOP is in force
    early = qc.post(
        f"/api/v1/changes/{cid}/actions/{revise_task['id']}/completion",
        json={"evidence": "SOP revised"},
    )
    assert problem(early, 409, "conflict")["reasons"] == [
        f"{sop['number'].split(' ')[0]} has no version made effective since CC-2026-0001 was "
        "approved: revise it first"
    ]
    frozen_clock.advance(hours=2)
    revise_into_force(qc, qa, sop["document_id"])
    # the operator reads the revision in force: the retraining is done by that record
    operator = api("operator")
    requirement = qa.post(
        "/api/v1/training/requirements",
        json={
            "user_id": user_id(db, "operator"),
            "document_id": sop["document_id"],
            "reason": "CC",
        },
    ).json()
    operator.post(f"/api/v1/training/requirements/{requirement['id']}/open")
    operator.post(
        f"/api/v1/training/requirements/{requirement['id']}/complete", json={"password": PASSWORD}
    )
    for task, who in ((revise_task, qc), (train_task, supervisor)):
        done = who.post(
            f"/api/v1/changes/{cid}/actions/{task['id']}/completion",
            json={"evidence": "Done, see attached records."},
        )
        assert done.status_code == 200, done.text
    assert done.json()["completion_evidence"] == (
        f"production_operator trained: {requirement['number']}"
    )
    assert take(rd, "change_request", cid, "complete_implementation")["status"] == (
        "effectiveness_review"
    )
    reviewed = qa.post(
        f"/api/v1/changes/{cid}/effectiveness-review",
        json={"effective": True, "summary": "No punch failure in 3 months; counts recorded."},
    )
    assert reviewed.status_code == 200, reviewed.text
    closed = sign(qa, "change_request", cid, "close")
    assert closed["status"] == "closed"


def test_the_requester_signs_for_no_function(api: Any, db: Any) -> None:
    change, _qa = change_in_approval(db, api, ["quality_assurance", "development"])
    rd = api("rd")
    before = counts(db)

    response = decide(rd, change["id"], "development")

    body = problem(response, 403, "segregation_of_duties")
    assert body["detail"] == (
        "who requested CC-2026-0001 may not approve or reject it for any function"
    )
    assert counts(db) == before


def test_a_function_is_signed_only_by_its_role(api: Any, db: Any) -> None:
    change, _qa = change_in_approval(db, api, ["quality_assurance", "production"])
    qc = api("qc")
    before = counts(db)

    response = decide(qc, change["id"], "production")

    body = problem(response, 403, "permission_denied")
    assert body["detail"] == (
        "signing for production needs the role production_supervisor; qc holds qc_analyst"
    )
    assert counts(db) == before


def test_a_function_not_impacted_is_not_asked(api: Any, db: Any) -> None:
    change, qa = change_in_approval(db, api, ["quality_assurance"])
    qp = api("qp")
    before = counts(db)

    response = decide(qp, change["id"], "qualified_person")

    body = problem(response, 422, "invalid_input")
    assert body["field"] == "function"
    assert counts(db) == before
    assert qa.get(f"/api/v1/changes/{change['id']}").json()["status"] == "approval"


def test_approval_without_the_password_is_refused(api: Any, db: Any) -> None:
    change, _qa = change_in_approval(db, api, ["quality_assurance"])
    qa2 = api("qa2")
    before = counts(db)

    response = decide(qa2, change["id"], "quality_assurance", password=None)

    assert problem(response, 422, "invalid_input")["field"] == "password"
    assert counts(db) == before


def test_an_incomplete_impact_assessment_is_not_submitted(api: Any, db: Any) -> None:
    rd, qa = api("rd"), api("qa")
    change = requested_change(rd)
    cid = change["id"]
    take(rd, "change_request", cid, "submit")
    partial = assessment(["quality_assurance"])
    partial["impacts"] = partial["impacts"][:4]
    qa.post(f"/api/v1/changes/{cid}/impact-assessment", json=partial)
    before = counts(db)

    response = qa.post(
        f"/api/v1/records/change_request/{cid}/transitions/submit_for_approval", json={}
    )

    body = problem(response, 409, "transition_not_allowed")
    assert body["reasons"] == ["the impact on regulatory_filing, training is not assessed"]
    assert counts(db) == before


@pytest.mark.clause("annex11:10")
def test_quality_assurance_approves_every_change(api: Any, db: Any) -> None:
    rd, qa = api("rd"), api("qa")
    change = requested_change(rd)
    take(rd, "change_request", change["id"], "submit")
    before = counts(db)

    response = qa.post(
        f"/api/v1/changes/{change['id']}/impact-assessment", json=assessment(["production"])
    )

    body = problem(response, 422, "invalid_input")
    assert (body["field"], body["detail"]) == (
        "functions",
        "quality assurance approves every change",
    )
    assert counts(db) == before


def test_a_rejection_by_a_function_ends_the_change_with_a_signature(api: Any, db: Any) -> None:
    change, _qa = change_in_approval(db, api, ["quality_assurance", "production"])
    supervisor = api("supervisor")

    response = decide(
        supervisor,
        change["id"],
        "production",
        approve=False,
        comment="The counter needs a validated interface first.",
    )

    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["status"] == "rejected"
    assert [(s["meaning"], s["signer_username"]) for s in shown["signatures"]] == [
        ("Rejected", "supervisor")
    ]
    assert [(a["function"], a["decision"]) for a in shown["approvals"]] == [
        ("production", "rejected")
    ]


def test_a_revise_document_task_needs_a_document(api: Any, db: Any) -> None:
    rd, qa = api("rd"), api("qa")
    change = requested_change(rd)
    take(rd, "change_request", change["id"], "submit")
    before = counts(db)

    response = qa.post(
        f"/api/v1/changes/{change['id']}/actions",
        json={
            "kind": "revise_document",
            "description": "Revise the SOP",
            "owner_id": user_id(db, "qc"),
            "due_at": days_ahead(10),
        },
    )

    assert problem(response, 422, "invalid_input")["field"] == "document_id"
    assert counts(db) == before


def test_a_change_raised_from_a_capa_shows_on_both(api: Any, db: Any) -> None:
    qa = api("qa")
    capa = qa.post(
        "/api/v1/capas",
        json={
            "title": "Punch life",
            "problem_statement": "Punches fail.",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(30),
        },
    ).json()

    change = requested_change(qa, source={"source_type": "capa", "source_id": capa["id"]})

    assert [link["label"] for link in change["links"]["raised_from"]] == ["CAPA-2026-0001"]
    led_to = qa.get(f"/api/v1/capas/{capa['id']}").json()["links"]["led_to"]
    assert [(link["record_type"], link["label"]) for link in led_to] == [
        ("change_request", "CC-2026-0001")
    ]
    listed = qa.get("/api/v1/changes", params={"status": "draft", "limit": 1}).json()
    assert (listed["total"], [c["number"] for c in listed["items"]]) == (1, ["CC-2026-0001"])


def test_a_function_the_change_does_not_impact_may_not_reject_it(api: Any, db: Any) -> None:
    change, qa = change_in_approval(db, api, ["quality_assurance", "production"])
    pv = api("pv")
    before = counts(db)

    response = pv.post(
        f"/api/v1/records/change_request/{change['id']}/transitions/reject",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(pv, "change_request", change["id"]),
            "reason": "not convinced",
        },
    )

    body = problem(response, 403, "permission_denied")
    assert body["reasons"] == [
        "only the functions CC-2026-0001 impacts decide on it (quality assurance, production)"
    ]
    assert counts(db) == before
    assert qa.get(f"/api/v1/changes/{change['id']}").json()["status"] == "approval"


# --- segregation of duties: who carries a change out does not judge it --------------------------


def implemented_change(db: Any, api: Any, *, owner: str, task_owner: str) -> dict[str, Any]:
    """A change requested by R&D, owned by ``owner``, assessed by qa, approved by a third QA
    person (qa3), its one task done by ``task_owner``: waiting for its effectiveness review."""
    add_person(db, "qa3", "Quinn Third", ["qa"])
    rd, qa = api("rd"), api("qa")
    cid = requested_change(rd, owner_id=user_id(db, owner))["id"]
    take(rd, "change_request", cid, "submit")
    assert (
        qa.post(
            f"/api/v1/changes/{cid}/impact-assessment", json=assessment(["quality_assurance"])
        ).status_code
        == 200
    )
    task = qa.post(
        f"/api/v1/changes/{cid}/actions",
        json={
            "kind": "other",
            "description": "Fit the stroke counter",
            "owner_id": user_id(db, task_owner),
            "due_at": days_ahead(20),
        },
    ).json()
    take(qa, "change_request", cid, "submit_for_approval")
    assert decide(api("qa3"), cid, "quality_assurance").status_code == 200
    done = api(task_owner).post(
        f"/api/v1/changes/{cid}/actions/{task['id']}/completion", json={"evidence": "Fitted."}
    )
    assert done.status_code == 200, done.text
    return take(rd, "change_request", cid, "complete_implementation")


def review(client: Any, cid: int) -> Any:
    return client.post(
        f"/api/v1/changes/{cid}/effectiveness-review",
        json={"effective": True, "summary": "No punch failure in 3 months."},
    )


def test_the_owner_signs_for_no_function(api: Any, db: Any) -> None:
    rd, qa = api("rd"), api("qa")
    cid = requested_change(rd, owner_id=user_id(db, "qa2"))["id"]
    take(rd, "change_request", cid, "submit")
    qa.post(f"/api/v1/changes/{cid}/impact-assessment", json=assessment(["quality_assurance"]))
    qa.post(
        f"/api/v1/changes/{cid}/actions",
        json={
            "kind": "other",
            "description": "Fit the counter",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(20),
        },
    )
    take(qa, "change_request", cid, "submit_for_approval")
    owner = api("qa2")
    before = counts(db)

    response = decide(owner, cid, "quality_assurance")

    body = problem(response, 403, "segregation_of_duties")
    assert body["detail"] == (
        "the owner of CC-2026-0001 carries it out and may not approve or reject it for any function"
    )
    assert counts(db) == before
    assert qa.get(f"/api/v1/changes/{cid}").json()["status"] == "approval"


def test_nobody_signs_for_two_functions_of_one_change(api: Any, db: Any) -> None:
    add_person(db, "dual", "Dana Dual", ["qa", "qualified_person"])
    change, qa = change_in_approval(db, api, ["quality_assurance", "qualified_person"])
    dual = api("dual")
    assert decide(dual, change["id"], "quality_assurance").status_code == 200
    before = counts(db)

    response = decide(dual, change["id"], "qualified_person")

    body = problem(response, 403, "segregation_of_duties")
    assert body["detail"] == (
        "Dana Dual already signed CC-2026-0001 for quality assurance: nobody signs for two "
        "functions of the same change"
    )
    assert counts(db) == before
    shown = qa.get(f"/api/v1/changes/{change['id']}").json()
    assert (shown["status"], shown["functions_waiting"]) == ("approval", ["qualified_person"])


def test_the_owner_neither_reviews_nor_closes_their_change(api: Any, db: Any) -> None:
    change = implemented_change(db, api, owner="qa2", task_owner="supervisor")
    cid, qa2, qa3 = change["id"], api("qa2"), api("qa3")
    before = counts(db)

    refused_review = review(qa2, cid)
    assert problem(refused_review, 403, "segregation_of_duties")["detail"] == (
        "the owner of CC-2026-0001 may not judge whether it worked"
    )
    assert counts(db) == before

    assert review(qa3, cid).status_code == 200
    reviewed = qa3.get(f"/api/v1/changes/{cid}").json()
    before = counts(db)
    refused_close = qa2.post(
        f"/api/v1/records/change_request/{cid}/transitions/close",
        json={"password": PASSWORD, "expected_version": reviewed["version"]},
    )
    assert (
        "the owner of CC-2026-0001 may not 'Close' it"
        in (problem(refused_close, 403, "segregation_of_duties")["reasons"])
    )
    assert counts(db) == before
    closed = sign(qa3, "change_request", cid, "close", expected_version=reviewed["version"])
    assert closed["status"] == "closed"


def test_who_carried_out_a_task_neither_reviews_nor_closes_the_change(api: Any, db: Any) -> None:
    change = implemented_change(db, api, owner="rd", task_owner="qa2")
    cid, qa2, qa3 = change["id"], api("qa2"), api("qa3")
    before = counts(db)

    refused_review = review(qa2, cid)
    assert problem(refused_review, 403, "segregation_of_duties")["detail"] == (
        "the implementer of CC-2026-0001 may not judge whether it worked"
    )
    assert counts(db) == before

    assert review(qa3, cid).status_code == 200
    reviewed = qa3.get(f"/api/v1/changes/{cid}").json()
    before = counts(db)
    refused_close = qa2.post(
        f"/api/v1/records/change_request/{cid}/transitions/close",
        json={"password": PASSWORD, "expected_version": reviewed["version"]},
    )
    assert problem(refused_close, 403, "permission_denied")["reasons"] == [
        "the implementer of CC-2026-0001 may not judge whether it worked"
    ]
    assert counts(db) == before
    closed = sign(qa3, "change_request", cid, "close", expected_version=reviewed["version"])
    assert closed["status"] == "closed"


def test_an_approver_untrained_on_the_governing_sop_signs_for_no_function(
    api: Any, db: Any
) -> None:
    change, qa = change_in_approval(db, api, ["quality_assurance", "production"])
    sop = effective_sop(api("qc"), qa)
    number = sop["number"].split(" ")[0]
    rule = qa.post(
        "/api/v1/training/governing",
        json={
            "record_type": "change_request",
            "transition": "approve",
            "document_id": sop["document_id"],
            "reason": "approvers follow the change control SOP",
        },
    )
    assert rule.status_code == 201, rule.text
    qa2 = api("qa2")
    before = counts(db)

    # when the first of two functions signs: not the last approval, so no workflow transition
    response = decide(qa2, change["id"], "quality_assurance")

    body = problem(response, 403, "training_missing")
    assert body["detail"] == (
        f"Rosa Reviewer (qa2) is not trained for this step: {number} Tooling management: "
        "never trained"
    )
    assert body["missing_training"] == [
        {"document": number, "standing": "missing", "requirement": None, "due_at": None}
    ]
    assert counts(db) == before
    shown = qa.get(f"/api/v1/changes/{change['id']}").json()
    assert (shown["status"], shown["functions_waiting"], shown["approvals"]) == (
        "approval",
        ["quality_assurance", "production"],
        [],
    )
