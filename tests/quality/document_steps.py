"""What the periodic review and training tests share: documents brought into force through
the API, and a count of every row a refusal must leave unchanged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature, Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents.models import PeriodicReview
from pharmaqms.quality.training.models import (
    GoverningDocument,
    JobRole,
    JobRoleAssignment,
    QuizAttempt,
    TrainingRequirement,
)

SOP_BODY = (
    "1. Purpose\n\nHow the area is cleaned and cleared between batches.\n\n"
    "2. Steps\n\n2.1 Remove all materials of the previous batch.\n2.2 Clean and inspect."
)

COUNTED = {
    "audit": AuditEntry,
    "signatures": ElectronicSignature,
    "tasks": Task,
    "requirements": TrainingRequirement,
    "quiz_attempts": QuizAttempt,
    "reviews": PeriodicReview,
    "job_roles": JobRole,
    "assignments": JobRoleAssignment,
    "governing": GoverningDocument,
}


def counts(db: Database) -> dict[str, int]:
    with unit_of_work(db, write=False) as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in COUNTED.items()
        }


def take(client: Any, record_type: str, record_id: int, name: str, **body: Any) -> dict[str, Any]:
    if "password" in body and "expected_version" not in body:
        # A signer signs the version they reviewed.
        body["expected_version"] = reviewed_version(client, record_type, record_id)
    response = client.post(
        f"/api/v1/records/{record_type}/{record_id}/transitions/{name}", json=body
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def name_job_role(
    qa: Any, document_id: int, job_role: str = "All staff", curriculum: str = "Procedures"
) -> list[dict[str, Any]]:
    """The job role the document applies to, named before it comes into force (the job role
    and curriculum are defined on first use); returns the training the naming assigned."""
    roles = {r["name"]: r for r in qa.get("/api/v1/training/job-roles").json()}
    role = roles.get(job_role)
    if role is None:
        created = qa.post("/api/v1/training/job-roles", json={"name": job_role})
        assert created.status_code == 201, created.text
        role = created.json()
    found = next((c for c in role.get("curricula", []) if c["name"] == curriculum), None)
    if found is None:
        made = qa.post(
            f"/api/v1/training/job-roles/{role['id']}/curricula", json={"name": curriculum}
        )
        assert made.status_code == 201, made.text
        found = made.json()
    added = qa.post(
        f"/api/v1/training/curricula/{found['id']}/items", json={"document_id": document_id}
    )
    assert added.status_code == 201, added.text
    assigned: list[dict[str, Any]] = added.json()
    return assigned


def effective_document(
    author: Any, approver: Any, title: str, *, review_period_months: int = 24
) -> dict[str, Any]:
    """A new SOP taken through review and approval into force (named in the curriculum of the
    job role "All staff", held by nobody, as document control requires); returns the
    document."""
    created = author.post(
        "/api/v1/documents",
        json={
            "doc_type": "sop",
            "title": title,
            "body": SOP_BODY,
            "review_period_months": review_period_months,
        },
    )
    assert created.status_code == 201, created.text
    version = created.json()
    take(author, "document_version", version["id"], "submit")
    take(approver, "document_version", version["id"], "approve", password=PASSWORD)
    name_job_role(approver, version["document_id"])
    take(approver, "document_version", version["id"], "make_effective")
    document: dict[str, Any] = approver.get(f"/api/v1/documents/{version['document_id']}").json()
    return document


def bring_revision_into_force(
    author: Any, approver: Any, document_id: int, summary: str, *, version_id: int | None = None
) -> dict[str, Any]:
    """Revise the document (or take the given draft) through approval into force."""
    if version_id is None:
        revised = author.post(
            f"/api/v1/documents/{document_id}/revisions", json={"change_summary": summary}
        )
        assert revised.status_code == 201, revised.text
        version_id = revised.json()["id"]
    take(author, "document_version", version_id, "submit")
    take(approver, "document_version", version_id, "approve", password=PASSWORD)
    take(approver, "document_version", version_id, "make_effective")
    version: dict[str, Any] = approver.get(f"/api/v1/document-versions/{version_id}").json()
    return version
