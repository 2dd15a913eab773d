"""A version that needs training comes into force only once a job role's curriculum names its
document — by hand and by the daily job, which leaves such a version approved and tells the
document's owner — and making a version effective says what training it assigned."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.quality.document_steps import SOP_BODY, counts, name_job_role, take
from tests.quality.quality_steps import problem, user_id
from tests.support import PASSWORD

from pharmaqms.kernel import clock
from pharmaqms.kernel.auth import system_actor
from pharmaqms.kernel.models import AuditEntry, Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents.service import NAME_TRAINING_TASK, make_due_versions_effective
from pharmaqms.quality.documents.training_rules import (
    TRAINING_RULES,
    EffectiveFacts,
    training_named,
)


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database must be made on real time (see test_deviations_api)."""


def approved(author: Any, approver: Any, title: str, doc_type: str = "sop", **more: Any) -> Any:
    created = author.post(
        "/api/v1/documents",
        json={"doc_type": doc_type, "title": title, "body": SOP_BODY, **more},
    )
    assert created.status_code == 201, created.text
    version = created.json()
    take(author, "document_version", version["id"], "submit")
    take(approver, "document_version", version["id"], "approve", password=PASSWORD)
    return version


def status_of(client: Any, version_id: int) -> str:
    return str(client.get(f"/api/v1/document-versions/{version_id}").json()["status"])


# --- the rule, pure ------------------------------------------------------------------------


def test_every_document_type_has_a_rule_with_its_basis() -> None:
    from pharmaqms.quality.documents.models import DocumentType

    assert sorted(r.doc_type.value for r in TRAINING_RULES) == sorted(t.value for t in DocumentType)
    assert all(r.basis.strip() and r.why.strip() for r in TRAINING_RULES)
    exempt = sorted(r.doc_type.value for r in TRAINING_RULES if not r.needs_training)
    assert exempt == ["form", "master_batch_record", "patient_leaflet", "specification"]


def test_the_rule_asks_for_a_job_role_only_where_training_is_needed() -> None:
    sop = EffectiveFacts("SOP-2026-0001", "1.0", "sop", ())
    assert training_named(sop) == [
        "SOP-2026-0001 v1.0 needs read-and-understood training, and no job role's curriculum "
        "names it: add the document to the curriculum of each job role it applies to "
        "(Training → Job roles), then make the version effective"
    ]
    assert training_named(EffectiveFacts("SOP-2026-0001", "1.0", "sop", ("Operator",))) == []
    assert training_named(EffectiveFacts("FRM-2026-0001", "1.0", "form", ())) == []
    # A type the table does not know needs training (fails closed).
    assert training_named(EffectiveFacts("X-1", "1.0", "memo", ())) != []


# --- by hand ---------------------------------------------------------------------------------


def test_an_sop_no_job_role_names_is_not_made_effective_and_nothing_changes(
    api: Any, db: Any
) -> None:
    qc, qa = api("qc"), api("qa")
    version = approved(qc, qa, "Line clearance")
    before = counts(db)

    refused = qa.post(
        f"/api/v1/records/document_version/{version['id']}/transitions/make_effective", json={}
    )

    number = version["number"].split(" ")[0]
    assert problem(refused, 409, "transition_not_allowed")["reasons"] == [
        f"{number} v1.0 needs read-and-understood training, and no job role's curriculum "
        "names it: add the document to the curriculum of each job role it applies to "
        "(Training → Job roles), then make the version effective"
    ]
    assert counts(db) == before
    assert status_of(qa, version["id"]) == "approved"
    # The page's options say so before the click.
    [option] = [
        o
        for o in qa.get(f"/api/v1/records/document_version/{version['id']}/transitions").json()
        if o["name"] == "make_effective"
    ]
    assert (
        option["allowed"] is False and "no job role's curriculum names it" in option["reasons"][0]
    )


def test_a_removed_curriculum_item_no_longer_names_the_document(api: Any, db: Any) -> None:
    qc, qa = api("qc"), api("qa")
    version = approved(qc, qa, "Line clearance")
    name_job_role(qa, version["document_id"])
    [role] = qa.get("/api/v1/training/job-roles").json()
    [item] = role["curricula"][0]["items"]
    removed = qa.post(
        f"/api/v1/training/curriculum-items/{item['id']}/remove", json={"reason": "wrong role"}
    )
    assert removed.status_code == 204, removed.text
    before = counts(db)

    refused = qa.post(
        f"/api/v1/records/document_version/{version['id']}/transitions/make_effective", json={}
    )

    assert (
        "no job role's curriculum names it"
        in problem(refused, 409, "transition_not_allowed")["detail"]
    )
    assert counts(db) == before


def test_making_effective_assigns_the_training_and_says_so(api: Any, db: Any) -> None:
    qc, qa = api("qc"), api("qa")
    version = approved(qc, qa, "Line clearance")
    role = qa.post(
        "/api/v1/training/job-roles", json={"name": "Tablet press operator", "area": "Production"}
    ).json()
    for username in ("operator", "supervisor"):
        held = qa.post(
            f"/api/v1/training/job-roles/{role['id']}/holders",
            json={"user_id": user_id(db, username)},
        )
        assert held.status_code == 201, held.text
    assert name_job_role(qa, version["document_id"], "Tablet press operator", "Compression") == []

    effective = qa.post(
        f"/api/v1/records/document_version/{version['id']}/transitions/make_effective", json={}
    )

    assert effective.status_code == 200, effective.text
    said = (
        f"Training on {version['number']} assigned to 2 people in the job role "
        "Tablet press operator."
    )
    assert effective.json()["outcome"] == said
    operator = api("operator").get("/api/v1/training/my").json()
    assert [(r["version_number"], r["status"]) for r in operator] == [
        (version["number"], "assigned")
    ]
    with unit_of_work(db, write=False) as session:
        event = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "training_assigned",
                AuditEntry.record_type == "document_version",
                AuditEntry.record_id == version["id"],
            )
        ).one()
        assert event.reason == said
        assert json.loads(event.changes) == {"people": 2, "job_roles": ["Tablet press operator"]}


def test_a_form_needs_no_job_role(api: Any, db: Any) -> None:
    qc, qa = api("qc"), api("qa")
    version = approved(qc, qa, "Line clearance checklist", doc_type="form")

    effective = qa.post(
        f"/api/v1/records/document_version/{version['id']}/transitions/make_effective", json={}
    )

    assert effective.status_code == 200, effective.text
    assert effective.json()["outcome"] == (
        f"Training on {version['number']} assigned to 0 people: no job role's curriculum "
        "names it (a form needs no training)."
    )


# --- the daily job ---------------------------------------------------------------------------


def test_the_daily_job_leaves_an_unnamed_version_approved_and_tells_its_owner(
    api: Any, db: Any, frozen_clock: clock.FrozenClock
) -> None:
    qc, qa = api("qc"), api("qa")
    tomorrow = (clock.now() + timedelta(days=1)).isoformat()
    unnamed = approved(qc, qa, "Line clearance", effective_from=tomorrow)
    named = approved(qc, qa, "Gowning", effective_from=tomorrow)
    name_job_role(qa, named["document_id"])
    frozen_clock.advance(days=2)
    qa = api("qa")  # logged in again: two days on, the morning's token has expired

    with unit_of_work(db) as session:
        made = make_due_versions_effective(session, actor=system_actor(session))
        assert [v.id for v in made] == [named["id"]]
    after_first = counts(db)
    with unit_of_work(db) as session:
        assert make_due_versions_effective(session, actor=system_actor(session)) == []

    # the other version came into force; this one stays approved, its owner told once
    assert counts(db) == after_first
    assert (status_of(qa, named["id"]), status_of(qa, unnamed["id"])) == ("effective", "approved")
    number = unnamed["number"].split(" ")[0]
    with unit_of_work(db, write=False) as session:
        [task] = session.scalars(
            select(Task).where(Task.kind == NAME_TRAINING_TASK, Task.record_id == unnamed["id"])
        ).all()
        assert (task.status, task.assignee_user_id, task.assignee_role) == (
            "open",
            user_id(db, "qc"),
            None,
        )
        assert task.title.startswith(
            f"{unnamed['number']} was not made effective on its date: {number} v1.0 needs "
            "read-and-understood training, and no job role's curriculum names it"
        )

    # once the job role is named, the next run brings it into force and closes the task
    name_job_role(qa, unnamed["document_id"])
    with unit_of_work(db) as session:
        made = make_due_versions_effective(session, actor=system_actor(session))
        assert [v.id for v in made] == [unnamed["id"]]
    with unit_of_work(db, write=False) as session:
        task = session.scalars(select(Task).where(Task.kind == NAME_TRAINING_TASK)).one()
        assert task.status == "done"
    assert status_of(qa, unnamed["id"]) == "effective"
