"""Stage gates over HTTP: the API's plan → gate → evidence → submit → signed approvals, its
refusals with nothing changed, and the pages (projects, a project's SVG timeline, a gate with
its dialogs, the R&D KPI page with its definition)."""

from __future__ import annotations

import re
from typing import Any

from tests.lifecycle.rnd.eln_steps import counts, notebook, signed_entry
from tests.lifecycle.rnd.gates_steps import (
    PLANNED,
    PRODUCT,
    add_gate_people,
    open_with_evidence,
    pass_gate,
    planned_project,
    product,
    submit,
)
from tests.support import PASSWORD
from tests.web.conftest import UiClient

API = "/api/v1/rnd"


def _dates() -> dict[str, dict[str, str]]:
    return {p: {"start": str(a), "end": str(b)} for p, (a, b) in PLANNED.items()}


def test_a_project_is_planned_and_its_first_gate_passes_through_the_api(
    db: Any, people: Any, api: Any
) -> None:
    add_gate_people(db)
    product(db, people)
    book = notebook(db, people, code="API-GATES")
    signed_entry(db, people, book)
    rd, rd2, qa = api("rd"), api("rd2"), api("qa")
    planned = rd.post(
        f"{API}/projects/{book.project_id}/plan",
        json={"product_code": PRODUCT, "phases": _dates()},
    )
    assert planned.status_code == 201, planned.text
    assert (planned.json()["current_phase"], planned.json()["percent"]) == ("pre_formulation", 0)
    gate = rd2.post(f"{API}/projects/{book.project_id}/gates", json={"phase": "pre_formulation"})
    assert gate.status_code == 201, gate.text
    gate_id = gate.json()["id"]
    assert gate.json()["number"].startswith("GATE-")
    experiment = rd.get(f"{API}/projects/{book.project_id}").json()["experiments"][0]["number"]
    for deliverable in ("api_characterisation", "excipient_compatibility"):
        added = rd2.post(
            f"{API}/gates/{gate_id}/evidence",
            json={"deliverable": deliverable, "reference": experiment, "note": "signed entry"},
        )
        assert added.status_code == 201, added.text
    assert all(d["covered"] for d in added.json()["deliverables"])
    submitted = rd2.post(f"{API}/gates/{gate_id}/submit")
    assert submitted.status_code == 200, submitted.text
    version = submitted.json()["version"]
    assert submitted.json()["waiting_for"] == ["project_lead", "qa_rnd"]
    lead = rd.post(
        f"{API}/gates/{gate_id}/approve",
        json={"function": "project_lead", "password": PASSWORD, "expected_version": version},
    )
    assert lead.status_code == 200, lead.text
    done = qa.post(
        f"{API}/gates/{gate_id}/approve",
        json={
            "function": "qa_rnd",
            "password": PASSWORD,
            "expected_version": lead.json()["version"],
        },
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["waiting_for"]) == ("approved", [])
    progress = api("auditor").get(f"{API}/projects/{book.project_id}/gates")
    assert progress.status_code == 200
    assert (progress.json()["current_phase"], progress.json()["phases_passed"]) == (
        "formulation",
        1,
    )
    kpi = api("auditor").get(f"{API}/kpi/time-to-launch")
    assert kpi.status_code == 200
    assert kpi.json()["definition"].startswith("Time to launch: from the approval")
    (row,) = kpi.json()["projects"]
    assert (row["project_code"], row["launched"], row["days"]) == ("API-GATES", False, None)
    assert row["running_months"] is not None


def test_api_refusals_change_nothing(db: Any, people: Any, api: Any) -> None:
    project = planned_project(db, people)
    gate_id = open_with_evidence(db, people, project, "pre_formulation")
    rd, rd2, qa, auditor = api("rd"), api("rd2"), api("qa"), api("auditor")
    approve = {"function": "project_lead", "password": PASSWORD, "expected_version": 1}
    before = counts(db)
    refusals = [
        # not submitted yet
        (rd.post(f"{API}/gates/{gate_id}/approve", json=approve), 409),
        # a later phase: no skipping
        (rd2.post(f"{API}/projects/{project.project_id}/gates", json={"phase": "scale_up"}), 409),
        (auditor.post(f"{API}/gates/{gate_id}/submit"), 403),
        (
            rd2.post(
                f"{API}/gates/{gate_id}/evidence",
                json={"deliverable": "api_characterisation", "reference": "EXP-1900-0009"},
            ),
            422,
        ),
        (
            rd.post(
                f"{API}/projects/{project.project_id}/plan",
                json={"product_code": PRODUCT, "phases": _dates()},
            ),
            409,
        ),
        (rd.post(f"{API}/gates/{gate_id}/approve", json={"function": "project_lead"}), 422),
    ]
    for response, status in refusals:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert counts(db) == before

    submit(db, people, gate_id, who="rd")  # the lead submits: he may not approve it
    before = counts(db)
    version = rd.get(f"{API}/gates/{gate_id}").json()["version"]
    for response, status in [
        (
            rd.post(
                f"{API}/gates/{gate_id}/approve", json={**approve, "expected_version": version}
            ),
            403,
        ),
        (
            qa.post(
                f"{API}/gates/{gate_id}/approve",
                json={"function": "qa_rnd", "password": PASSWORD, "expected_version": version + 5},
            ),
            409,
        ),
        (rd2.patch(f"{API}/gates/{gate_id}", json={"summary": "late edit"}), 409),
    ]:
        assert response.status_code == status, response.text
    assert counts(db) == before


# --- pages ------------------------------------------------------------------------------------


def _ui(app: Any, username: str) -> UiClient:
    client = UiClient(app)
    assert client.login(username).status_code == 303
    return client


def test_the_pages_show_the_timeline_the_gate_and_the_kpi_with_its_definition(
    db: Any, people: Any, app: Any
) -> None:
    project = planned_project(db, people)
    first = pass_gate(db, people, project, "pre_formulation")
    second = open_with_evidence(db, people, project, "formulation")
    submit(db, people, second)

    auditor = _ui(app, "auditor")
    home = auditor.get("/rnd/gates")
    assert home.status_code == 200
    assert 'data-project="FORM-IBU"' in home.text and "1 / 6" in home.text

    page = auditor.get(f"/rnd/projects/{project.project_id}/gates")
    assert page.status_code == 200
    assert page.text.count('class="planned"') == 6  # every phase planned
    assert page.text.count('class="actual passed"') == 1
    assert page.text.count('class="actual running"') == 1
    assert 'class="gate"' in page.text and 'class="today"' in page.text
    assert "months since the first gate" in page.text

    gate = _ui(app, "qa").get(f"/rnd/gates/{second}")
    assert gate.status_code == 200
    assert 'data-open-dialog="dialog-approve-qa_rnd"' in gate.text
    assert 'data-deliverable="formulation_risk"' in gate.text

    qa = _ui(app, "qa")
    reviewed = re.search(
        r'name="expected_version" value="(\d+)"', qa.get(f"/rnd/gates/{second}").text
    )
    assert reviewed is not None
    signed = qa.post(
        f"/rnd/gates/{second}/approve",
        {"function": "qa_rnd", "password": PASSWORD, "expected_version": reviewed.group(1)},
        referer=f"/rnd/gates/{second}",
    )
    assert signed.status_code == 303, signed.text
    assert "Approved by Quentin Quality" in qa.follow(signed).text

    # The submitter's attempt is refused, back on the page with the reason.
    rd2 = _ui(app, "rd2")
    rd2.get(f"/rnd/gates/{first}")
    refused = rd2.post(
        f"/rnd/gates/{first}/evidence",
        {"deliverable": "api_characterisation", "reference": project.experiment},
        referer=f"/rnd/gates/{first}",
    )
    assert refused.status_code == 303
    assert "never changes" in rd2.follow(refused).text

    kpi = auditor.get("/rnd/kpi")
    assert kpi.status_code == 200
    assert "Time to launch: from the approval of a project" in kpi.text
    assert 'data-project="FORM-IBU"' in kpi.text and "<svg" in kpi.text
