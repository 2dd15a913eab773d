"""Document authoring: templates per type, Markdown content, source files kept byte for byte,
named reviewers (parallel and in sequence) with comments before approval, and two versions
side by side. Every refusal leaves every counted row as it was."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select
from tests.quality.document_steps import name_job_role
from tests.quality.quality_steps import user_id
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature, Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents.markdown import render_markdown
from pharmaqms.quality.documents.models import DocumentAttachment, DocumentReview, DocumentVersion

SOP_BODY = "# Purpose\n\nClean the **tablet press** after each batch.\n\n1. Strip\n2. Wash\n"
COUNTED = {
    "audit": AuditEntry,
    "signatures": ElectronicSignature,
    "tasks": Task,
    "versions": DocumentVersion,
    "attachments": DocumentAttachment,
    "reviews": DocumentReview,
}
DOCX = b"PK\x03\x04" + bytes(range(256)) * 40  # a zip's signature, then every byte value


def counts(db: Database) -> dict[str, int]:
    with unit_of_work(db, write=False) as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in COUNTED.items()
        }


def draft(author: Any, body: str = SOP_BODY, title: str = "Cleaning of the press") -> Any:
    created = author.post(
        "/api/v1/documents", json={"doc_type": "sop", "title": title, "body": body}
    )
    assert created.status_code == 201, created.text
    return created.json()


def step(client: Any, vid: int, name: str, **body: Any) -> Any:
    if "password" in body:
        body["expected_version"] = reviewed_version(client, "document_version", vid)
    return client.post(f"/api/v1/records/document_version/{vid}/transitions/{name}", json=body)


# --- templates and Markdown -----------------------------------------------------------------


def test_an_empty_document_starts_from_its_types_template_and_is_not_submitted_unchanged(
    api: Any, db: Database
) -> None:
    author = api("qc")
    template = author.get("/api/v1/document-templates/sop").json()["body"]
    assert "# Purpose" in template and "# Responsibilities" in template
    version = draft(author, body="")
    assert version["body"] == template
    before = counts(db)

    refused = step(author, version["id"], "submit")

    assert refused.status_code == 409
    assert "still the template" in refused.text
    assert counts(db) == before
    spec = author.get("/api/v1/document-templates/specification").json()["body"]
    assert "Acceptance criterion" in spec
    assert author.get("/api/v1/document-templates/memo").status_code == 422


def test_markdown_is_rendered_with_no_markup_of_its_own() -> None:
    html = str(
        render_markdown("# Purpose\n\n**bold** <script>alert(1)</script> [x](javascript:alert(1))")
    )
    assert "<h1>Purpose</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    table = str(render_markdown("| a | b |\n| --- | --- |\n| 1 | 2 |"))
    assert "<table>" in table and "<td>1</td>" in table


# --- attachments --------------------------------------------------------------------------


def test_a_word_source_is_kept_byte_for_byte_and_covered_by_the_approval(
    api: Any, db: Database
) -> None:
    author, approver = api("qc"), api("qa")
    version = draft(author)
    vid = version["id"]
    attached = author.post(
        f"/api/v1/document-versions/{vid}/attachments",
        files={"file": ("SOP press cleaning.docx", DOCX, "application/octet-stream")},
    )
    assert attached.status_code == 201, attached.text
    info = attached.json()
    assert info["sha256"] == hashlib.sha256(DOCX).hexdigest()
    assert info["media_type"].endswith("wordprocessingml.document")

    fetched = approver.get(f"/api/v1/document-attachments/{info['id']}")
    assert fetched.content == DOCX
    assert fetched.headers["x-content-sha256"] == info["sha256"]

    assert step(author, vid, "submit").status_code == 200
    assert step(approver, vid, "approve", password=PASSWORD).status_code == 200
    shown = approver.get(f"/api/v1/document-versions/{vid}").json()
    assert shown["attachments_digest"]
    assert shown["signatures"][0]["valid_for_current_content"] is True

    # A revision starts with the same sources.
    name_job_role(approver, version["document_id"])
    assert step(approver, vid, "make_effective").status_code == 200
    revised = author.post(
        f"/api/v1/documents/{version['document_id']}/revisions",
        json={"change_summary": "step 2 clarified"},
    ).json()
    assert [a["sha256"] for a in revised["attachments"]] == [info["sha256"]]


def test_attachments_that_are_not_sources_or_not_on_a_draft_are_refused(
    api: Any, db: Database
) -> None:
    author, approver = api("qc"), api("qa")
    vid = draft(author)["id"]
    before = counts(db)
    for name, content, expected in (
        ("macro.exe", b"MZ\x90\x00", "not kept as a document source"),
        ("renamed.pdf", b"PK\x03\x04 not a pdf", "not a .pdf file"),
        ("empty.docx", b"", "is empty"),
    ):
        refused = author.post(
            f"/api/v1/document-versions/{vid}/attachments", files={"file": (name, content)}
        )
        assert refused.status_code == 422, name
        assert expected in refused.json()["detail"]
    assert counts(db) == before
    # Someone without the author's permission attaches nothing (the refusal itself is
    # audited as a security event, so only the attachments are counted here).
    assert (
        api("auditor")
        .post(f"/api/v1/document-versions/{vid}/attachments", files={"file": ("a.pdf", b"%PDF-1")})
        .status_code
        == 403
    )
    assert counts(db)["attachments"] == before["attachments"]

    step(author, vid, "submit")
    before = counts(db)
    late = author.post(
        f"/api/v1/document-versions/{vid}/attachments", files={"file": ("late.pdf", b"%PDF-1.7")}
    )
    assert late.status_code == 409 and "attached to a draft" in late.json()["detail"]
    assert counts(db) == before
    assert approver.get("/api/v1/document-attachments/99999").status_code == 404


# --- named reviewers ----------------------------------------------------------------------


def test_reviewers_in_sequence_comment_in_turn_before_the_approval(api: Any, db: Database) -> None:
    author, approver = api("qc"), api("qa")
    supervisor, rd, qa2 = api("supervisor"), api("rd"), api("qa2")
    version = draft(author)
    vid = version["id"]
    named = author.post(
        f"/api/v1/document-versions/{vid}/reviewers",
        json={
            "reviewer_ids": [user_id(db, "supervisor"), user_id(db, "rd")],
            "in_sequence": True,
        },
    )
    assert named.status_code == 200, named.text
    assert step(author, vid, "submit").status_code == 200

    # The approval waits for both reviews; the second reviewer waits for the first.
    before = counts(db)
    early = step(approver, vid, "approve", password=PASSWORD)
    assert early.status_code == 409
    assert "Sam Supervisor" in early.text and "Rita Research" in early.text
    out_of_turn = rd.post(f"/api/v1/document-versions/{vid}/reviews", json={"comments": "ok"})
    assert out_of_turn.status_code == 409 and "reviewer 1" in out_of_turn.json()["detail"]
    stranger = qa2.post(f"/api/v1/document-versions/{vid}/reviews", json={"comments": "fine"})
    assert stranger.status_code == 403
    assert counts(db) == before

    first = supervisor.post(
        f"/api/v1/document-versions/{vid}/reviews",
        json={"comments": "Step 2: name the detergent."},
    )
    assert first.status_code == 201, first.text
    again = supervisor.post(f"/api/v1/document-versions/{vid}/reviews", json={"comments": "x"})
    assert again.status_code == 409
    second = rd.post(f"/api/v1/document-versions/{vid}/reviews", json={"comments": "No comments."})
    assert second.status_code == 201
    assert step(approver, vid, "approve", password=PASSWORD).status_code == 200

    shown = approver.get(f"/api/v1/document-versions/{vid}").json()
    assert [(r["position"], r["outcome"], r["comments"]) for r in shown["reviews"]] == [
        (1, "reviewed", "Step 2: name the detergent."),
        (2, "reviewed", "No comments."),
    ]
    assert all(r["reviewed_content_hash"] == shown["signed_content_hash"] for r in shown["reviews"])


def test_parallel_reviewers_review_at_once_and_a_new_round_starts_after_a_return(
    api: Any, db: Database
) -> None:
    author, approver = api("qc"), api("qa")
    supervisor, rd = api("supervisor"), api("rd")
    vid = draft(author)["id"]
    author.post(
        f"/api/v1/document-versions/{vid}/reviewers",
        json={"reviewer_ids": [user_id(db, "supervisor"), user_id(db, "rd")]},
    )
    step(author, vid, "submit")
    # The second reviewer need not wait in parallel.
    assert (
        rd.post(f"/api/v1/document-versions/{vid}/reviews", json={"comments": "ok"}).status_code
        == 201
    )
    assert (
        step(author, vid, "return_to_draft", reason="supervisor asks for a rework").status_code
        == 200
    )
    step(author, vid, "submit")
    # Round 2: the earlier review does not count.
    refused = step(approver, vid, "approve", password=PASSWORD)
    assert refused.status_code == 409 and "Rita Research" in refused.text
    for reviewer in (supervisor, rd):
        assert (
            reviewer.post(
                f"/api/v1/document-versions/{vid}/reviews", json={"comments": "ok"}
            ).status_code
            == 201
        )
    assert step(approver, vid, "approve", password=PASSWORD).status_code == 200
    rounds = [
        r["round"] for r in approver.get(f"/api/v1/document-versions/{vid}").json()["reviews"]
    ]
    assert rounds == [1, 1, 2, 2]


def test_naming_reviewers_is_refused_for_the_author_a_duplicate_or_outside_a_draft(
    api: Any, db: Database
) -> None:
    author = api("qc")
    vid = draft(author)["id"]
    before = counts(db)
    for ids, expected in (
        ([user_id(db, "qc")], "author of the version does not review it"),
        ([user_id(db, "rd"), user_id(db, "rd")], "named twice"),
        ([99999], "there is no person"),
        ([user_id(db, "auditor")], "does not review documents"),
    ):
        refused = author.post(
            f"/api/v1/document-versions/{vid}/reviewers", json={"reviewer_ids": ids}
        )
        assert refused.status_code in (422, 404), refused.text
        assert expected in refused.json()["detail"]
    step(author, vid, "submit")
    after_submit = counts(db)
    late = author.post(
        f"/api/v1/document-versions/{vid}/reviewers", json={"reviewer_ids": [user_id(db, "rd")]}
    )
    assert late.status_code == 409
    assert counts(db) == after_submit
    assert after_submit["audit"] > before["audit"]  # only the submission wrote


# --- comparison ---------------------------------------------------------------------------


def test_two_versions_side_by_side(api: Any, db: Database) -> None:
    author, approver = api("qc"), api("qa")
    version = draft(author)
    vid, did = version["id"], version["document_id"]
    step(author, vid, "submit")
    step(approver, vid, "approve", password=PASSWORD)
    name_job_role(approver, did)
    step(approver, vid, "make_effective")
    revised = author.post(
        f"/api/v1/documents/{did}/revisions", json={"change_summary": "wash with WFI"}
    ).json()
    author.patch(
        f"/api/v1/document-versions/{revised['id']}",
        json={
            "expected_version": revised["version"],
            "body": SOP_BODY.replace("2. Wash", "2. Wash with WFI") + "3. Dry\n",
        },
    )
    compared = approver.get(f"/api/v1/documents/{did}/compare?from={vid}&to={revised['id']}")
    assert compared.status_code == 200, compared.text
    body = compared.json()
    assert (body["from_version"], body["to_version"], body["changed_lines"]) == ("1.0", "1.1", 2)
    changed = [(r["kind"], r["left"], r["right"]) for r in body["rows"] if r["kind"] != "same"]
    assert changed == [("changed", "2. Wash", "2. Wash with WFI"), ("added", "", "3. Dry")]
    other = draft(author, title="Another SOP")
    assert (
        approver.get(f"/api/v1/documents/{did}/compare?from={vid}&to={other['id']}").status_code
        == 422
    )
