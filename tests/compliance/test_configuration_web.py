"""Configuration changes through the API and the pages: a workflow version that drops a
signature refused as problem+json with nothing stored; a due-days version drafted, run on the
sandbox, approved with a signature through the generic transition; the configuration in force
at a past moment on the key page and in the API; the rules a deviation ran under."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    classified_deviation,
    draft,
    snapshot,
)
from tests.quality.quality_steps import problem, sign
from tests.web.conftest import UiClient

from pharmaqms.kernel import clock, role_permissions
from pharmaqms.kernel.workflow import signature_rules
from pharmaqms.quality.deviations.workflow import DEVIATION_WORKFLOW

API = "/api/v1/configuration"
DUE = "quality.deviation_due_days"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def moving_clock(db: Any) -> Any:
    with clock.frozen_at(START) as frozen:
        yield frozen


@pytest.fixture
def ui(app: Any) -> Any:
    def make(username: str) -> UiClient:
        client = UiClient(app)
        assert client.login(username).status_code == 303
        return client

    return make


def test_the_api_refuses_a_workflow_version_that_drops_a_signature(
    db: Any, people: Any, api: Any, moving_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)
    content = signature_rules(DEVIATION_WORKFLOW)
    content["close"]["signature"] = None
    qa = api("qa")  # signing in is audited: before the snapshot
    before = snapshot(db)
    refused = qa.post(
        f"{API}/keys/workflow.deviation.signatures/versions",
        json={
            "content": content,
            "effective_from": (START + timedelta(days=1)).isoformat(),
            "change_id": cid,
            "rationale": "Closing needs no signature.",
        },
    )
    body = problem(refused, 422, "control_broken")
    assert body["reasons"] == [
        "'Close' (close) must be signed (Closed): the code demands this signature "
        "(Part 11 §11.50, §11.200); a version may not drop it"
    ]
    unknown = qa.post(
        f"{API}/keys/no.such.key/versions",
        json={
            "content": {},
            "effective_from": START.isoformat(),
            "change_id": cid,
            "rationale": "x",
        },
    )
    problem(unknown, 422, "invalid_input")
    assert snapshot(db) == before


def test_a_version_goes_through_the_api_and_the_pages_show_it_in_force_from_its_date(
    db: Any, people: Any, api: Any, ui: Any, moving_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)
    old = classified_deviation(db, people, "Before the change", START)
    qa, qa2, auditor = api("qa"), api("qa2"), api("auditor")
    drafted = qa.post(
        f"{API}/keys/{DUE}/versions",
        json={
            "content": {"critical": 10, "major": 20, "minor": 45},
            "effective_from": (START + timedelta(days=2)).isoformat(),
            "change_id": cid,
            "rationale": "TEST 1 (2024).",
        },
    )
    assert drafted.status_code == 201, drafted.text
    vid = drafted.json()["id"]
    assert (drafted.json()["version_no"], drafted.json()["status"]) == (2, "draft")
    problem(auditor.post(f"{API}/versions/{vid}/test", json={}), 403, "permission_denied")
    tested = qa.post(f"{API}/versions/{vid}/test", json={})
    assert tested.status_code == 200, tested.text
    assert tested.json()["status"] == "tested"
    assert (
        "1 open classified deviation(s), 1 with a different due date"
        in tested.json()["test_summary"]
    )
    signed = sign(qa2, "config_version", vid, "approve", expected_version=tested.json()["version"])
    assert signed["status"] == "approved"

    moving_clock.advance(days=3)
    new = classified_deviation(db, people, "After the change", clock.now())
    auditor = api("auditor")  # the earlier token has expired meanwhile
    detail = auditor.get(
        f"{API}/keys/{DUE}", params={"at": (START + timedelta(days=1)).isoformat()}
    )
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert (body["in_force"]["version_no"], body["in_force_at"]["version_no"]) == (2, 1)
    assert [(v["version_no"], v["state"]) for v in body["versions"]] == [
        (2, "in force"), (1, "superseded")
    ]  # fmt: skip
    naive = auditor.get(f"{API}/keys/{DUE}", params={"at": "2026-03-03T09:00"})
    problem(naive, 422, "invalid_input")
    old_uses = auditor.get(f"{API}/uses/deviation/{old}").json()
    new_uses = auditor.get(f"{API}/uses/deviation/{new}").json()
    assert (DUE, 1) in [(u["key"], u["version_no"]) for u in old_uses]
    assert (DUE, 2) in [(u["key"], u["version_no"]) for u in new_uses]

    # the pages: the overview, the key with its history and a past moment, the version
    reader = ui("auditor")
    overview = reader.get("/compliance/configuration")
    assert overview.status_code == 200
    assert f'data-key="{DUE}"' in overview.text
    then = reader.get(f"/compliance/configuration?at={(START + timedelta(days=1)):%Y-%m-%dT%H:%M}")
    assert then.status_code == 200 and 'data-testid="then-version">v1<' in then.text
    key_page = reader.get(
        f"/compliance/configuration/keys/{DUE}?at={(START + timedelta(days=1)):%Y-%m-%dT%H:%M}"
    )
    assert key_page.status_code == 200
    assert "<strong>v1</strong>" in key_page.text and "in force" in key_page.text
    assert "Draft a new version" not in key_page.text  # an inspector reads, QA acts
    version_page = reader.get(f"/compliance/configuration/versions/{vid}")
    assert version_page.status_code == 200
    assert "1 open classified deviation(s)" in version_page.text
    assert "Approved by Rosa Reviewer" in version_page.text
    # the old deviation's page shows the rule it ran under, the new one's the new rule
    old_page = reader.get(f"/deviations/{old}")
    assert f"{DUE}</a> v1 · due date from the classification" in old_page.text
    new_page = reader.get(f"/deviations/{new}")
    assert f"{DUE}</a> v2 · due date from the classification" in new_page.text
    qa_page = ui("qa").get(f"/compliance/configuration/keys/{DUE}")
    assert "Draft a new version" in qa_page.text


@pytest.mark.postgres
def test_the_roles_pages_show_a_grid_and_what_a_version_changes(
    db: Any, people: Any, ui: Any, moving_clock: clock.FrozenClock
) -> None:
    """The roles configuration reads as permission × role, the deviation's steps as
    transition × roles and guards; a version shows what it changes from the one before, and
    the key page compares any two versions."""
    cid = approved_change_from_a_new_edition(db, people)
    content = role_permissions.code_grants()
    content["logistics"].remove("deviations.report")
    vid = draft(
        db,
        people.qa,
        role_permissions.KEY,
        content,
        effective_from=START + timedelta(hours=1),
        change_id=cid,
        rationale="Deviations in the warehouse go through the supervisors.",
    )
    reader = ui("auditor")
    key_page = reader.get(f"/compliance/configuration/keys/{role_permissions.KEY}")
    assert key_page.status_code == 200
    assert 'data-testid="in-force-grid"' in key_page.text
    assert '<th scope="col">logistics</th>' in key_page.text
    assert '<th scope="row">deviations.report</th>' in key_page.text
    version_page = reader.get(f"/compliance/configuration/versions/{vid}")
    assert version_page.status_code == 200
    assert "Changes from v1" in version_page.text
    assert "<code>logistics: − deviations.report</code>" in version_page.text
    compared = reader.get(
        f"/compliance/configuration/keys/{role_permissions.KEY}?compare_from=1&compare_to=2"
    )
    assert compared.status_code == 200
    assert "<code>logistics: − deviations.report</code>" in compared.text
    steps = reader.get("/compliance/configuration/keys/workflow.deviation.roles")
    assert steps.status_code == 200
    assert '<th scope="col">Guards</th>' in steps.text
    assert "Approve (approve) · signed Approved" in steps.text
    unknown = reader.get(
        f"/compliance/configuration/keys/{role_permissions.KEY}?compare_from=1&compare_to=9"
    )
    assert unknown.status_code == 422 and "has no version 9" in unknown.text
