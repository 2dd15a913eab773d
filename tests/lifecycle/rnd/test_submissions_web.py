"""Submission documents over HTTP: the register page and the form that generates, the document
page with its frozen tables, the review and approval through the pages (the author sees why
they may not sign and gets no form), the API from generation to the approved PDF, and its
refusals as problems that change nothing."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sqlalchemy import select
from tests.lifecycle.rnd.gates_steps import add_gate_people
from tests.lifecycle.rnd.stability_steps import PRODUCT, approved_study, assay_results, record
from tests.lifecycle.rnd.submission_steps import counts, text_of
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work

API = "/api/v1/rnd/submissions"


def _data(db: Any, people: Any) -> None:
    add_gate_people(db)
    record(db, people, approved_study(db, people), assay_results())


def _version(page: str) -> str:
    found = re.search(r'name="expected_version" value="(\d+)"', page)
    assert found, page
    return found.group(1)


def test_the_pages_carry_a_document_from_generation_to_approval(
    app: Any, db: Any, people: Any
) -> None:
    _data(db, people)
    rd = UiClient(app)
    rd.login("rd")
    register = rd.get("/rnd/submissions")
    assert register.status_code == 200, register.text
    assert 'data-testid="submission-generate"' in register.text
    before = counts(db)
    refused = rd.post(
        "/rnd/submissions",
        {"kind": "batch_analyses", "product": "NO-SUCH", "authority": "FDA"},
        referer="/rnd/submissions",
    )
    assert refused.status_code == 303
    assert "no product &#39;NO-SUCH&#39;" in rd.follow(refused).text
    assert counts(db) == before
    page = rd.follow(
        rd.post(
            "/rnd/submissions",
            {"kind": "stability_summary", "product": PRODUCT, "authority": "FDA"},
        )
    )
    assert page.status_code == 200, page.text
    assert "U.S. Food and Drug Administration (FDA)" in page.text
    assert "<td>S2602</td><td>100.1</td><td>99.8</td>" in page.text
    assert 'data-testid="submission-review-blocked"' in page.text  # the author
    assert 'data-testid="submission-review-form"' not in page.text
    base = re.search(r'href="(/rnd/submissions/\d+)/pdf"', page.text)
    assert base
    url = base.group(1)

    ra = UiClient(app)
    ra.login("ra")
    page = ra.get(url)
    page = ra.follow(
        ra.post(f"{url}/review", {"password": PASSWORD, "expected_version": _version(page.text)})
    )
    assert 'data-status="reviewed"' in page.text
    assert "Reviewed by Regina Regulatory (ra)" in page.text

    qa = UiClient(app)
    qa.login("qa")
    page = qa.get(url)
    page = qa.follow(
        qa.post(f"{url}/approve", {"password": PASSWORD, "expected_version": _version(page.text)})
    )
    assert 'data-status="approved"' in page.text
    sha = re.search(r'data-testid="approved-sha">([0-9a-f]{64})<', page.text)
    assert sha
    pdf = qa.get(f"{url}/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == sha.group(1)
    text = text_of(pdf.content)
    assert "Reviewed by Regina Regulatory (ra)" in text and "Approved by Quentin Quality" in text
    listed = qa.get("/rnd/submissions?authority=FDA")
    assert url in listed.text
    assert url not in qa.get("/rnd/submissions?authority=EMA").text


def test_the_api_generates_reviews_approves_and_refuses_without_change(
    api: Any, db: Any, people: Any
) -> None:
    _data(db, people)
    rd, ra, qa, qc = api("rd"), api("ra"), api("qa"), api("qc")
    before = counts(db)
    body = {"kind": "stability_summary", "product": PRODUCT, "authority": "EMA"}
    for who, sent, status, words in (
        (rd, body | {"product": "NO-SUCH"}, 422, "no product"),
        (rd, body | {"kind": "batch_analyses", "product": "PARA-500-TAB"}, 201, ""),
        (qa, body, 403, "generate submission documents"),
        (qc, body, 403, "generate submission documents"),
        (rd, body | {"authority": "PMDA"}, 422, "authority"),
    ):
        answer = who.post(API, json=sent)
        assert answer.status_code == status, answer.text
        assert words in answer.text
        if status == 201:  # the stability batches' time-0 results make a batch analysis
            before = counts(db)
    assert counts(db) == before
    made = rd.post(API, json=body)
    assert made.status_code == 201, made.text
    document = made.json()
    assert document["ctd_section"] == "3.2.P.8" and document["status"] == "draft"
    url = f"{API}/{document['id']}"
    before = counts(db)
    draft = ra.get(f"{url}/pdf")
    assert hashlib.sha256(draft.content).hexdigest() == document["draft_pdf_sha256"]
    # the hand-out is an export in the trail, nothing else changes
    assert counts(db) == before | {"audit": before["audit"] + 1}
    with unit_of_work(db, write=False) as s:
        last = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.record_type == "rnd_submission")
            .order_by(AuditEntry.seq.desc())
        ).first()
        assert last is not None and last.action == "export"
        assert document["draft_pdf_sha256"] in str(last.changes)
    assert "DRAFT - NOT APPROVED" in text_of(draft.content)
    before = counts(db)
    own = rd.post(f"{url}/review", json={"password": PASSWORD, "expected_version": 1})
    assert own.status_code == 403 and "may not" in own.json()["detail"]
    assert counts(db) == before
    reviewed = ra.post(f"{url}/review", json={"password": PASSWORD, "expected_version": 1})
    assert reviewed.status_code == 200, reviewed.text
    returned = ra.post(f"{url}/return", json={"reason": "regenerate after the 24 M pull"})
    assert returned.status_code == 200 and returned.json()["status"] == "draft"
    again = qa.post(
        f"{url}/review", json={"password": PASSWORD, "expected_version": returned.json()["version"]}
    )
    assert again.status_code == 200, again.text
    before = counts(db)
    reviewer = qa.post(
        f"{url}/approve", json={"password": PASSWORD, "expected_version": again.json()["version"]}
    )
    assert reviewer.status_code == 403, reviewer.text  # QA reviewed this round: not the approver
    assert counts(db) == before
    listed = qa.get(API, params={"product": PRODUCT})
    assert [d["kind"] for d in listed.json()] == ["batch_analyses", "stability_summary"]
