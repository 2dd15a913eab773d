"""The recipe pages: a recipe written through the form, approved on its page through the
kernel's signed transition, a transfer raised from the page (its change shows what keeps it
open), the drafts made from the page once the change is approved, the transfer on the project's
page, and the product's risk register."""

from __future__ import annotations

import re
from typing import Any

from tests.lifecycle.rnd.transfer_steps import (
    approved_recipe,
    change_in_implementation,
    counts,
    governing_sop,
    project_with_materials,
)
from tests.support import PASSWORD, browser_login

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.transfer import service
from pharmaqms.quality.risk import service as risk
from pharmaqms.quality.risk.service import Scores


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _signed_in(api: Any, username: str, url: str) -> tuple[Any, str]:
    browser = api()
    assert browser_login(browser.client, username).status_code == 303
    page = browser.client.get(url)
    assert page.status_code == 200, page.text
    return browser.client, _token(page.text)


FORM = {
    "title": "Ibuprofen 200 mg tablets",
    "batch_size": "100000",
    "batch_unit": "tablets",
    "formula": "M-IBU-API; 20; kg; 0.5\nM-IBU-MCC; 12.5; kg",
    "steps": (
        "Granulation; Wet massing; Granulate; 60; granulator; Wet-mass to the end point.\n"
        "Compression; Press; Compress; 240; tablet press; Compress to the target weight."
    ),
    "parameters": "1; impeller_speed; rpm; 100; 150\n2; compression_force; kN; 10; 14",
    "controls": "2; tablet_hardness; N; 80; 120",
    "attributes": "ASSAY; Assay; %; 95; 105; HPLC\nDISSOLUTION; Dissolution; %; 80;",
}


def test_a_recipe_is_written_on_the_page_and_approved_with_a_signature(
    db: Database, people: Any, api: Any
) -> None:
    project = project_with_materials(db, people)
    client, token = _signed_in(api, "rd", "/rnd/recipes")
    written = client.post(
        "/rnd/recipes",
        data={"csrf_token": token, "project_id": str(project.project_id), **FORM},
        follow_redirects=False,
    )
    assert written.status_code == 303, written.text
    with unit_of_work(db, write=False) as s:
        (recipe,) = service.recipes(s)
        assert recipe.steps[1]["in_process_controls"] == [
            {"name": "tablet_hardness", "unit": "N", "low": 80.0, "high": 120.0}
        ]
        assert recipe.attributes[1]["upper"] is None
        recipe_id = recipe.id
    page = client.get(f"/rnd/recipes/{recipe_id}").text
    assert "compression_force: 10 – 14 kN" in page
    assert "≥ 80 %" in page

    qa, qa_token = _signed_in(api, "qa", f"/rnd/recipes/{recipe_id}")
    assert 'data-transition="approve"' in qa.get(f"/rnd/recipes/{recipe_id}").text
    approved = qa.post(
        f"/records/rnd_recipe/{recipe_id}/transitions/approve",
        data={"csrf_token": qa_token, "password": PASSWORD, "expected_version": "1"},
        follow_redirects=False,
    )
    assert approved.status_code == 303, approved.text
    with unit_of_work(db, write=False) as s:
        assert service.get_recipe(s, recipe_id).status == "approved"


def test_a_form_that_is_not_a_recipe_changes_nothing(db: Database, people: Any, api: Any) -> None:
    project = project_with_materials(db, people)
    client, token = _signed_in(api, "rd", "/rnd/recipes")
    before = counts(db)
    response = client.post(
        "/rnd/recipes",
        data={
            "csrf_token": token,
            "project_id": str(project.project_id),
            **FORM,
            "parameters": "7; impeller_speed; rpm; 100; 150",
        },
        follow_redirects=False,
    )
    assert response.status_code in (303, 400, 422)
    assert counts(db) == before


def test_the_transfer_is_raised_and_implemented_from_the_pages(
    db: Database, people: Any, api: Any
) -> None:
    project = project_with_materials(db, people)
    recipe_id = approved_recipe(db, people, project)
    client, token = _signed_in(api, "rd", f"/rnd/recipes/{recipe_id}")
    raised = client.post(
        f"/rnd/recipes/{recipe_id}/transfers",
        data={"csrf_token": token, "market": "EU", "justification": "Ready for the plant."},
        follow_redirects=False,
    )
    assert raised.status_code == 303, raised.text
    with unit_of_work(db, write=False) as s:
        (transfer,) = service.transfers(s, recipe_id=recipe_id)
        transfer_id, change_id = transfer.id, transfer.change_id
    change_page = client.get(f"/changes/{change_id}").text
    assert 'data-testid="closure-checks"' in change_page
    assert "production&#39;s drafts are not created yet" in change_page
    assert f'href="/rnd/recipes/{recipe_id}"' in change_page
    # Someone who may read the change but not the notebook sees the condition, not a link
    # to a page that would refuse them.
    operator, _ = _signed_in(api, "operator", f"/changes/{change_id}")
    theirs = operator.get(f"/changes/{change_id}").text
    assert "production&#39;s drafts are not created yet" in theirs
    assert f"/rnd/recipes/{recipe_id}" not in theirs
    assert operator.get(f"/rnd/recipes/{recipe_id}").status_code == 403

    change_in_implementation(db, people, change_id)
    sop = governing_sop(db, people)
    qa, qa_token = _signed_in(api, "qa", f"/rnd/recipes/{recipe_id}")
    assert (
        f"/rnd/transfers/{transfer_id}/implementation" in qa.get(f"/rnd/recipes/{recipe_id}").text
    )
    done = qa.post(
        f"/rnd/transfers/{transfer_id}/implementation",
        data={"csrf_token": qa_token, "governing_sops": sop},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    project_page = client.get(f"/rnd/projects/{project.project_id}/gates").text
    assert "drafts in production" in project_page
    assert "is draft, not effective" in qa.get(f"/changes/{change_id}").text


def test_the_risk_register_of_a_product_lists_its_product_and_process_fmeas(
    db: Database, people: Any, api: Any
) -> None:
    project = project_with_materials(db, people)
    recipe_id = approved_recipe(db, people, project)
    with unit_of_work(db) as s:
        product_id = service.get_recipe(s, recipe_id).product_id
        product_fmea = risk.create_assessment(
            s,
            actor=people.qa,
            title="Product FMEA",
            scope="Tablet design",
            subject_type="product",
            subject_id=product_id,
        )
        process_fmea = risk.create_assessment(
            s,
            actor=people.rd,
            title="Process FMEA",
            scope="Granulation and compression",
            subject_type="rnd_recipe",
            subject_id=recipe_id,
        )
        s.flush()
        risk.add_item(
            s,
            actor=people.qa,
            assessment_id=product_fmea.id,
            failure_mode="Polymorph conversion",
            effect="Slower dissolution",
            cause="Humidity",
            scores=Scores(4, 3, 3),
        )
        risk.add_item(
            s,
            actor=people.rd,
            assessment_id=process_fmea.id,
            failure_mode="Over-granulation",
            effect="Hard tablets",
            cause="Impeller speed too high",
            scores=Scores(3, 3, 2),
            controls="CPP range with alarm",
            residual=Scores(3, 1, 2),
        )
        product_number, process_number = product_fmea.number, process_fmea.number
        assert product_fmea.subject_label == "product IBU200 — IBU200 tablets"
    client, _token = _signed_in(api, "qa", f"/risk-register/products/{product_id}")
    page = client.get(f"/risk-register/products/{product_id}").text
    rows = re.findall(r'data-assessment="([^"]+)"', page)
    assert rows == [product_number, process_number]
    assert "Polymorph conversion (RPN 36, " in page  # an open action: no residual scored
    assert "Over-granulation" not in page  # its controls are scored: no open action
