"""Annual product quality reviews over HTTP: the register page with its overdue flag, the
review page with every section and the chart, the whole workflow through the pages (QA
generates, writes and signs the conclusions; the QP approves), the API and its refusals as
problems that change nothing."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from tests.compliance.apqr_steps import PRODUCT, counts, pdf_text, small_data_set
from tests.compliance.test_apqr_workflow import SECTIONS
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.kernel import clock


@pytest.fixture
def made(db: Any, people: Any, frozen_clock: clock.FrozenClock) -> None:
    small_data_set(db, people)


def _row(page: str, year: int) -> str:
    found = re.search(rf'<tr data-product="{PRODUCT}" data-year="{year}"[^>]*>', page)
    assert found, page
    return found.group(0)


def test_the_pages_carry_a_review_from_generation_to_approval(
    app: Any, db: Any, made: None
) -> None:
    qa = UiClient(app)
    qa.login("qa")
    register = qa.get("/compliance/apqr")
    assert register.status_code == 200, register.text
    assert 'data-overdue="yes"' in _row(register.text, 2024)  # due 2025-03-31
    assert 'data-overdue="no"' in _row(register.text, 2025)  # due 2026-03-31
    assert 'data-testid="overdue"' in register.text

    before = counts(db)
    empty = qa.post(
        "/compliance/apqr/reviews", {"product": PRODUCT, "year": "2023"}, referer="/compliance/apqr"
    )
    assert empty.status_code == 303
    assert empty.headers["location"].endswith("/compliance/apqr")
    assert "no batches of APQRTAB were manufactured in 2023" in qa.follow(empty).text
    assert counts(db) == before

    page = qa.follow(qa.post("/compliance/apqr/reviews", {"product": PRODUCT, "year": "2025"}))
    assert page.status_code == 200, page.text
    for key in SECTIONS:
        assert f'data-section="{key}"' in page.text
    assert "no stability data" in page.text and 'data-testid="apqr-batch-chart"' in page.text
    url = re.search(r'href="(/compliance/apqr/reviews/\d+)/pdf"', page.text)
    assert url
    base = url.group(1)
    chart = qa.get(f"{base}/batches.svg")
    assert chart.headers["content-type"].startswith("image/svg+xml")
    # Twelve months of the review's year, one bar per month and status.
    assert all(f">2025-{m:02d}<" in chart.text for m in range(1, 13)), chart.text[:300]
    assert chart.text.count('id="bar-released"') == chart.text.count('id="bar-rejected"') == 12
    version = re.search(r'name="expected_version" value="(\d+)"', page.text)
    assert version
    saved = qa.post(
        f"{base}/conclusions",
        {
            "conclusions": "In control.",
            "actions": "none",
            "expected_version": version.group(1),
        },
    )
    page = qa.follow(saved)
    version = re.search(r'name="expected_version" value="(\d+)"', page.text)
    assert version and 'data-testid="apqr-conclude-form"' in page.text
    page = qa.follow(
        qa.post(f"{base}/conclude", {"password": PASSWORD, "expected_version": version.group(1)})
    )
    assert 'data-testid="apqr-status">concluded' in page.text
    # The author sees why they may not approve, and gets no form for it.
    assert 'data-testid="apqr-approve-blocked"' in page.text
    assert 'data-testid="apqr-approve-form"' not in page.text

    qp = UiClient(app)
    qp.login("qp")
    page = qp.get(base)
    version = re.search(r'name="expected_version" value="(\d+)"', page.text)
    assert version and 'data-testid="apqr-approve-form"' in page.text
    page = qp.follow(
        qp.post(f"{base}/approve", {"password": PASSWORD, "expected_version": version.group(1)})
    )
    assert 'data-testid="apqr-status">effective' in page.text
    sha = re.search(r'data-testid="pdf-sha">([0-9a-f]{64})<', page.text)
    assert sha
    pdf = qp.get(f"{base}/pdf")
    assert hashlib.sha256(pdf.content).hexdigest() == sha.group(1)
    assert "Approved by Petra Qualified" in pdf_text(pdf.content)
    register = qp.get("/compliance/apqr")
    assert 'data-state="effective" data-overdue="no"' in _row(register.text, 2025)


def test_the_api_generates_concludes_approves_and_refuses_without_change(
    api: Any, db: Any, made: None
) -> None:
    qa, qp, auditor = api("qa"), api("qp"), api("auditor")
    before = counts(db)
    for who, body, status, words in (
        (qa, {"product": PRODUCT, "year": 2023}, 422, "no batches"),
        (qp, {"product": PRODUCT, "year": 2025}, 403, "generate"),
        (auditor, {"product": PRODUCT, "year": 2025}, 403, "generate"),
        (qa, {"product": PRODUCT, "year": 2025, "extra": 1}, 422, "extra"),
    ):
        refused = who.post("/api/v1/compliance/apqr/reviews", json=body)
        assert refused.status_code == status, refused.text
        assert words in refused.text
    assert counts(db) == before

    made_ = qa.post("/api/v1/compliance/apqr/reviews", json={"product": PRODUCT, "year": 2025})
    assert made_.status_code == 201, made_.text
    review = made_.json()
    assert [s["key"] for s in review["figures"]["sections"]] == SECTIONS
    base = f"/api/v1/compliance/apqr/reviews/{review['id']}"
    draft = auditor.get(f"{base}/pdf")
    assert draft.status_code == 200 and "DRAFT - NOT APPROVED" in pdf_text(draft.content)
    written = qa.post(f"{base}/conclusions", json={"conclusions": "Fine.", "actions": "none"})
    assert written.status_code == 200, written.text
    signed = qa.post(
        f"{base}/conclude",
        json={"password": PASSWORD, "expected_version": written.json()["version"]},
    )
    assert signed.status_code == 200, signed.text
    before = counts(db)
    own = qa.post(
        f"{base}/approve", json={"password": PASSWORD, "expected_version": signed.json()["version"]}
    )
    assert own.status_code == 403 and "may not" in own.json()["detail"]
    edit = qa.post(f"{base}/conclusions", json={"conclusions": "Other.", "actions": "none"})
    assert edit.status_code == 409 and "new edition" in edit.json()["detail"]
    assert counts(db) == before
    approved = qp.post(
        f"{base}/approve", json={"password": PASSWORD, "expected_version": signed.json()["version"]}
    )
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "effective"
    assert [s["meaning"] for s in body["signatures"]] == ["Authored", "Approved"]
    pdf = auditor.get(body["pdf_url"])
    assert hashlib.sha256(pdf.content).hexdigest() == body["pdf_sha256"]
    due = {
        (r["product_code"], r["year"]): r
        for r in auditor.get("/api/v1/compliance/apqr/register").json()
    }
    assert due[(PRODUCT, 2025)]["state"] == "effective" and not due[(PRODUCT, 2025)]["overdue"]
    assert due[(PRODUCT, 2024)]["overdue"] and due[(PRODUCT, 2024)]["due_on"] == "2025-03-31"
    listed = auditor.get("/api/v1/compliance/apqr/reviews", params={"product": PRODUCT}).json()
    assert [r["number"] for r in listed] == [body["number"]]


def test_a_sign_off_a_site_adds_before_approval_is_signed_from_the_review_page(
    app: Any, db: Any, people: Any, made: None, frozen_clock: clock.FrozenClock
) -> None:
    from tests.compliance.apqr_steps import conclude, generate, review_state
    from tests.compliance.configuration_steps import sign_off_in_force

    review_id = generate(db, people)
    conclude(db, people, review_id)
    step = sign_off_in_force(
        db, people, frozen_clock, "apqr_review", "production_concurrence",
        label="Production concurs", before="approve", roles=["production_supervisor"],
    )  # fmt: skip
    base = f"/compliance/apqr/reviews/{review_id}"

    # the QP sees the approval held with its reason, and no form that would post nowhere
    qp = UiClient(app)
    qp.login("qp")
    page = qp.get(base).text
    assert 'data-testid="apqr-approve-form"' not in page
    assert "waits for the sign-off &#39;Production concurs&#39;" in page
    assert f"{base}/{step}" not in page
    # production sees the sign-off as a signed step posting to the generic transitions URL
    supervisor = UiClient(app)
    supervisor.login("supervisor")
    page = supervisor.get(base).text
    action = f"/records/apqr_review/{review_id}/transitions/{step}"
    assert f'action="{action}"' in page and f'data-open-dialog="dialog-{step}"' in page
    assert "Signature meaning: <strong>Reviewed</strong>" in page
    status, version, *_ = review_state(db, review_id)
    signed = supervisor.post(action, {"password": PASSWORD, "expected_version": str(version)})
    # back on the review's own page, the review still concluded
    assert signed.headers["location"] == base
    assert "Sign off: Production concurs done" in supervisor.follow(signed).text
    assert review_state(db, review_id)[0] == status == "concluded"
    page = qp.get(base).text
    assert 'data-testid="apqr-approve-form"' in page
