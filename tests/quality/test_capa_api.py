"""CAPA through the API: plan, approval, actions, effectiveness check and closure, the
register and the on-time rate — and every refusal with its reason and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from tests.quality.document_steps import effective_document
from tests.quality.quality_steps import (
    counts,
    days_ahead,
    investigated_deviation,
    problem,
    sign,
    take,
    user_id,
)
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel import clock


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database must be made on real time (see test_deviations_api)."""


def new_capa(client: Any, db: Any, owner: str = "supervisor", **overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Track punch life on all presses",
        "problem_statement": "Punches are used beyond their qualified life of 5 M compressions.",
        "owner_id": user_id(db, owner),
        "due_at": days_ahead(60),
        **overrides,
    }
    response = client.post("/api/v1/capas", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def planned_capa(
    author: Any, owner_client: Any, db: Any, *, owner: str = "supervisor", required: bool = True
) -> dict[str, Any]:
    """A CAPA with a corrective and a preventive action and its effectiveness plan."""
    capa = new_capa(author, db, owner=owner)
    cid = capa["id"]
    for kind, text, days in (
        ("corrective", "Replace all punches older than 4 M compressions", 20),
        ("preventive", "Add a compression counter to the tooling log", 40),
    ):
        response = owner_client.post(
            f"/api/v1/capas/{cid}/actions",
            json={
                "kind": kind,
                "description": text,
                "owner_id": user_id(db, owner),
                "due_at": days_ahead(days),
            },
        )
        assert response.status_code == 201, response.text
    plan: dict[str, Any] = (
        {
            "required": True,
            "criteria": "No punch failure in the next 50 batches",
            "due_at": days_ahead(50),
        }
        if required
        else {"required": False, "justification": "A one-off tooling defect, replaced."}
    )
    response = owner_client.post(f"/api/v1/capas/{cid}/effectiveness-plan", json=plan)
    assert response.status_code == 200, response.text
    return dict(response.json())


def implemented_capa(db: Any, qa: Any, owner: Any) -> dict[str, Any]:
    """A CAPA whose plan QA approved and whose actions the owner completed."""
    capa = planned_capa(qa, owner, db)
    cid = capa["id"]
    take(owner, "capa", cid, "submit_plan")
    sign(qa, "capa", cid, "approve_plan")
    for action in capa["actions"]:
        done = owner.post(
            f"/api/v1/capas/{cid}/actions/{action['id']}/completion",
            json={"evidence": "Done; see tooling log TL-2026-14."},
        )
        assert done.status_code == 200, done.text
    return dict(qa.get(f"/api/v1/capas/{cid}").json())


@pytest.mark.postgres
def test_a_capa_from_a_deviation_closes_after_a_passed_effectiveness_check(
    api: Any, db: Any
) -> None:
    qa, qa2, qc, supervisor = api("qa"), api("qa2"), api("qc"), api("supervisor")
    deviation = investigated_deviation(db, api("operator"), qa, qc, "qc")

    # given QA raises a CAPA from the deviation, owned by the production supervisor
    capa = new_capa(
        qa,
        db,
        source={
            "source_type": "deviation",
            "source_id": deviation["id"],
            "reason": "recurring tooling failures",
        },
    )
    cid = capa["id"]
    assert (capa["number"], capa["status"]) == ("CAPA-2026-0001", "draft")
    assert [(link["label"], link["reason"]) for link in capa["links"]["raised_from"]] == [
        ("DEV-2026-0001", "recurring tooling failures")
    ]

    # and the owner plans two actions and an effectiveness check, QA approves the plan (signed)
    for kind, text in (("corrective", "Replace worn punches"), ("preventive", "Count strokes")):
        supervisor.post(
            f"/api/v1/capas/{cid}/actions",
            json={
                "kind": kind,
                "description": text,
                "owner_id": user_id(db, "supervisor"),
                "due_at": days_ahead(30),
            },
        )
    supervisor.post(
        f"/api/v1/capas/{cid}/effectiveness-plan",
        json={"required": True, "criteria": "No failure in 50 batches", "due_at": days_ahead(50)},
    )
    assert take(supervisor, "capa", cid, "submit_plan")["status"] == "plan_approval"
    assert sign(qa2, "capa", cid, "approve_plan")["status"] == "implementation"
    action_tasks = sorted(t["title"] for t in supervisor.get("/api/v1/tasks").json())
    assert action_tasks == [
        "CAPA-2026-0001: corrective action — Replace worn punches",
        "CAPA-2026-0001: preventive action — Count strokes",
    ]

    # when the owner completes both actions and QA finds the check passed (signed "Verified")
    for action in qa.get(f"/api/v1/capas/{cid}").json()["actions"]:
        supervisor.post(
            f"/api/v1/capas/{cid}/actions/{action['id']}/completion",
            json={"evidence": "Implemented and verified on the floor."},
        )
    assert take(supervisor, "capa", cid, "start_effectiveness_check")["status"] == (
        "effectiveness_check"
    )
    verified = qa.post(
        f"/api/v1/capas/{cid}/effectiveness-result",
        json={
            "passed": True,
            "evidence": "50 batches without failure.",
            "password": PASSWORD,
            "early_reason": "the 50 batches were made sooner than planned",
        },
    )
    assert verified.status_code == 200, verified.text
    assert [c["status"] for c in verified.json()["checks"]] == ["passed"]

    # then QA closes it with a signature, and both records show the loop
    closed = sign(qa, "capa", cid, "close")
    assert closed["status"] == "closed"
    shown = qa.get(f"/api/v1/capas/{cid}").json()
    assert [(s["meaning"], s["signer_username"]) for s in shown["signatures"]] == [
        ("Approved", "qa2"),
        ("Verified", "qa"),
        ("Closed", "qa"),
    ]
    assert all(s["valid_for_current_content"] for s in shown["signatures"])
    assert shown["closed_at"] is not None
    led_to = qa.get(f"/api/v1/deviations/{deviation['id']}").json()["links"]["led_to"]
    assert [(link["label"], link["status"]) for link in led_to] == [("CAPA-2026-0001", "closed")]


def test_closing_without_a_passed_effectiveness_check_is_refused(api: Any, db: Any) -> None:
    qa, supervisor = api("qa"), api("supervisor")
    capa = implemented_capa(db, qa, supervisor)
    take(supervisor, "capa", capa["id"], "start_effectiveness_check")
    before = counts(db)

    response = qa.post(
        f"/api/v1/records/capa/{capa['id']}/transitions/close",
        json={"password": PASSWORD, "expected_version": reviewed_version(qa, "capa", capa["id"])},
    )

    body = problem(response, 409, "transition_not_allowed")
    assert body["reasons"] == ["the effectiveness check has not passed yet: no result is recorded"]
    assert counts(db) == before
    assert qa.get(f"/api/v1/capas/{capa['id']}").json()["status"] == "effectiveness_check"


def test_closing_straight_from_implementation_needs_the_check_when_one_is_required(
    api: Any, db: Any
) -> None:
    qa, supervisor = api("qa"), api("supervisor")
    capa = implemented_capa(db, qa, supervisor)
    before = counts(db)

    response = qa.post(
        f"/api/v1/records/capa/{capa['id']}/transitions/close",
        json={"password": PASSWORD, "expected_version": reviewed_version(qa, "capa", capa["id"])},
    )

    body = problem(response, 409, "transition_not_allowed")
    assert body["reasons"] == ["the effectiveness check has not passed yet: no result is recorded"]
    assert counts(db) == before


def test_a_failed_check_reopens_the_actions_and_plans_the_next_check(api: Any, db: Any) -> None:
    qa, supervisor = api("qa"), api("supervisor")
    capa = implemented_capa(db, qa, supervisor)
    cid = capa["id"]
    take(supervisor, "capa", cid, "start_effectiveness_check")
    [corrective, _preventive] = capa["actions"]
    actions_due, next_check = days_ahead(30), days_ahead(100)

    failed = qa.post(
        f"/api/v1/capas/{cid}/effectiveness-result",
        json={
            "passed": False,
            "evidence": "Punch broke again in batch L2405-020.",
            "password": PASSWORD,
            "reopen_action_ids": [corrective["id"]],
            "actions_due_at": actions_due,
            "next_check_due_at": next_check,
            "early_reason": "a punch broke before the review period ended",
        },
    )

    assert failed.status_code == 200, failed.text
    shown = failed.json()
    assert shown["status"] == "implementation"
    assert [(a["status"], a["times_reopened"]) for a in shown["actions"]] == [
        ("open", 1),
        ("done", 0),
    ]
    assert shown["actions"][0]["due_at"] == actions_due.replace("+00:00", "Z")
    assert [(c["status"], c["criteria"]) for c in shown["checks"]] == [
        ("failed", "No punch failure in the next 50 batches"),
        ("planned", "No punch failure in the next 50 batches"),
    ]
    assert [t["title"] for t in supervisor.get("/api/v1/tasks").json()] == [
        "CAPA-2026-0001: corrective action — Replace all punches older than 4 M compressions"
    ]
    trail = qa.get(f"/api/v1/records/capa/{cid}/audit").json()["items"]
    assert trail[0]["action"] == "transition:reopen"
    assert trail[0]["reason"] == "effectiveness check failed: Punch broke again in batch L2405-020."

    # and closure stays refused until a later check passes
    refused = qa.post(
        f"/api/v1/records/capa/{cid}/transitions/close",
        json={"password": PASSWORD, "expected_version": reviewed_version(qa, "capa", cid)},
    )
    assert problem(refused, 409, "transition_not_allowed")["reasons"] == [
        "the corrective action #1 (Replace all punches older than 4 M compressions) is not done",
        "the effectiveness check has not passed yet: the last check failed",
    ]


def test_the_owner_may_not_approve_their_own_capa_plan(api: Any, db: Any) -> None:
    qa = api("qa")
    capa = planned_capa(api("qa2"), qa, db, owner="qa")
    take(qa, "capa", capa["id"], "submit_plan")
    before = counts(db)

    response = qa.post(
        f"/api/v1/records/capa/{capa['id']}/transitions/approve_plan",
        json={"password": PASSWORD, "expected_version": reviewed_version(qa, "capa", capa["id"])},
    )

    body = problem(response, 403, "segregation_of_duties")
    assert body["reasons"] == ["the owner of CAPA-2026-0001 may not 'Approve plan' it"]
    assert counts(db) == before
    assert qa.get(f"/api/v1/capas/{capa['id']}").json()["status"] == "plan_approval"


def test_the_owner_may_not_verify_the_effectiveness_of_their_own_capa(api: Any, db: Any) -> None:
    qa, qa2 = api("qa"), api("qa2")
    capa = planned_capa(qa2, qa, db, owner="qa")
    cid = capa["id"]
    take(qa, "capa", cid, "submit_plan")
    sign(qa2, "capa", cid, "approve_plan")
    for action in capa["actions"]:
        qa.post(f"/api/v1/capas/{cid}/actions/{action['id']}/completion", json={"evidence": "ok"})
    take(qa, "capa", cid, "start_effectiveness_check")
    before = counts(db)

    response = qa.post(
        f"/api/v1/capas/{cid}/effectiveness-result",
        json={"passed": True, "evidence": "fine", "password": PASSWORD},
    )

    body = problem(response, 403, "segregation_of_duties")
    assert body["detail"] == (
        "the owner of CAPA-2026-0001 may not verify the effectiveness of their own CAPA"
    )
    assert counts(db) == before


def test_a_verifier_untrained_on_the_governing_sop_may_not_sign_the_result(
    api: Any, db: Any, frozen_clock: clock.FrozenClock
) -> None:
    qa, supervisor = api("qa"), api("supervisor")
    capa = implemented_capa(db, qa, supervisor)
    cid = capa["id"]
    take(supervisor, "capa", cid, "start_effectiveness_check")
    sop = effective_document(api("qc"), qa, "Verification of CAPA effectiveness")
    rule = qa.post(
        "/api/v1/training/governing",
        json={
            "record_type": "capa",
            "transition": "verify_effectiveness",
            "document_id": sop["id"],
            "reason": "verifiers follow the CAPA SOP",
        },
    )
    assert rule.status_code == 201, rule.text
    frozen_clock.advance(days=51)  # the check is due: only the training stands in the way
    qa, qa2 = api("qa"), api("qa2")  # logged in anew: the earlier tokens have expired
    before = counts(db)

    response = qa2.post(
        f"/api/v1/capas/{cid}/effectiveness-result",
        json={"passed": True, "evidence": "50 batches without failure.", "password": PASSWORD},
    )

    body = problem(response, 403, "training_missing")
    assert body["detail"] == (
        f"Rosa Reviewer (qa2) is not trained for this step: {sop['number']} Verification of "
        "CAPA effectiveness: never trained"
    )
    assert counts(db) == before
    shown = qa.get(f"/api/v1/capas/{cid}").json()
    assert (shown["status"], [c["status"] for c in shown["checks"]]) == (
        "effectiveness_check",
        ["planned"],
    )
    assert shown["signatures"] == [s for s in shown["signatures"] if s["meaning"] != "Verified"]


def test_a_check_judged_before_its_due_date_needs_the_reason_recorded(
    api: Any, db: Any, frozen_clock: clock.FrozenClock
) -> None:
    qa, supervisor = api("qa"), api("supervisor")
    capa = implemented_capa(db, qa, supervisor)  # its check is due in 50 days
    cid = capa["id"]
    take(supervisor, "capa", cid, "start_effectiveness_check")
    frozen_clock.advance(days=20)
    qa = api("qa")
    result = {"passed": True, "evidence": "No failure in 20 batches.", "password": PASSWORD}
    before = counts(db)

    # when QA passes the check 30 days before its due date without saying why
    refused = qa.post(f"/api/v1/capas/{cid}/effectiveness-result", json=result)

    # then it is refused, naming the due date, and nothing changed
    body = problem(refused, 422, "reason_required")
    assert (body["field"], body["detail"]) == (
        "early_reason",
        "the effectiveness check is due 2026-04-21, 30 days from now: give the reason for "
        "judging it early",
    )
    assert counts(db) == before
    shown = qa.get(f"/api/v1/capas/{cid}").json()
    assert [c["status"] for c in shown["checks"]] == ["planned"]

    # and with the reason it is signed, the reason recorded in the audit trail
    early = {**result, "early_reason": "the press is retired next month"}
    assert qa.post(f"/api/v1/capas/{cid}/effectiveness-result", json=early).status_code == 200
    trail = qa.get(f"/api/v1/records/capa/{cid}/audit").json()["items"]
    assert (trail[0]["action"], trail[0]["reason"]) == (
        "sign",
        "effectiveness check passed: No failure in 20 batches. — judged 30 days before its due "
        "date 2026-04-21: the press is retired next month",
    )


def test_a_plan_without_actions_or_effectiveness_decision_is_not_submitted(
    api: Any, db: Any
) -> None:
    supervisor = api("supervisor")
    capa = new_capa(api("qa"), db)
    before = counts(db)

    response = supervisor.post(
        f"/api/v1/records/capa/{capa['id']}/transitions/submit_plan", json={}
    )

    body = problem(response, 409, "transition_not_allowed")
    assert body["reasons"] == [
        "the CAPA has no corrective or preventive action",
        "decide whether an effectiveness check is required (or justify why it is not)",
    ]
    assert counts(db) == before


def test_a_capa_justified_without_a_check_closes_from_implementation(api: Any, db: Any) -> None:
    qa, supervisor = api("qa"), api("supervisor")
    capa = planned_capa(qa, supervisor, db, required=False)
    cid = capa["id"]
    take(supervisor, "capa", cid, "submit_plan")
    sign(qa, "capa", cid, "approve_plan")
    refused = supervisor.post(
        f"/api/v1/records/capa/{cid}/transitions/start_effectiveness_check", json={}
    )
    assert problem(refused, 409, "transition_not_allowed")["reasons"] == [
        "the corrective action #1 (Replace all punches older than 4 M compressions) is not done",
        "the preventive action #2 (Add a compression counter to the tooling log) is not done",
        "no effectiveness check is required for this CAPA: close it directly",
    ]
    for action in capa["actions"]:
        supervisor.post(
            f"/api/v1/capas/{cid}/actions/{action['id']}/completion", json={"evidence": "done"}
        )

    closed = sign(qa, "capa", cid, "close")

    assert closed["status"] == "closed"


def test_a_missing_owner_and_a_past_due_date_are_refused(api: Any, db: Any) -> None:
    qa = api("qa")
    before = counts(db)

    missing = qa.post(
        "/api/v1/capas",
        json={"title": "x", "problem_statement": "y", "due_at": days_ahead(10)},
    )
    assert problem(missing, 422, "invalid_input")["field"] == "owner_id"
    past = qa.post(
        "/api/v1/capas",
        json={
            "title": "x",
            "problem_statement": "y",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(-1),
        },
    )
    body = problem(past, 422, "invalid_input")
    assert body["field"] == "due_at"
    assert "must lie in the future" in body["detail"]
    operator_owner = qa.post(
        "/api/v1/capas",
        json={
            "title": "x",
            "problem_statement": "y",
            "owner_id": user_id(db, "operator"),
            "due_at": days_ahead(10),
        },
    )
    assert problem(operator_owner, 422, "invalid_input")["field"] == "owner_id"
    assert counts(db) == before


def test_the_register_counts_open_overdue_and_due_this_week(
    api: Any, db: Any, frozen_clock: clock.FrozenClock
) -> None:
    qa = api("qa")
    new_capa(qa, db, title="Due in five days", due_at=days_ahead(5))
    new_capa(qa, db, title="Due in twenty days", due_at=days_ahead(20))
    new_capa(qa, db, title="Due in ten days", due_at=days_ahead(10))

    frozen_clock.advance(days=7)
    qa = api("qa")

    assert qa.get("/api/v1/capas/register").json() == {
        "open": 3,
        "overdue": 1,
        "due_this_week": 1,
        "overdue_actions": 0,
    }
    overdue = qa.get("/api/v1/capas", params={"overdue": True}).json()["items"]
    assert [(c["title"], c["overdue"]) for c in overdue] == [("Due in five days", True)]
    this_week = qa.get("/api/v1/capas", params={"due_this_week": True}).json()["items"]
    assert [(c["title"], c["due_this_week"]) for c in this_week] == [("Due in ten days", True)]


def test_the_on_time_rate_counts_closures_by_their_due_date_per_month(
    api: Any, db: Any, frozen_clock: clock.FrozenClock
) -> None:
    qa, qa2 = api("qa"), api("qa2")
    on_time = planned_capa(qa, qa2, db, owner="qa2", required=False)
    late = planned_capa(qa, qa2, db, owner="qa2", required=False)
    for capa in (on_time, late):
        take(qa2, "capa", capa["id"], "submit_plan")
        sign(qa, "capa", capa["id"], "approve_plan")
        for action in capa["actions"]:
            qa2.post(
                f"/api/v1/capas/{capa['id']}/actions/{action['id']}/completion",
                json={"evidence": "done"},
            )
    sign(qa, "capa", on_time["id"], "close")

    frozen_clock.advance(days=61)  # past the 60-day due date, into May
    qa = api("qa")
    sign(qa, "capa", late["id"], "close")

    rate = qa.get("/api/v1/capas/on-time-rate", params={"months": 3}).json()
    assert rate == {
        "months": ["2026-03", "2026-04", "2026-05"],
        "closed": [1, 0, 1],
        "on_time": [1, 0, 0],
        "rate": [1.0, None, 0.0],
    }


def test_an_effectiveness_check_may_be_due_months_after_the_capa(
    api: Any, db: Any, frozen_clock: clock.FrozenClock
) -> None:
    """Its due date covers the actions; the check, judged on months of evidence, sets when
    the CAPA is due to close, so the CAPA is not overdue while it waits for it."""
    qa, supervisor = api("qa"), api("supervisor")
    capa = new_capa(qa, db, due_at=days_ahead(60))
    supervisor.post(
        f"/api/v1/capas/{capa['id']}/actions",
        json={
            "kind": "corrective",
            "description": "Replace worn punches",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(30),
        },
    )

    response = supervisor.post(
        f"/api/v1/capas/{capa['id']}/effectiveness-plan",
        json={"required": True, "criteria": "No recurrence in 6 months", "due_at": days_ahead(180)},
    )

    assert response.status_code == 200, response.text
    [check] = response.json()["checks"]
    assert check["due_at"].startswith(days_ahead(180)[:10])
    frozen_clock.advance(days=61)  # past the CAPA's own due date, before the check's
    qa = api("qa")  # a fresh session: the morning's token has expired
    shown = qa.get(f"/api/v1/capas/{capa['id']}").json()
    assert shown["overdue"] is False
    overdue = qa.get("/api/v1/capas", params={"overdue": "true"}).json()
    assert capa["id"] not in [c["id"] for c in overdue["items"]]
    frozen_clock.advance(days=120)  # now the check is late too
    qa = api("qa")
    assert qa.get(f"/api/v1/capas/{capa['id']}").json()["overdue"] is True
    overdue = qa.get("/api/v1/capas", params={"overdue": "true"}).json()
    assert capa["id"] in [c["id"] for c in overdue["items"]]


def test_an_effectiveness_check_due_before_the_actions_it_judges_is_refused(
    api: Any, db: Any
) -> None:
    qa, supervisor = api("qa"), api("supervisor")
    capa = new_capa(qa, db, due_at=days_ahead(60))
    supervisor.post(
        f"/api/v1/capas/{capa['id']}/actions",
        json={
            "kind": "corrective",
            "description": "Replace worn punches",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(40),
        },
    )
    before = counts(db)

    response = supervisor.post(
        f"/api/v1/capas/{capa['id']}/effectiveness-plan",
        json={"required": True, "criteria": "No recurrence", "due_at": days_ahead(20)},
    )

    body = problem(response, 422, "invalid_input")
    assert body["field"] == "due_at"
    assert body["detail"].startswith("the effectiveness check can't be due before the actions")
    assert counts(db) == before
