"""Document control pages: the register, a new document, a document's versions with content,
signatures and workflow buttons, editing a draft, and starting a revision."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import People
from tests.support import PASSWORD
from tests.web.support import SOP_BODY, counts, flash_of, make_sop, version_status

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents import service


def test_the_register_lists_documents_and_filters_them(
    ui: Any, db: Database, people: People
) -> None:
    make_sop(
        db, people.qc, title="Cleaning of the tablet press", state="effective", approver=people.qa
    )
    with unit_of_work(db) as s:
        service.create_document(s, actor=people.qa, doc_type="policy", title="Data integrity")
    client = ui("qc")

    everything = client.get("/documents").text
    policies = client.get("/documents?doc_type=policy").text
    current = client.get("/documents?status=current").text
    searched = client.get("/documents?q=tablet").text

    assert "Cleaning of the tablet press" in everything and "Data integrity" in everything
    assert "Cleaning of the tablet press" not in policies and "Data integrity" in policies
    assert "Data integrity" not in current
    assert '<span class="badge badge-positive" data-status="current">current</span>' in current
    assert "Cleaning of the tablet press" in searched and "Data integrity" not in searched
    assert '<a class="btn btn-primary" href="/documents/new">New document</a>' in everything


def test_creating_a_document_from_the_form(ui: Any, db: Database) -> None:
    client = ui("qc")
    client.get("/documents/new")

    response = client.post(
        "/documents",
        {"doc_type": "work_instruction", "title": "Operating the press", "body": SOP_BODY},
    )

    assert response.headers["location"] == "/documents/1?version=1"
    page = client.follow(response).text
    assert re.fullmatch(r"WI-\d{4}-0001 v1\.0 created as a draft\.", flash_of(page))
    assert "Work instruction · periodic review every 24 months" in page
    assert 'id="edit-draft"' in page


def test_the_document_page_shows_content_signatures_pdf_links_and_workflow(
    ui: Any, db: Database, people: People
) -> None:
    doc_id, vid, _ = make_sop(db, people.qc, state="approved", approver=people.qa)

    page = ui("qa").get(f"/documents/{doc_id}").text

    assert "Describes the cleaning of the tablet press after each batch." in page
    assert re.search(
        r"Approved by Quentin Quality \(qa\) on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page
    )
    assert f'href="/api/v1/document-versions/{vid}/pdf?copy=controlled"' in page
    assert f'href="/api/v1/document-versions/{vid}/pdf?copy=uncontrolled"' in page
    assert f'action="/records/document_version/{vid}/transitions/make_effective"' in page
    assert 'id="edit-draft"' not in page  # an approved version is not edited


def test_a_stale_draft_edit_is_refused_and_changes_nothing(
    ui: Any, db: Database, people: People
) -> None:
    doc_id, vid, number = make_sop(db, people.qc)
    client = ui("qc")
    client.get(f"/documents/{doc_id}")
    saved = client.post(
        f"/documents/versions/{vid}/edit",
        {"expected_version": 1, "title": "Cleaning of the tablet press", "body": SOP_BODY + " A"},
    )
    assert flash_of(client.follow(saved).text) == f"{number} saved."
    before = counts(db)

    stale = client.post(
        f"/documents/versions/{vid}/edit",
        {"expected_version": 1, "title": "Cleaning of the tablet press", "body": "overwritten"},
    )

    assert flash_of(client.follow(stale).text) == (
        f"{number} is at version 2, not 1: someone changed it meanwhile; "
        "reload it and make your change again"
    )
    assert counts(db) == before
    with unit_of_work(db, write=False) as s:
        assert service.get_version(s, vid).body == SOP_BODY + " A"


def test_a_scheduled_effective_date_is_read_as_utc(ui: Any, db: Database, people: People) -> None:
    doc_id, vid, _ = make_sop(db, people.qc)
    client = ui("qc")
    client.get(f"/documents/{doc_id}")

    client.post(
        f"/documents/versions/{vid}/edit",
        {
            "expected_version": 1,
            "title": "Cleaning of the tablet press",
            "body": SOP_BODY,
            "effective_from": "2030-05-01T08:30",
        },
    )

    page = client.get(f"/documents/{doc_id}").text
    assert "<dt>Effective from (scheduled)</dt><dd>2030-05-01 08:30 UTC (+00:00)</dd>" in page
    assert 'name="effective_from" value="2030-05-01T08:30"' in page


def test_a_signature_is_marked_no_longer_valid_once_the_content_changes(
    ui: Any, db: Database, people: People
) -> None:
    doc_id, vid, _ = make_sop(db, people.qc, state="approved", approver=people.qa)
    client = ui("qc")
    client.get(f"/documents/{doc_id}")
    client.post(
        f"/records/document_version/{vid}/transitions/return_to_draft",
        {"expected_version": 3, "reason": "typo in step 2.2"},
    )
    assert version_status(db, vid) == "draft"

    client.post(
        f"/documents/versions/{vid}/edit",
        {"expected_version": 4, "title": "Cleaning of the tablet press", "body": SOP_BODY + "!"},
    )

    page = client.get(f"/documents/{doc_id}").text
    assert '<li class="signature signature-stale" data-testid="signature">' in page
    assert "<strong>No longer valid for the current content:</strong>" in page


def test_starting_a_minor_revision_of_an_effective_sop(
    ui: Any, db: Database, people: People
) -> None:
    doc_id, vid, number = make_sop(db, people.qc, state="effective", approver=people.qa)
    client = ui("qc")
    page = client.get(f"/documents/{doc_id}").text
    assert "Start a revision" in page

    response = client.post(
        f"/documents/{doc_id}/revisions",
        {"kind": "minor", "change_summary": "Step 2.2: purified water instead of tap water"},
    )

    revised = client.follow(response).text
    assert flash_of(revised) == f"Revision {number.replace('v1.0', 'v1.1')} started as a draft."
    assert "<h2>Version 1.1" in revised
    assert "Start a revision" not in revised  # one version in flight at a time
    assert version_status(db, vid) == "effective"


def test_the_auditor_reads_documents_but_gets_no_edit_forms(
    ui: Any, db: Database, people: People
) -> None:
    doc_id, _, _ = make_sop(db, people.qc, state="effective", approver=people.qa)
    with unit_of_work(db) as s:
        service.revise(s, actor=people.qc, document_id=doc_id, major=True, change_summary="new")
    client = ui("auditor")

    register = client.get("/documents").text
    page = client.get(f"/documents/{doc_id}").text

    assert "New document" not in register
    assert "Read-only access" in page
    assert "<form" not in page.split("</header>", 1)[1]
    assert client.get("/documents/new").status_code == 403


def test_the_approval_through_the_document_page_returns_to_it(
    ui: Any, db: Database, people: People
) -> None:
    doc_id, vid, _ = make_sop(db, people.qc, state="in_review")
    client = ui("qa")
    client.get(f"/documents/{doc_id}")

    response = client.post(
        f"/records/document_version/{vid}/transitions/approve",
        {"expected_version": 2, "password": PASSWORD},
    )

    assert response.headers["location"] == f"/documents/{doc_id}?version={vid}"
    assert version_status(db, vid) == "approved"
