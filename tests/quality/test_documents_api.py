from __future__ import annotations

from sqlalchemy import func, select
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work

SOP_BODY = (
    "1. Purpose\n\nDescribes the cleaning of the tablet press after each batch.\n\n2. Steps ..."
)


def counts(db: Database) -> tuple[int, int]:
    with unit_of_work(db, write=False) as s:
        return (
            int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0),
            int(s.scalar(select(func.count()).select_from(ElectronicSignature)) or 0),
        )


def test_an_sop_goes_from_draft_to_effective_with_an_approval_signature(api, db) -> None:  # type: ignore[no-untyped-def]
    author, approver = api("qc"), api("qa")
    created = author.post(
        "/api/v1/documents",
        json={"doc_type": "sop", "title": "Cleaning of the tablet press", "body": SOP_BODY},
    )
    assert created.status_code == 201, created.text
    version = created.json()
    assert version["number"].startswith("SOP-") and version["number"].endswith(" v1.0")
    assert version["status"] == "draft"
    vid = version["id"]

    submitted = author.post(f"/api/v1/records/document_version/{vid}/transitions/submit", json={})
    assert submitted.json()["status"] == "in_review"

    approved = approver.post(
        f"/api/v1/records/document_version/{vid}/transitions/approve",
        json={"password": PASSWORD, "comment": "content checked against the URS"},
    )
    assert approved.status_code == 200, approved.text
    effective = approver.post(
        f"/api/v1/records/document_version/{vid}/transitions/make_effective", json={}
    )
    assert effective.json()["status"] == "effective"

    shown = approver.get(f"/api/v1/document-versions/{vid}").json()
    [signature] = shown["signatures"]
    assert signature["meaning"] == "Approved"
    assert signature["signer_name"] == "Quentin Quality"
    assert signature["valid_for_current_content"] is True
    assert "Approved by Quentin Quality (qa) on " in signature["manifestation"]


def test_the_author_may_not_approve_their_own_sop_and_nothing_changes(api, db) -> None:  # type: ignore[no-untyped-def]
    author = api("qa")
    vid = author.post(
        "/api/v1/documents", json={"doc_type": "sop", "title": "Line clearance", "body": SOP_BODY}
    ).json()["id"]
    author.post(f"/api/v1/records/document_version/{vid}/transitions/submit", json={})
    before = counts(db)

    refused = author.post(
        f"/api/v1/records/document_version/{vid}/transitions/approve", json={"password": PASSWORD}
    )

    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "segregation_of_duties"
    assert counts(db) == before
    assert author.get(f"/api/v1/document-versions/{vid}").json()["status"] == "in_review"


def test_a_malformed_payload_names_the_field(api) -> None:  # type: ignore[no-untyped-def]
    client = api("qa")
    response = client.post("/api/v1/documents", json={"doc_type": "sop"})
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "title"
    assert "title" in body["detail"]
