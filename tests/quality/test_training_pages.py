"""Training and periodic review pages: the matrix with coloured cells, my training with the
signature dialog and the quiz, QA's job role and governing pages, and the periodic review
register with its signed conclusion."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.quality.document_steps import effective_document
from tests.support import PASSWORD
from tests.web.conftest import UiClient
from tests.web.support import flash_of

from pharmaqms.kernel.auth import system_actor
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents.periodic_review import open_due_periodic_reviews
from pharmaqms.quality.training.models import QuizAttempt


@pytest.fixture
def ui(app: Any) -> Any:
    def make(username: str) -> UiClient:
        client = UiClient(app)
        response = client.login(username)
        assert response.headers["location"] == "/", response.text
        return client

    return make


def ids(api: Any) -> dict[str, int]:
    return {u["username"]: u["id"] for u in api("admin").get("/api/v1/users").json()}


def role_with(qa: Any, *document_ids: int, holders: list[int]) -> dict[str, Any]:
    role = qa.post("/api/v1/training/job-roles", json={"name": "Tablet press operator"}).json()
    curriculum = qa.post(
        f"/api/v1/training/job-roles/{role['id']}/curricula", json={"name": "Compression"}
    ).json()
    for document_id in document_ids:
        qa.post(
            f"/api/v1/training/curricula/{curriculum['id']}/items",
            json={"document_id": document_id},
        )
    for user_id in holders:
        qa.post(f"/api/v1/training/job-roles/{role['id']}/holders", json={"user_id": user_id})
    result: dict[str, Any] = role
    return result


def test_the_matrix_colours_each_cell_and_shows_overdue_training_in_red(
    frozen_clock, db, api, ui
) -> None:  # type: ignore[no-untyped-def]
    qa, operator = api("qa"), api("operator")
    cleaning = effective_document(api("qc"), qa, "Cleaning of the tablet press")
    clearance = effective_document(api("qc"), qa, "Line clearance")
    people = ids(api)
    role_with(
        qa, cleaning["id"], clearance["id"], holders=[people["operator"], people["supervisor"]]
    )
    [first, _second] = operator.get("/api/v1/training/my").json()
    operator.post(f"/api/v1/training/requirements/{first['id']}/open")
    operator.post(
        f"/api/v1/training/requirements/{first['id']}/complete", json={"password": PASSWORD}
    )
    frozen_clock.advance(days=15)

    page = ui("qa").get("/training/matrix").text

    cells = re.findall(r'<td class="cell cell-(\w+)" data-standing="(\w+)"', page)
    assert sorted(s for s, _ in cells) == ["current", "overdue", "overdue", "overdue"]
    assert all(css == standing for css, standing in cells)
    # the colours come from the training stylesheet (pages carry no inline style)
    assert '<link rel="stylesheet" href="/static/training.css">' in page
    stylesheet = ui("qa").get("/static/training.css").text
    assert ".cell-overdue { background: var(--negative); color: #fff; }" in stylesheet
    assert 'data-testid="count-overdue">overdue: 3</li>' in page
    assert 'data-testid="count-current">current: 1</li>' in page
    assert f"{cleaning['number']} v1.0" in page and "Otto Operator" in page


def test_my_training_signs_read_and_understood_and_a_failed_quiz_is_shown(
    frozen_clock, db, api, ui
) -> None:  # type: ignore[no-untyped-def]
    qa = api("qa")
    sop = effective_document(api("qc"), qa, "Cleaning of the tablet press")
    role_with(qa, sop["id"], holders=[ids(api)["operator"]])
    qa.client.put(
        f"/api/v1/training/quizzes/{sop['id']}",
        headers=qa.headers,
        json={
            "pass_mark_percent": 100,
            "questions": [
                {"question": "Drying time?", "options": ["10 min", "30 min"], "answer": 1}
            ],
        },
    )
    client = ui("operator")
    # The document is opened to be read before anything can be signed.
    unopened = client.get("/training/my").text
    [to_read] = re.findall(r'href="/training/requirements/(\d+)">Open to read', unopened)
    assert "/complete" not in unopened
    reading = client.get(f"/training/requirements/{to_read}").text
    assert 'data-testid="training-document"' not in reading
    opened = client.follow(
        client.post(f"/training/requirements/{to_read}/open", referer="/training/my")
    ).text
    assert 'data-testid="training-document"' in opened
    assert "How the area is cleaned and cleared between batches." in opened
    assert f'data-open-dialog="sign-{to_read}"' in opened
    page = client.get("/training/my").text
    [requirement_id] = re.findall(r'action="/training/requirements/(\d+)/complete"', page)
    assert requirement_id == to_read
    assert 'data-testid="quiz"' in page and "Drying time?" in page
    assert 'value="1">30 min</option>' in page
    url = f"/training/requirements/{requirement_id}/complete"

    failed = client.post(url, {"password": PASSWORD, "answers": "0"}, referer="/training/my")

    assert failed.headers["location"] == "http://testserver/training/my"
    assert flash_of(client.follow(failed).text).startswith("0 of 1 answers correct (0 %)")
    with unit_of_work(db, write=False) as session:
        assert session.scalar(select(func.count()).select_from(QuizAttempt)) == 1

    signed = client.post(url, {"password": PASSWORD, "answers": "1"}, referer="/training/my")

    after = client.follow(signed).text
    assert flash_of(after) == f"{sop['number']} v1.0: read and understood, signed."
    assert "Nothing to read: your training is up to date." in after


def test_qa_defines_a_job_role_curriculum_and_holder_from_the_pages(
    frozen_clock, db, api, ui
) -> None:  # type: ignore[no-untyped-def]
    sop = effective_document(api("qc"), api("qa"), "Cleaning of the tablet press")
    client = ui("qa")
    client.get("/training/job-roles")

    created = client.post("/training/job-roles", {"name": "Tablet press operator"})
    role_url = created.headers["location"]
    client.get(role_url)
    client.post(f"{role_url}/curricula", {"name": "Compression"}, referer=role_url)
    page = client.get(role_url).text
    [curriculum_id] = re.findall(r'action="/training/curricula/(\d+)/items"', page)
    client.post(
        f"/training/curricula/{curriculum_id}/items",
        {"document_id": str(sop["id"]), "due_in_days": "14", "recurrence_months": "12"},
        referer=role_url,
    )
    assigned = client.post(
        f"{role_url}/holders", {"user_id": str(ids(api)["operator"])}, referer=role_url
    )

    assert flash_of(client.follow(assigned).text) == "Job role assigned; 1 training(s) assigned."
    page = client.get(role_url).text
    assert f"{sop['number']}</a> Cleaning of the tablet press" in page
    assert "<td>12 months</td>" in page
    assert "Otto Operator (operator)" in page
    refused = ui("operator").post("/training/job-roles", {"name": "Packer"}, referer="/")
    assert refused.status_code == 303
    # ("All staff" was named when the SOP came into force; no "Packer")
    assert [r["name"] for r in api("qa").get("/api/v1/training/job-roles").json()] == [
        "All staff",
        "Tablet press operator",
    ]


def test_qa_governs_a_step_from_the_governing_page(frozen_clock, db, api, ui) -> None:  # type: ignore[no-untyped-def]
    sop = effective_document(api("qc"), api("qa"), "Review and approval of documents")
    client = ui("qa")
    client.get("/training/governing")

    added = client.post(
        "/training/governing",
        {"step": "document_version.approve", "document_id": str(sop["id"]), "reason": "SOP"},
        referer="/training/governing",
    )

    page = client.follow(added).text
    assert flash_of(page) == "document_version.approve is now governed by the document."
    assert f"{sop['number']}</a> Review and approval of documents" in page


def test_the_periodic_review_register_and_a_signed_no_change_conclusion(
    frozen_clock, db, api, ui
) -> None:  # type: ignore[no-untyped-def]
    document = effective_document(api("qc"), api("qa"), "Gowning", review_period_months=1)
    frozen_clock.advance(days=2)
    with unit_of_work(db) as session:
        [review] = open_due_periodic_reviews(session, actor=system_actor(session)).opened
        review_id, number = review.id, review.number
    client = ui("qa")

    register = client.get("/periodic-reviews?state=due").text
    page = client.get(f"/periodic-reviews/{review_id}").text
    concluded = client.post(
        f"/periodic-reviews/{review_id}/conclude",
        {"password": PASSWORD, "justification": "Checked against the process."},
        referer=f"/periodic-reviews/{review_id}",
    )

    assert f'<a href="/periodic-reviews/{review_id}">{number}</a>' in register
    assert f"{document['number']}</a> Gowning" in register
    assert 'data-open-dialog="conclude-' in page
    after = client.follow(concluded).text
    assert flash_of(after) == f"{number}: no change needed, signed."
    assert "Reviewed by Quentin Quality (qa) on 2026-03-04 09:00:00 UTC" in after
    assert client.get("/periodic-reviews?state=due").text.count('data-state="due"') == 0
