"""The qualification gate on the QP's release signature (EU GMP Annex 16; Directive
2001/83/EC Art. 48–51): refused, naming what is missing, when the QP authorisation has
expired or the assessment the QP's job role requires is not passed; nothing changes on
refusal; granted again once the QP is qualified."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.lifecycle.production.ebr_setup import (
    Plant,
    build_plant,
    make_batch,
    pass_qc,
    plant_database,
)
from tests.lifecycle.production.setup import lot_status
from tests.quality.competence_steps import counts, hold, job_role, ok, requirement, user_ids
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database


@pytest.fixture(scope="module")
def built(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Plant]]:
    yield from build_plant(sqlite_template, tmp_path_factory.mktemp("plant"))


@pytest.fixture
def db(built: tuple[Path, Plant], tmp_path: Path) -> Iterator[Database]:
    yield from plant_database(built, tmp_path)


def release(qp: Any, lot_id: int) -> Any:
    return qp.post(f"/api/v1/production/batches/{lot_id}/release", json={"password": PASSWORD})


def qp_authorisation(qa: Any) -> dict[str, Any]:
    [held] = [a for a in ok(qa.get("/api/v1/training/authorisations")) if a["username"] == "qp"]
    return dict(held)


def test_an_expired_qp_authorisation_refuses_the_release_signature_and_changes_nothing(
    built: tuple[Path, Plant], db: Database, people: Any, api: Any, app: Any, frozen_clock: Any
) -> None:
    p = built[1].rebind(db, people, api)
    qa, ids = api("qa"), user_ids(api)
    # given: the QP's open-ended nomination is replaced by one for 30 days
    seeded = qp_authorisation(qa)
    ok(
        qa.post(
            f"/api/v1/training/authorisations/{seeded['id']}/revoke",
            json={"reason": "replaced by a time-limited nomination", "password": PASSWORD},
        )
    )
    limited = ok(
        qa.post(
            "/api/v1/training/authorisations",
            json={
                "user_id": ids["qp"],
                "kind": "qp_certification",
                "basis": "Interim QP nomination, letter of 2 March 2026",
                "effective_from": clock.now().isoformat(),
                "effective_to": (clock.now() + timedelta(days=30)).isoformat(),
                "password": PASSWORD,
            },
        ),
        201,
    )
    _, lot_id, _ = make_batch(p, "B7001")
    pass_qc(p, lot_id)

    # when: the nomination has ended, the QP signs the release
    frozen_clock.advance(days=31)
    qp = api("qp")
    before = counts(db)
    refused = release(qp, lot_id)

    # then: refused, naming what is missing and its basis; nothing changed
    assert refused.status_code == 403, refused.text
    body = refused.json()
    assert body["code"] == "not_qualified"
    assert body["detail"] == (
        "Petra Qualified (qp) is not qualified to certify and release a batch: "
        f"Qualified Person (batch certification): {limited['number']} expired on 2026-04-01"
    )
    assert [m["check"] for m in body["missing"]] == ["authorisation_in_force"]
    assert "Directive 2001/83/EC Art. 48–51" in body["missing"][0]["basis"]
    assert body["duty"] == "qp_batch_certification"
    assert counts(db) == before
    assert lot_status(db, lot_id) == "quarantine"
    # and the checklist page tells the QP before the click, the release button disabled
    page = UiClient(app)
    page.login("qp")
    html = page.get(f"/production/release/{lot_id}").text
    assert 'data-testid="signer-refusal"' in html
    assert f"{limited['number']} expired on 2026-04-01" in html
    assert 'data-open-dialog="dialog-release"' not in html


def test_the_assessment_the_qp_job_role_requires_gates_the_release_until_passed(
    built: tuple[Path, Plant], db: Database, people: Any, api: Any, frozen_clock: Any
) -> None:
    p = built[1].rebind(db, people, api)
    qa, ids = api("qa"), user_ids(api)
    # given: the QP job role requires the QP authorisation and an observed certification
    role = job_role(qa, "Qualified Person")
    requirement(
        qa, role, kind="authorisation", title="QP nomination", authorisation_kind="qp_certification"
    )
    observed = requirement(
        qa, role, kind="observed_practice", title="Batch certification observed", valid_months=24
    )
    _, lot_id, _ = make_batch(p, "B7002")
    pass_qc(p, lot_id)
    qp = api("qp")

    # when the QP does not hold the job role: refused
    before = counts(db)
    refused = release(qp, lot_id)
    assert refused.status_code == 403, refused.text
    assert refused.json()["reasons"] == [
        "holds none of the job roles that carry this duty: Qualified Person"
    ]
    assert counts(db) == before

    # when the QP holds it, but the observed certification is missing: refused, naming it
    hold(qa, role, ids["qp"])
    before = counts(db)
    refused = release(qp, lot_id)
    assert refused.status_code == 403, refused.text
    assert refused.json()["reasons"] == [
        "Batch certification observed (observed practice): never assessed"
    ]
    assert counts(db) == before
    assert lot_status(db, lot_id) == "quarantine"

    # when QA observes the QP's certification and records it passed: the release is signed
    ok(
        qa.post(
            "/api/v1/training/assessments/observed",
            json={
                "user_id": ids["qp"],
                "requirement_id": observed,
                "passed": True,
                "observations": "Reviewed the batch documentation against Annex 16 §1.7.",
                "password": PASSWORD,
            },
        ),
        201,
    )
    done = release(qp, lot_id)
    assert done.status_code == 200, done.text
    assert lot_status(db, lot_id) == "released"
