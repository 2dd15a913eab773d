"""A master batch record is revised through its own structured path, never through plain
document control: the generic revision and the generic edit of its document are refused and
change nothing, so production never ends with a recipe in force that has no steps. A batch
record asked of a superseded master names the master in force."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from tests.lifecycle.production.ebr_setup import effective_master, effective_sop, steps, train
from tests.lifecycle.production.setup import seed_master_data, trail_counts
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.batchrecords.models import BatchRecord, MasterBatchRecord
from pharmaqms.quality.documents.models import DocumentVersion


@pytest.fixture
def sop(db: Database, people: Any, frozen_clock: Any) -> str:
    seed_master_data(db, people)
    document_id, number = effective_sop(db, people, "Tablet manufacturing")
    train(db, people, document_id, "operator", "supervisor")
    return number


def rows(db: Database) -> tuple[int, int, int, tuple[int, int]]:
    with unit_of_work(db, write=False) as s:
        return (
            int(s.scalar(select(func.count()).select_from(MasterBatchRecord)) or 0),
            int(s.scalar(select(func.count()).select_from(DocumentVersion)) or 0),
            int(s.scalar(select(func.count()).select_from(BatchRecord)) or 0),
            trail_counts(db),
        )


def take(client: Any, version_id: int, name: str, **body: Any) -> None:
    if "password" in body:
        body["expected_version"] = reviewed_version(client, "document_version", version_id)
    moved = client.post(
        f"/api/v1/records/document_version/{version_id}/transitions/{name}", json=body
    )
    assert moved.status_code == 200, moved.text


def test_the_generic_revision_of_a_master_batch_record_is_refused_and_changes_nothing(
    db: Database, api: Any, people: Any, sop: str
) -> None:
    master_id = effective_master(db, people, steps(sop))
    supervisor = api("supervisor")
    master = supervisor.get(f"/api/v1/production/masters/{master_id}").json()
    before = rows(db)

    refused = supervisor.post(
        f"/api/v1/documents/{master['document_id']}/revisions",
        json={"change_summary": "faster compression"},
    )

    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert "is not revised through document control" in detail
    assert f"/api/v1/production/masters/{master_id}/revisions" in detail
    assert rows(db) == before
    # Editing its version's text by the generic path is refused too.
    edited = supervisor.patch(
        f"/api/v1/document-versions/{master['document_version_id']}",
        json={"expected_version": 1, "body": "1. Mix until done."},
    )
    assert edited.status_code == 409
    assert rows(db) == before


def test_a_structured_revision_in_force_keeps_production_executable(
    db: Database, api: Any, people: Any, sop: str
) -> None:
    master_id = effective_master(db, people, steps(sop))
    supervisor, qa = api("supervisor"), api("qa")
    revised = supervisor.post(
        f"/api/v1/production/masters/{master_id}/revisions",
        json={"change_summary": "longer compression"},
    ).json()
    vid = revised["document_version_id"]
    take(supervisor, vid, "submit")
    take(qa, vid, "approve", password=PASSWORD)
    take(qa, vid, "make_effective")

    # The old master names its successor; the new one opens batch records.
    before = rows(db)
    old = supervisor.post(
        "/api/v1/production/batch-records", json={"master_id": master_id, "lot_number": "B1"}
    )
    assert old.status_code == 409
    assert old.json()["reasons"][0] == (
        f"MBR-2026-0001 v1.0 is superseded by MBR-2026-0001 v1.1: open the batch record from "
        f"that master (id {revised['id']})"
    )
    assert rows(db) == before
    opened = supervisor.post(
        "/api/v1/production/batch-records", json={"master_id": revised["id"], "lot_number": "B1"}
    )
    assert opened.status_code == 201, opened.text
