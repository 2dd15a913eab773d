"""The case API (``/api/v1/pv/…``): staff intake, the register's due and overdue flags, the
processing steps with signatures, and refusals as problem+json that change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from tests.lifecycle.use.cases.pv_steps import counts
from tests.support import PASSWORD

from pharmaqms.kernel import clock

BODY: dict[str, Any] = {
    "received_at": "2026-03-01T14:00:00+00:00",
    "patient_initials": "JD",
    "patient_age": "54",
    "patient_sex": "female",
    "reporter_type": "hcp",
    "reporter_country": "DE",
    "products": [{"product": "Paracetamol 500 mg tablets", "lot_number": "L2403-117"}],
    "events": [{"verbatim": "anaphylaxis", "seriousness": ["life_threatening"]}],
}


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database is made on real time; the tests then run on 2 March 2026."""


@pytest.mark.postgres
def test_a_case_is_taken_in_validated_assessed_reviewed_and_signed_off(
    api: Any, db: Any, frozen_clock: clock.FrozenClock
) -> None:
    pv, qa = api("pv"), api("qa")
    created = pv.post("/api/v1/pv/cases", json=BODY)
    assert created.status_code == 201, created.text
    case = created.json()
    assert (case["number"], case["status"], case["serious"]) == ("PV-2026-0001", "received", True)
    assert [r["passed"] for r in case["validity"]] == [True, True, True, True]

    valid = pv.post(f"/api/v1/pv/cases/{case['id']}/validate", json={}).json()
    assert valid["day_zero"] == "2026-03-01"
    assert [(c["region"], c["due_on"]) for c in valid["clocks"]] == [
        ("EU", "2026-03-16"),
        ("US", "2026-03-16"),
        ("CN", "2026-03-16"),
    ]
    listed = qa.get("/api/v1/pv/cases")
    assert listed.status_code == 200, listed.text
    [row] = listed.json()["items"]
    assert (row["next_due"], row["overdue"]) == ("2026-03-16", False)
    frozen_clock.advance(days=15)
    qa.login("qa")  # the tokens of two weeks ago have expired
    pv.login("pv")
    listed = qa.get("/api/v1/pv/cases")
    assert listed.status_code == 200, listed.text
    [row] = listed.json()["items"]
    assert row["overdue"] is True

    pv.post(
        f"/api/v1/pv/cases/{case['id']}/assessment",
        json={"causality": "possible", "reasoning": "Onset within an hour of the dose."},
    )
    reviewed = pv.post(f"/api/v1/pv/cases/{case['id']}/medical-review", json={"password": PASSWORD})
    assert reviewed.json()["status"] == "medically_reviewed", reviewed.text
    closed = qa.post(f"/api/v1/pv/cases/{case['id']}/sign-off", json={"password": PASSWORD})
    shown = closed.json()
    assert shown["status"] == "closed", closed.text
    assert [s["meaning"] for s in shown["signatures"]] == ["Reviewed", "Approved"]
    assert shown["expectedness"] == "unexpected"  # no reference safety information: fails closed


def test_a_bad_country_is_refused_and_changes_nothing(api: Any, db: Any) -> None:
    pv = api("pv")
    before = counts(db)

    refused = pv.post("/api/v1/pv/cases", json={**BODY, "reporter_country": "D1"})

    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["field"] == "reporter_country"
    assert counts(db) == before


def test_a_causality_outside_who_umc_is_refused(api: Any, db: Any) -> None:
    pv = api("pv")
    case = pv.post("/api/v1/pv/cases", json=BODY).json()
    pv.post(f"/api/v1/pv/cases/{case['id']}/validate", json={})
    before = counts(db)

    refused = pv.post(
        f"/api/v1/pv/cases/{case['id']}/assessment",
        json={"causality": "maybe", "reasoning": "Timing."},
    )

    assert refused.status_code == 422
    assert refused.json()["field"] == "causality"
    assert counts(db) == before


def test_qc_may_not_take_reports_in(api: Any, db: Any) -> None:
    qc = api("qc")
    before = counts(db)
    refused = qc.post("/api/v1/pv/cases", json=BODY)
    assert refused.status_code == 403
    assert counts(db) == before
