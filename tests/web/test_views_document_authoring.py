"""Document pages for authoring: the content rendered from Markdown, a preview that keeps
what was typed and saves nothing, source files, named reviewers and the side-by-side
comparison of two versions."""

from __future__ import annotations

from typing import Any

from tests.quality.document_steps import name_job_role
from tests.quality.quality_steps import user_id
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.db import Database

BODY = "# Purpose\n\nClean the **tablet press** after each batch.\n\n1. Strip\n2. Wash\n"


def _draft(api: Any) -> dict[str, Any]:
    created = api("qc").post(
        "/api/v1/documents", json={"doc_type": "sop", "title": "Cleaning", "body": BODY}
    )
    assert created.status_code == 201, created.text
    version: dict[str, Any] = created.json()
    return version


def test_the_page_renders_markdown_and_a_preview_keeps_what_was_typed(api: Any, ui: Any) -> None:
    version = _draft(api)
    client = ui("qc")
    page = client.get(f"/documents/{version['document_id']}")
    assert "<strong>tablet press</strong>" in page.text
    assert "<h1>Purpose</h1>" in page.text

    preview = client.post(
        f"/documents/versions/{version['id']}/preview",
        {
            "expected_version": version["version"],
            "title": "Cleaning",
            "body": "# Scope\n\nOnly *press 3* <b>now</b>.",
            "change_summary": "",
        },
    )
    assert preview.status_code == 200
    assert "<em>press 3</em>" in preview.text  # rendered
    assert "&lt;b&gt;now&lt;/b&gt;" in preview.text  # no markup of the author's own
    assert "Only *press 3*" in preview.text  # the editor keeps what was typed
    stored = api("qc").get(f"/api/v1/document-versions/{version['id']}").json()
    assert stored["body"].rstrip() == BODY.rstrip()  # a preview saves nothing
    assert stored["version"] == version["version"]


def test_the_page_shows_sources_reviewers_and_lets_the_reviewer_comment(
    api: Any, ui: Any, db: Database
) -> None:
    version = _draft(api)
    vid = version["id"]
    author = api("qc")
    author.post(
        f"/api/v1/document-versions/{vid}/attachments",
        files={"file": ("source.pdf", b"%PDF-1.7 source")},
    )
    author.post(
        f"/api/v1/document-versions/{vid}/reviewers",
        json={"reviewer_ids": [user_id(db, "supervisor")]},
    )
    author.post(f"/api/v1/records/document_version/{vid}/transitions/submit", json={})

    reviewer = ui("supervisor")
    page = reviewer.get(f"/documents/{version['document_id']}")
    assert "source.pdf" in page.text and "Sam Supervisor" in page.text
    assert f'action="/documents/versions/{vid}/review"' in page.text
    done = reviewer.post(
        f"/documents/versions/{vid}/review",
        {
            "comments": "Name the detergent.",
            "expected_version": reviewed_version(author, "document_version", vid),
        },
    )
    shown = reviewer.follow(done)
    assert "Name the detergent." in shown.text
    # The QA approver may now approve: the review is recorded.
    approved = api("qa").post(
        f"/api/v1/records/document_version/{vid}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(author, "document_version", vid),
        },
    )
    assert approved.status_code == 200, approved.text


def test_two_versions_side_by_side_page(api: Any, ui: Any) -> None:
    version = _draft(api)
    vid, did = version["id"], version["document_id"]
    author, qa = api("qc"), api("qa")
    author.post(f"/api/v1/records/document_version/{vid}/transitions/submit", json={})
    qa.post(
        f"/api/v1/records/document_version/{vid}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "document_version", vid),
        },
    )
    name_job_role(qa, did)
    qa.post(f"/api/v1/records/document_version/{vid}/transitions/make_effective", json={})
    revised = author.post(
        f"/api/v1/documents/{did}/revisions", json={"change_summary": "wash with WFI"}
    ).json()
    author.patch(
        f"/api/v1/document-versions/{revised['id']}",
        json={
            "expected_version": revised["version"],
            "body": BODY.replace("2. Wash", "2. Wash with WFI"),
        },
    )
    page = ui("qa").get(f"/documents/{did}/compare?from={vid}&to={revised['id']}")
    assert page.status_code == 200
    assert 'class="diff-changed"' in page.text and "2. Wash with WFI" in page.text
    # The document page offers the comparison with the version in force.
    doc_page = ui("qa").get(f"/documents/{did}?version={revised['id']}")
    assert f"/documents/{did}/compare?from={vid}&amp;to={revised['id']}" in doc_page.text
