"""Helpers of the competence tests: row counts to show a refusal changed nothing, and a job
role with a curriculum and qualification requirements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.release.models import BatchRelease
from pharmaqms.quality.training.competence.models import (
    Authorisation,
    AuthorisationFile,
    CompetenceAssessment,
    QualificationRequirement,
)

COUNTED = {
    "authorisations": Authorisation,
    "files": AuthorisationFile,
    "assessments": CompetenceAssessment,
    "requirements": QualificationRequirement,
    "releases": BatchRelease,
    "audit": AuditEntry,
    "signatures": ElectronicSignature,
}


def counts(db: Database) -> dict[str, int]:
    with unit_of_work(db, write=False) as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in COUNTED.items()
        }


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def user_ids(api: Any) -> dict[str, int]:
    return {u["username"]: u["id"] for u in api("admin").get("/api/v1/users").json()}


def job_role(qa: Any, name: str, *, document_id: int | None = None) -> int:
    role = ok(qa.post("/api/v1/training/job-roles", json={"name": name}), 201)
    if document_id is not None:
        curriculum = ok(
            qa.post(f"/api/v1/training/job-roles/{role['id']}/curricula", json={"name": "Core"}),
            201,
        )
        ok(
            qa.post(
                f"/api/v1/training/curricula/{curriculum['id']}/items",
                json={"document_id": document_id},
            ),
            201,
        )
    return int(role["id"])


def requirement(qa: Any, job_role_id: int, **body: Any) -> int:
    body.setdefault("reason", "the job description requires it")
    done = ok(
        qa.post(f"/api/v1/training/job-roles/{job_role_id}/qualification-requirements", json=body),
        201,
    )
    return int(done["id"])


def hold(qa: Any, job_role_id: int, user_id: int) -> dict[str, Any]:
    return dict(
        ok(
            qa.post(f"/api/v1/training/job-roles/{job_role_id}/holders", json={"user_id": user_id}),
            201,
        )
    )
