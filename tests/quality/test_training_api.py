"""Training end to end through the API: job roles → curricula → requirements, read and
understood by e-signature, the quiz, new versions, the matrix, and the refusals."""

from __future__ import annotations

from typing import Any

import pytest
from tests.quality.document_steps import bring_revision_into_force, counts, effective_document
from tests.support import PASSWORD, reviewed_version


def operator_role(qa: Any, document_id: int, **item: Any) -> dict[str, Any]:
    """'Tablet press operator' with a curriculum holding the document."""
    role = qa.post(
        "/api/v1/training/job-roles",
        json={"name": "Tablet press operator", "area": "Production"},
    )
    assert role.status_code == 201, role.text
    curriculum = qa.post(
        f"/api/v1/training/job-roles/{role.json()['id']}/curricula",
        json={"name": "Compression"},
    )
    assert curriculum.status_code == 201, curriculum.text
    added = qa.post(
        f"/api/v1/training/curricula/{curriculum.json()['id']}/items",
        json={"document_id": document_id, **item},
    )
    assert added.status_code == 201, added.text
    assert added.json() == []  # nobody holds the job role yet
    result: dict[str, Any] = qa.get(f"/api/v1/training/job-roles/{role.json()['id']}").json()
    return result


def people_ids(api: Any) -> dict[str, int]:
    return {u["username"]: u["id"] for u in api("admin").get("/api/v1/users").json()}


def put(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.client.put(url, headers=client.headers, json=body)


def sign(client: Any, requirement_id: int, **body: Any) -> Any:
    """Open the document to read it (signing needs it), then sign."""
    client.post(f"/api/v1/training/requirements/{requirement_id}/open")
    return client.post(
        f"/api/v1/training/requirements/{requirement_id}/complete",
        json={"password": PASSWORD, **body},
    )


@pytest.mark.postgres
def test_a_person_taking_on_a_job_role_is_assigned_its_training_with_a_task(
    frozen_clock, db, api
) -> None:  # type: ignore[no-untyped-def]
    qa, operator = api("qa"), api("operator")
    sop = effective_document(api("qc"), qa, "Cleaning of the tablet press")
    role = operator_role(qa, sop["id"])
    ids = people_ids(api)

    held = qa.post(
        f"/api/v1/training/job-roles/{role['id']}/holders", json={"user_id": ids["operator"]}
    )

    assert held.status_code == 201, held.text
    [requirement] = held.json()["assigned"]
    assert requirement["number"] == "TRN-2026-0001"
    assert requirement["version_number"] == f"{sop['number']} v1.0"
    assert (requirement["status"], requirement["source"]) == ("assigned", "job_role")
    assert requirement["due_at"] == "2026-03-16T09:00:00Z"
    [task] = operator.get("/api/v1/tasks").json()
    assert (task["kind"], task["record_id"], task["due_at"]) == (
        "training",
        requirement["id"],
        "2026-03-16T09:00:00Z",
    )
    assert (
        task["title"] == f"Read and understand {sop['number']} v1.0: Cleaning of the tablet press"
    )
    matrix = qa.get("/api/v1/training/matrix").json()
    assert [p["username"] for p in matrix["people"]] == ["operator"]
    assert matrix["people"][0]["job_roles"] == ["Tablet press operator"]
    assert [d["number"] for d in matrix["documents"]] == [sop["number"]]
    assert matrix["cells"] == [
        {
            "user_id": ids["operator"],
            "document_id": sop["id"],
            "standing": "missing",
            "due_at": "2026-03-16T09:00:00Z",
            "requirement_id": requirement["id"],
        }
    ]
    assert matrix["counts"] == {"current": 0, "due": 0, "overdue": 0, "missing": 1}


@pytest.mark.postgres
def test_read_and_understood_is_the_trainees_signature_on_the_content_they_read(
    frozen_clock, db, api
) -> None:  # type: ignore[no-untyped-def]
    qa, operator = api("qa"), api("operator")
    sop = effective_document(api("qc"), qa, "Cleaning of the tablet press")
    role = operator_role(qa, sop["id"])
    ids = people_ids(api)
    [requirement] = qa.post(
        f"/api/v1/training/job-roles/{role['id']}/holders", json={"user_id": ids["operator"]}
    ).json()["assigned"]

    signed = sign(operator, requirement["id"])

    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert (body["status"], body["completed_at"], body["expires_at"]) == (
        "completed",
        "2026-03-02T09:00:00Z",
        None,
    )
    [signature] = body["signatures"]
    assert (signature["meaning"], signature["signer_username"]) == (
        "Read and understood",
        "operator",
    )
    assert signature["valid_for_current_content"] is True
    assert signature["manifestation"] == (
        "Read and understood by Otto Operator (operator) on 2026-03-02 09:00:00 UTC (+00:00)"
    )
    assert body["read_content_hash"] == sop["versions"][0]["signed_content_hash"]
    assert operator.get("/api/v1/tasks").json() == []
    assert operator.get("/api/v1/training/my").json() == []
    [cell] = qa.get("/api/v1/training/matrix").json()["cells"]
    assert cell["standing"] == "current"


def test_a_new_version_in_force_assigns_read_and_understood_to_everyone_whose_curriculum_has_it(
    frozen_clock, db, api
) -> None:  # type: ignore[no-untyped-def]
    qa, operator, supervisor = api("qa"), api("operator"), api("supervisor")
    sop = effective_document(api("qc"), qa, "Cleaning of the tablet press")
    role = operator_role(qa, sop["id"], due_in_days=7)
    ids = people_ids(api)
    for name in ("operator", "supervisor"):
        qa.post(f"/api/v1/training/job-roles/{role['id']}/holders", json={"user_id": ids[name]})
    [first] = operator.get("/api/v1/training/my").json()
    assert sign(operator, first["id"]).status_code == 200
    [unread] = supervisor.get("/api/v1/training/my").json()

    version = bring_revision_into_force(api("qc"), qa, sop["id"], "Drying time 30 → 45 min.")

    [revision] = operator.get("/api/v1/training/my").json()
    assert (revision["version_number"], revision["source"], revision["due_at"]) == (
        version["number"],
        "new_version",
        "2026-03-09T09:00:00Z",
    )
    [supervisor_revision] = supervisor.get("/api/v1/training/my").json()
    assert supervisor_revision["version_number"] == version["number"]
    superseded = qa.get(f"/api/v1/training/requirements/{unread['id']}").json()
    assert superseded["status"] == "cancelled"
    standing = {
        c["user_id"]: c["standing"] for c in qa.get("/api/v1/training/matrix").json()["cells"]
    }
    # trained on 1.0 and within the week to read 1.1: due; never trained: missing
    assert standing == {ids["operator"]: "due", ids["supervisor"]: "missing"}


def test_nobody_signs_anothers_training_and_refusals_change_nothing(frozen_clock, db, api) -> None:  # type: ignore[no-untyped-def]
    qa, operator = api("qa"), api("operator")
    sop = effective_document(api("qc"), qa, "Cleaning of the tablet press")
    role = operator_role(qa, sop["id"])
    ids = people_ids(api)
    [requirement] = qa.post(
        f"/api/v1/training/job-roles/{role['id']}/holders", json={"user_id": ids["operator"]}
    ).json()["assigned"]
    url = f"/api/v1/records/training_requirement/{requirement['id']}/transitions/complete"
    opened = operator.post(f"/api/v1/training/requirements/{requirement['id']}/open")
    assert opened.status_code == 200, opened.text
    before = counts(db)

    by_qa = sign(qa, requirement["id"])
    by_qa_generic = qa.post(
        url,
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "training_requirement", requirement["id"]),
        },
    )
    unsigned = operator.post(f"/api/v1/training/requirements/{requirement['id']}/complete", json={})

    assert (by_qa.status_code, by_qa.json()["code"]) == (403, "permission_denied")
    assert by_qa.json()["detail"] == (
        f"{requirement['number']} is another person's training: only the trainee signs "
        "their own read and understood"
    )
    assert (by_qa_generic.status_code, by_qa_generic.json()["code"]) == (403, "permission_denied")
    assert (unsigned.status_code, unsigned.json()["field"]) == (422, "password")
    assert counts(db) == before

    wrong = sign(operator, requirement["id"], password="Wrong-Horse-1!")
    assert (wrong.status_code, wrong.json()["code"]) == (401, "signature_refused")
    after = counts(db)
    assert after == {**before, "audit": before["audit"] + 1}  # the failed attempt, on the user

    assert sign(operator, requirement["id"]).status_code == 200
    before = counts(db)
    twice = sign(operator, requirement["id"])
    assert (twice.status_code, twice.json()["code"]) == (409, "transition_not_allowed")
    assert counts(db) == before


def test_a_failed_quiz_is_recorded_not_signed_and_can_be_retried(frozen_clock, db, api) -> None:  # type: ignore[no-untyped-def]
    qa, operator = api("qa"), api("operator")
    sop = effective_document(api("qc"), qa, "Cleaning of the tablet press")
    role = operator_role(qa, sop["id"])
    ids = people_ids(api)
    [requirement] = qa.post(
        f"/api/v1/training/job-roles/{role['id']}/holders", json={"user_id": ids["operator"]}
    ).json()["assigned"]
    quiz = {
        "pass_mark_percent": 100,
        "questions": [
            {"question": "Minimum drying time?", "options": ["10 min", "30 min"], "answer": 1},
            {"question": "Who releases the line?", "options": ["QA", "Operator"], "answer": 0},
        ],
    }
    written = put(qa, f"/api/v1/training/quizzes/{sop['id']}", quiz)
    assert written.status_code == 200, written.text
    shown = operator.get(f"/api/v1/training/quizzes/{sop['id']}").json()
    assert shown["questions"] == [
        {"question": "Minimum drying time?", "options": ["10 min", "30 min"]},
        {"question": "Who releases the line?", "options": ["QA", "Operator"]},
    ]
    operator.post(f"/api/v1/training/requirements/{requirement['id']}/open")
    before = counts(db)

    no_answers = sign(operator, requirement["id"])
    assert (no_answers.status_code, no_answers.json()["field"]) == (422, "answers")
    assert counts(db) == before

    failed = sign(operator, requirement["id"], answers=[1, 1])

    assert (failed.status_code, failed.json()["code"]) == (400, "quiz_failed")
    assert failed.json()["detail"].startswith(
        "1 of 2 answers correct (50 %); the pass mark is 100 %"
    )
    assert (failed.json()["score_percent"], failed.json()["pass_mark_percent"]) == (50, 100)
    after = counts(db)
    assert after == {**before, "quiz_attempts": 1, "audit": before["audit"] + 1}
    still = qa.get(f"/api/v1/training/requirements/{requirement['id']}").json()
    assert (still["status"], still["quiz_score_percent"], still["signatures"]) == (
        "assigned",
        None,
        [],
    )

    passed = sign(operator, requirement["id"], answers=[1, 0])

    assert passed.status_code == 200, passed.text
    assert (passed.json()["status"], passed.json()["quiz_score_percent"]) == ("completed", 100)
    assert [s["meaning"] for s in passed.json()["signatures"]] == ["Read and understood"]
    assert counts(db)["quiz_attempts"] == 2


def test_qa_alone_maintains_job_roles_and_curricula(frozen_clock, db, api) -> None:  # type: ignore[no-untyped-def]
    qa, operator = api("qa"), api("operator")
    sop = effective_document(api("qc"), qa, "Cleaning of the tablet press")
    role = operator_role(qa, sop["id"])
    ids = people_ids(api)
    before = counts(db)

    by_operator = operator.post("/api/v1/training/job-roles", json={"name": "Packer"})
    nameless = qa.post("/api/v1/training/job-roles", json={"description": "no name"})
    duplicate = qa.post("/api/v1/training/job-roles", json={"name": "Tablet press operator"})
    twice_in = qa.post(
        f"/api/v1/training/curricula/{role['curricula'][0]['id']}/items",
        json={"document_id": sop["id"]},
    )
    not_a_person = qa.post(
        f"/api/v1/training/job-roles/{role['id']}/holders", json={"user_id": 999}
    )
    bad_quiz = put(
        qa,
        f"/api/v1/training/quizzes/{sop['id']}",
        {
            "pass_mark_percent": 80,
            "questions": [{"question": "Q?", "options": ["a", "b"], "answer": 2}],
        },
    )
    self_governed = qa.post(
        "/api/v1/training/governing",
        json={
            "record_type": "training_requirement",
            "transition": "complete",
            "document_id": sop["id"],
            "reason": "circular",
        },
    )

    assert (by_operator.status_code, by_operator.json()["code"]) == (403, "permission_denied")
    assert (nameless.status_code, nameless.json()["field"]) == (422, "name")
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "conflict")
    assert (twice_in.status_code, twice_in.json()["code"]) == (409, "conflict")
    assert (not_a_person.status_code, not_a_person.json()["field"]) == (422, "user_id")
    assert (bad_quiz.status_code, bad_quiz.json()["field"]) == (422, "questions.0")
    assert (self_governed.status_code, self_governed.json()["field"]) == (422, "record_type")
    assert counts(db) == before
    assert ids["operator"] not in [h["user_id"] for h in role["holders"]]


def test_leaving_a_job_role_cancels_the_training_nothing_else_requires(
    frozen_clock, db, api
) -> None:  # type: ignore[no-untyped-def]
    qa, operator = api("qa"), api("operator")
    sop = effective_document(api("qc"), qa, "Cleaning of the tablet press")
    role = operator_role(qa, sop["id"])
    ids = people_ids(api)
    held = qa.post(
        f"/api/v1/training/job-roles/{role['id']}/holders", json={"user_id": ids["operator"]}
    ).json()
    [requirement] = held["assigned"]

    ended = qa.post(
        f"/api/v1/training/job-role-assignments/{held['assignment']['id']}/end",
        json={"reason": "moved to packaging"},
    )

    assert ended.status_code == 200, ended.text
    assert ended.json()["ended_at"] == "2026-03-02T09:00:00Z"
    cancelled = qa.get(f"/api/v1/training/requirements/{requirement['id']}").json()
    assert cancelled["status"] == "cancelled"
    assert operator.get("/api/v1/tasks").json() == []
    assert qa.get("/api/v1/training/matrix").json()["people"] == []
