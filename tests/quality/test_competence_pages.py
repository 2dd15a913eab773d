"""Competence pages: the head of QA grants an authorisation through the form with its basis
document (served back byte for byte), the register flags what expires, the qualification
matrix shows the reasons, the supervisor records an observed practice on the person page, and
the effectiveness page shows the figures."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from tests.quality.competence_steps import hold, job_role, requirement, user_ids
from tests.quality.document_steps import effective_document
from tests.support import PASSWORD
from tests.web.conftest import UiClient
from tests.web.support import flash_of

LETTER = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3 QP nomination letter\n%%EOF\n"


@pytest.fixture
def ui(app: Any) -> Any:
    def make(username: str) -> UiClient:
        client = UiClient(app)
        response = client.login(username)
        assert response.headers["location"] == "/", response.text
        return client

    return make


def test_the_head_of_qa_grants_through_the_form_and_the_register_flags_expiry(
    frozen_clock, db, api, ui
) -> None:  # type: ignore[no-untyped-def]
    ids = user_ids(api)
    qa = ui("qa")
    page = qa.get("/training/authorisations")
    assert page.status_code == 200
    assert 'data-testid="grant-form"' in page.text
    # the head of QA is not offered themselves
    assert f'<option value="{ids["qa"]}">' not in page.text

    granted = qa.client.post(
        "/training/authorisations",
        data={
            "csrf_token": qa.csrf_token,
            "user_id": str(ids["logistics"]),
            "kind": "gdp_responsible_person",
            "basis": "Named on the wholesale distribution authorisation",
            "effective_from": "2026-03-01",
            "effective_to": "2026-04-15",
            "password": PASSWORD,
        },
        files={"basis_file": ("nomination.pdf", LETTER, "application/pdf")},
        headers={"referer": "http://testserver/training/authorisations"},
    )
    landed = qa.follow(granted)
    assert "granted, signed" in flash_of(landed.text)
    assert f"SHA-256 {hashlib.sha256(LETTER).hexdigest()}" in landed.text
    assert "Approved by Quentin Quality (qa)" in landed.text
    basis = qa.get(landed.url.path + "/basis")
    assert basis.content == LETTER

    register = qa.get("/training/authorisations")
    assert 'data-state="expiring_soon"' in register.text
    assert 'data-testid="authorisation-flags"' in register.text
    # a reader without training.authorise sees the register, not the form
    reader = ui("auditor").get("/training/authorisations")
    assert reader.status_code == 200
    assert "grant-form" not in reader.text


def test_the_matrix_gives_reasons_and_the_supervisor_records_observed_practice(
    frozen_clock, db, api, ui
) -> None:  # type: ignore[no-untyped-def]
    qa_api, ids = api("qa"), user_ids(api)
    sop = effective_document(api("qc"), qa_api, "Line clearance")
    role = job_role(qa_api, "Packaging operator", document_id=sop["id"])
    practice = requirement(qa_api, role, kind="observed_practice", title="Line clearance observed")
    hold(qa_api, role, ids["operator"])

    qa = ui("qa")
    qa.get("/training/qualification")
    required = qa.post(
        "/training/qualification-requirements",
        {
            "job_role_id": str(role),
            "kind": "authorisation",
            "title": "Line clearance trainer",
            "authorisation_kind": "qualified_trainer",
            "reason": "operators train each other on the line",
        },
        referer="/training/qualification",
    )
    assert flash_of(qa.follow(required).text) == (
        "Line clearance trainer: now required of the job role."
    )
    matrix = qa.get("/training/qualification")
    assert matrix.status_code == 200
    assert "Qualified trainer and assessor: no authorisation" in matrix.text
    assert 'data-qualified="no"' in matrix.text
    assert "Line clearance observed (observed practice): never assessed" in matrix.text

    supervisor = ui("supervisor")
    person = supervisor.get(f"/training/qualification/people/{ids['operator']}")
    assert 'data-testid="observed-form"' in person.text
    done = supervisor.post(
        f"/training/qualification/people/{ids['operator']}/observed",
        {
            "requirement_id": str(practice),
            "outcome": "pass",
            "observations": "Removed every label of the previous batch, checked the line.",
            "password": PASSWORD,
        },
        referer=f"/training/qualification/people/{ids['operator']}",
    )
    landed = supervisor.follow(done)
    assert "observed practice recorded and signed" in flash_of(landed.text)
    assert "Removed every label" in landed.text
    # on their own page, nobody is offered the observation form
    own = ui("operator").get(f"/training/qualification/people/{ids['operator']}")
    assert "observed-form" not in own.text

    figures = ui("qa").get("/training/effectiveness")
    assert figures.status_code == 200
    assert "100.0 % <small" in figures.text  # the one assessment, passed
