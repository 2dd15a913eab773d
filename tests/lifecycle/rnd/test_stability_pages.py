"""The study page with its shelf-life charts, the results form (misfits end in the quarantine
panel), the approval through the kernel's signed transition, and the JSON API."""

from __future__ import annotations

import re
from typing import Any

from tests.lifecycle.rnd.stability_steps import (
    approved_study,
    assay_results,
    counts,
    record,
    write_protocol,
)
from tests.support import PASSWORD, browser_login

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.stability import evaluation, service


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _signed_in(api: Any, username: str, study_id: int) -> tuple[Any, str]:
    """A browser signed in as ``username`` on the study's page, and the page's form token."""
    browser = api()
    assert browser_login(browser.client, username).status_code == 303
    page = browser.client.get(f"/rnd/stability/{study_id}")
    assert page.status_code == 200, page.text
    return browser.client, _token(page.text)


def test_the_study_page_shows_the_shelf_life_chart_and_estimate(
    db: Database, people: Any, api: Any
) -> None:
    study_id = approved_study(db, people)
    record(db, people, study_id, assay_results())
    with unit_of_work(db, write=False) as s:
        [assay] = [
            e
            for e in evaluation.evaluations(s, service.get_study(s, study_id), charts=False)
            if e.attribute == "ASSAY"
        ]
    assert assay.result is not None
    browser = api()
    assert browser_login(browser.client, "qa").status_code == 303
    page = browser.client.get(f"/rnd/stability/{study_id}")
    assert page.status_code == 200, page.text
    html = page.text
    # The chart inline, once per attribute at the long-term condition
    assert html.count("<svg xmlns:xlink=") == 2
    assert 'data-testid="chart-ASSAY-25C60RH"' in html
    expected = f"<strong>Shelf life {assay.result.shelf_life_months} months</strong>"
    assert expected in html
    assert f"Pooling: {assay.result.pooling.value.replace('_', ' ')}" in html
    assert "No estimate yet: no results to evaluate." in html  # impurity: none yet
    assert "STB-2026-0001/25C60RH/T6/S2601" in html


def test_results_entered_on_the_page_and_a_misfit_shown_in_quarantine(
    db: Database, people: Any, api: Any
) -> None:
    study_id = approved_study(db, people)
    client, token = _signed_in(api, "qc", study_id)
    response = client.post(
        f"/rnd/stability/{study_id}/results",
        data={
            "csrf_token": token,
            "results": "S2601; 25C60RH; 0; ASSAY; 100.2\nS7777; 25C60RH; 3; ASSAY; 99.1\n",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    after = client.get(f"/rnd/stability/{study_id}").text
    assert "Quarantined results (1)" in after
    assert "batch &#39;S7777&#39; is not on STB-2026-0001 (S2601, S2602, S2603)" in after
    assert "Results (1)" in after


def test_a_results_form_that_is_not_one_changes_nothing(
    db: Database, people: Any, api: Any
) -> None:
    study_id = approved_study(db, people)
    client, token = _signed_in(api, "qc", study_id)
    before = counts(db)
    response = client.post(
        f"/rnd/stability/{study_id}/results",
        data={"csrf_token": token, "results": "S2601; 25C60RH; three; ASSAY; 100.2"},
        follow_redirects=False,
    )
    assert response.status_code in (303, 400, 422)
    assert counts(db) == before


def test_qa_approves_the_protocol_on_its_page_with_a_signature(
    db: Database, people: Any, api: Any
) -> None:
    study_id = write_protocol(db, people)
    client, token = _signed_in(api, "qa", study_id)
    assert 'data-transition="approve"' in client.get(f"/rnd/stability/{study_id}").text
    response = client.post(
        f"/records/stability_study/{study_id}/transitions/approve",
        data={"csrf_token": token, "password": PASSWORD, "expected_version": "1"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    with unit_of_work(db, write=False) as s:
        assert service.get_study(s, study_id).status == "approved"
        assert len(service.pulls_of(s, study_id)) == 10


def test_the_pages_and_the_api_are_closed_to_those_without_stability_read(
    db: Database, people: Any, api: Any
) -> None:
    study_id = approved_study(db, people)
    browser = api()
    assert browser_login(browser.client, "pv").status_code == 303
    assert browser.client.get(f"/rnd/stability/{study_id}").status_code == 403
    assert api("pv").get("/api/v1/rnd/stability/studies").status_code == 403


def test_the_api_records_results_and_gives_the_shelf_life_contract(
    db: Database, people: Any, api: Any
) -> None:
    study_id = approved_study(db, people)
    qc = api("qc")
    body = {
        "results": [
            {
                "batch": r.batch,
                "condition": r.condition,
                "months": r.months,
                "attribute": r.attribute,
                "value": r.value,
            }
            for r in assay_results()
        ]
        + [
            {
                "batch": "S2601",
                "condition": "25C60RH",
                "months": 4,
                "attribute": "ASSAY",
                "value": 1,
            }
        ]
    }
    response = qc.post(f"/api/v1/rnd/stability/studies/{study_id}/results", json=body)
    assert response.status_code == 200, response.text
    recorded = response.json()
    assert len(recorded["stored"]) == 21
    assert [q["reason"][:33] for q in recorded["quarantined"]] == [
        "time point 4 months is not schedu"
    ]
    estimates = api("qa").get(f"/api/v1/rnd/stability/studies/{study_id}/shelf-life").json()
    by_attribute = {e["attribute"]: e for e in estimates}
    assay = by_attribute["ASSAY"]["estimate"]
    assert set(assay) >= {"shelf_life_months", "pooling", "limiting_batch", "batches"}
    assert set(assay["batches"]) == {"S2601", "S2602", "S2603"}
    assert by_attribute["IMP-A"] == {
        "attribute": "IMP-A",
        "condition": "25C60RH",
        "estimate": None,
        "refused": "no results to evaluate",
    }


def test_a_pull_task_opens_its_study(db: Database, people: Any, api: Any) -> None:
    from pharmaqms.kernel.http.pages import record_url_by_id

    study_id = approved_study(db, people)
    with unit_of_work(db, write=False) as s:
        pull = service.pulls_of(s, study_id)[0]
        url = record_url_by_id(s, "stability_pull", pull.id)
    browser = api()
    assert browser_login(browser.client, "qc").status_code == 303
    response = browser.client.get(url, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/rnd/stability/{study_id}#stability-pulls"
