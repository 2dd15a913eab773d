"""CAPA actions fulfilled by records: "revise SOP-…" is done when a version of the SOP comes
into force, "retrain …" when everyone in the job role signed read and understood on it. Done
by hand before the record exists is refused and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from tests.quality.document_steps import bring_revision_into_force, effective_document
from tests.quality.quality_steps import counts, days_ahead, problem, sign, take, user_id
from tests.quality.test_training_api import operator_role
from tests.support import PASSWORD

from pharmaqms.kernel import clock


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database must be made on real time (see test_deviations_api)."""


def capa_with(qa: Any, owner: Any, db: Any, **link: Any) -> tuple[dict[str, Any], int]:
    """A CAPA in implementation whose one action is fulfilled by a record."""
    capa = qa.post(
        "/api/v1/capas",
        json={
            "title": "Punch inspection is missed",
            "problem_statement": "The cleaning SOP does not ask for the punch inspection.",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(60),
        },
    ).json()
    action = owner.post(
        f"/api/v1/capas/{capa['id']}/actions",
        json={
            "kind": "corrective",
            "description": "Revise the cleaning SOP / retrain the operators",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(30),
            **link,
        },
    )
    assert action.status_code == 201, action.text
    owner.post(
        f"/api/v1/capas/{capa['id']}/effectiveness-plan",
        json={"required": False, "justification": "the revised SOP is the control"},
    )
    take(owner, "capa", capa["id"], "submit_plan")
    sign(qa, "capa", capa["id"], "approve_plan")
    return capa, int(action.json()["id"])


def action_of(client: Any, capa_id: int, action_id: int) -> dict[str, Any]:
    capa = client.get(f"/api/v1/capas/{capa_id}").json()
    return next(a for a in capa["actions"] if a["id"] == action_id)


def test_revise_sop_completes_when_a_revision_comes_into_force(
    api: Any, db: Any, frozen_clock: clock.FrozenClock
) -> None:
    qa, supervisor, qc = api("qa"), api("supervisor"), api("qc")
    sop = effective_document(qc, qa, "Cleaning of the tablet press")
    capa, action_id = capa_with(qa, supervisor, db, document_id=sop["id"])
    before = counts(db)

    early = supervisor.post(
        f"/api/v1/capas/{capa['id']}/actions/{action_id}/completion",
        json={"evidence": "SOP revised, trust me"},
    )

    body = problem(early, 409, "conflict")
    assert body["reasons"] == [
        f"{sop['number']} has no version made effective since the action was planned"
    ]
    assert counts(db) == before

    frozen_clock.advance(minutes=10)
    version = bring_revision_into_force(qc, qa, sop["id"], "punch inspection added")

    done = action_of(qa, capa["id"], action_id)
    assert done["status"] == "done"
    assert done["completion_evidence"].startswith(f"{version['number']} in force since ")
    assert done["document_id"] == sop["id"]


def test_retrain_completes_when_every_holder_of_the_job_role_signed(
    api: Any, db: Any, frozen_clock: clock.FrozenClock
) -> None:
    qa, supervisor, qc, operator = api("qa"), api("supervisor"), api("qc"), api("operator")
    sop = effective_document(qc, qa, "Cleaning of the tablet press")
    role = operator_role(qa, sop["id"])
    qa.post(
        f"/api/v1/training/job-roles/{role['id']}/holders",
        json={"user_id": user_id(db, "operator")},
    )
    capa, action_id = capa_with(qa, supervisor, db, document_id=sop["id"], job_role_id=role["id"])
    frozen_clock.advance(minutes=10)
    bring_revision_into_force(qc, qa, sop["id"], "punch inspection added")
    # The revision is in force but the operator has not been retrained yet.
    assert action_of(qa, capa["id"], action_id)["status"] == "open"
    before = counts(db)
    refused = supervisor.post(f"/api/v1/capas/{capa['id']}/actions/{action_id}/completion", json={})
    assert problem(refused, 409, "conflict")["reasons"] == [
        f"not yet trained on {sop['number']} v1.1: Otto Operator"
    ]
    assert counts(db) == before

    [requirement] = [
        r for r in operator.get("/api/v1/training/my").json() if r["version_number"].endswith("1.1")
    ]
    operator.post(f"/api/v1/training/requirements/{requirement['id']}/open")
    frozen_clock.advance(hours=2)
    signed = operator.post(
        f"/api/v1/training/requirements/{requirement['id']}/complete", json={"password": PASSWORD}
    )
    assert signed.status_code == 200, signed.text

    done = action_of(qa, capa["id"], action_id)
    assert done["status"] == "done"
    assert done["completion_evidence"] == (
        f"Tablet press operator trained on {sop['number']} v1.1 ({requirement['number']})"
    )


def test_an_action_naming_what_does_not_exist_is_refused(api: Any, db: Any) -> None:
    qa = api("qa")
    capa = qa.post(
        "/api/v1/capas",
        json={
            "title": "Punch inspection is missed",
            "problem_statement": "The cleaning SOP does not ask for it.",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(60),
        },
    ).json()
    supervisor = api("supervisor")
    before = counts(db)
    for link, field in (
        ({"document_id": 9999}, "document_id"),
        ({"job_role_id": 1}, "document_id"),
    ):
        refused = supervisor.post(
            f"/api/v1/capas/{capa['id']}/actions",
            json={
                "kind": "corrective",
                "description": "Retrain",
                "owner_id": user_id(db, "supervisor"),
                "due_at": days_ahead(30),
                **link,
            },
        )
        assert problem(refused, 422, "invalid_input")["field"] == field
    assert counts(db) == before
