"""The regulations register on the web: the register page with coverage bars, a regulation's
page with uncovered requirements flagged and the change control opened from it, the
traceability view, and the read-only API."""

from __future__ import annotations

from typing import Any

import pytest
from tests.compliance.steps import register_file, regulation, snapshot
from tests.web.conftest import UiClient

from pharmaqms.compliance import fileformat, service
from pharmaqms.kernel.uow import unit_of_work

API = "/api/v1/compliance/regulations"


@pytest.fixture
def ui(app: Any) -> Any:
    """``ui("qa")`` → a page client logged in through the form."""

    def make(username: str) -> UiClient:
        client = UiClient(app)
        assert client.login(username).status_code == 303
        return client

    return make


def _load(db: Any, people: Any) -> int:
    entries = fileformat.parse_register(register_file(regulation()))
    with unit_of_work(db) as s:
        service.import_register(s, actor=people.qa, entries=entries, source="test")
        found = service.current(s, "TEST 1")
        assert found is not None
        return found.id


def test_the_api_lists_the_register_and_one_regulation(db, people, api) -> None:  # type: ignore[no-untyped-def]
    reg_id = _load(db, people)
    reader = api("auditor")
    listed = reader.get(API)
    assert listed.status_code == 200, listed.text
    (row,) = listed.json()
    assert (row["code"], row["requirements_count"], row["covered_count"]) == ("TEST 1", 3, 1)
    assert row["coverage_pct"] == 33.3 and row["requirements"] is None
    one = reader.get(f"{API}/{reg_id}").json()
    assert [(r["clause"], r["covered"]) for r in one["requirements"]] == [
        ("1", False),
        ("2", True),
        ("3", False),
    ]
    assert one["requirements"][1]["controls"] == [
        {"kind": "feature", "reference": "signatures", "note": ""}
    ]
    missing = reader.get(f"{API}/{reg_id + 1000}")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert api().get(API).status_code == 401


def test_the_pages_show_coverage_and_flag_uncovered_requirements(db, people, ui) -> None:  # type: ignore[no-untyped-def]
    reg_id = _load(db, people)
    reader = ui("auditor")
    page = reader.get("/compliance/regulations")
    assert page.status_code == 200
    assert 'data-code="TEST 1"' in page.text and 'aria-label="33.3 % covered"' in page.text
    detail = reader.get(f"/compliance/regulations/{reg_id}")
    assert detail.status_code == 200
    assert detail.text.count('class="uncovered"') == 2
    assert 'id="uncovered">2<' in detail.text
    assert "Open a change control" not in detail.text  # an inspector reads, QA acts
    trace = reader.get("/compliance/traceability")
    assert trace.status_code == 200
    assert trace.text.count('class="uncovered"') == 2 and "<code>signatures</code>" in trace.text


def test_qa_opens_a_change_control_from_the_regulation_page(db, people, ui) -> None:  # type: ignore[no-untyped-def]
    reg_id = _load(db, people)
    url = f"/compliance/regulations/{reg_id}"
    operator, qa = ui("operator"), ui("qa")
    operator.get(url)
    assert "Open a change control" in qa.get(url).text
    before = snapshot(db)
    refused = operator.post(f"{url}/change", {"title": "Update SOP"}, referer=url)
    assert refused.status_code in (303, 403)
    assert snapshot(db) == before
    empty = qa.post(f"{url}/change", {"title": " "}, referer=url)
    assert empty.status_code in (303, 422)
    assert snapshot(db) == before
    done = qa.post(f"{url}/change", {"title": "Update SOP"}, referer=url)
    page = qa.follow(done)
    assert "requested from this regulation" in page.text
    with unit_of_work(db, write=False) as s:
        (link,) = service.led_to(s, reg_id)
    assert link.record_type == "change_request" and link.label in page.text


def test_the_impact_task_opens_the_new_edition_from_qas_home_page(db, people, ui) -> None:  # type: ignore[no-untyped-def]
    old_id = _load(db, people)
    entries = fileformat.parse_register(register_file(regulation(edition="2024")))
    with unit_of_work(db) as s:
        outcome = service.import_register(s, actor=people.qa, entries=entries, source="test")
        new = service.current(s, "TEST 1")
        assert new is not None and len(outcome.impact_tasks) == 1
        new_id = new.id
    qa = ui("qa")
    home = qa.get("/")
    assert f'href="/compliance/regulations/{new_id}"' in home.text
    page = qa.get(f"/compliance/regulations/{new_id}")
    assert 'id="changes-from-previous"' in page.text
    assert f'href="/compliance/regulations/{old_id}"' in page.text
    old_page = qa.get(f"/compliance/regulations/{old_id}")
    assert "superseded" in old_page.text and f"/compliance/regulations/{new_id}" in old_page.text
