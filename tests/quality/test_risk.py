"""Risk assessment: the matrix as pure rules, and an FMEA attached to a record through the API,
approved with a signature by someone other than its author."""

from __future__ import annotations

from typing import Any

import pytest
from tests.quality.quality_steps import (
    counts,
    days_ahead,
    problem,
    sign,
    take,
    user_id,
)
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.quality.risk.matrix import DEFAULT_5X5, SIMPLE_3X3, RiskMatrix


@pytest.mark.parametrize(
    ("scores", "rpn", "level"),
    [
        ((1, 1, 1), 1, "low"),
        ((3, 3, 2), 18, "medium"),
        ((3, 3, 4), 36, "high"),  # poor detection raises medium to high
        ((1, 5, 5), 25, "high"),
        ((5, 5, 5), 125, "high"),
        ((5, 1, 1), 5, "medium"),
        ((2, 2, 3), 12, "low"),
    ],
)
def test_the_default_matrix_scores_rpn_and_level(
    scores: tuple[int, int, int], rpn: int, level: str
) -> None:
    assert DEFAULT_5X5.rpn(*scores) == rpn
    assert DEFAULT_5X5.level(*scores) == level


def test_a_three_point_matrix_escalates_at_its_own_threshold() -> None:
    assert SIMPLE_3X3.level(2, 2, 2) == "medium"
    assert SIMPLE_3X3.level(2, 2, 3) == "high"


def test_a_score_outside_the_scale_names_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        DEFAULT_5X5.check_score(6, "residual_severity", "the severity")
    assert refused.value.field == "residual_severity"
    assert refused.value.detail == "the severity must be a whole number from 1 to 5 (5x5 matrix)"


def test_a_matrix_whose_risk_falls_with_severity_is_refused() -> None:
    with pytest.raises(ValueError, match="risk must not fall as severity rises"):
        RiskMatrix(
            name="bad",
            scale=2,
            grid=(("high", "high"), ("low", "high")),
            escalate_from_detectability=None,
        )


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(request: pytest.FixtureRequest) -> None:
    """API tests freeze the clock after the template database is made (see
    test_deviations_api); the pure matrix tests need neither."""
    if "api" in request.fixturenames:
        request.getfixturevalue("db")
        request.getfixturevalue("frozen_clock")


def capa_subject(api: Any, db: Any) -> dict[str, Any]:
    response = api("qa").post(
        "/api/v1/capas",
        json={
            "title": "Punch life",
            "problem_statement": "Punches fail.",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(30),
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


ITEM = {
    "failure_mode": "Punch tip breaks during compression",
    "effect": "Metal fragments in tablets",
    "cause": "Punch used beyond its fatigue life",
    "scores": {"severity": 5, "occurrence": 3, "detectability": 4},
    "controls": "Stroke counter with retirement at 5 M; metal detector 0.3 mm",
    "residual": {"severity": 5, "occurrence": 1, "detectability": 2},
}


@pytest.mark.postgres
def test_an_fmea_on_a_capa_is_scored_and_approved_with_a_signature(api: Any, db: Any) -> None:
    capa = capa_subject(api, db)
    supervisor, qa = api("supervisor"), api("qa")

    created = supervisor.post(
        "/api/v1/risk-assessments",
        json={
            "title": "Tooling failure FMEA",
            "scope": "Compression step of all tablet presses",
            "subject_type": "capa",
            "subject_id": capa["id"],
        },
    )
    assert created.status_code == 201, created.text
    ra = created.json()
    assert (ra["number"], ra["subject_label"], ra["matrix_name"]) == (
        "RA-2026-0001",
        "CAPA-2026-0001",
        "5x5",
    )
    item = supervisor.post(f"/api/v1/risk-assessments/{ra['id']}/items", json=ITEM).json()
    assert (item["rpn"], item["risk_level"], item["residual_rpn"], item["residual_level"]) == (
        60,
        "high",
        10,
        "medium",
    )
    take(supervisor, "risk_assessment", ra["id"], "submit")

    approved = sign(qa, "risk_assessment", ra["id"], "approve")

    assert approved["status"] == "approved"
    shown = qa.get(f"/api/v1/risk-assessments/{ra['id']}").json()
    assert [(s["meaning"], s["signer_username"]) for s in shown["signatures"]] == [
        ("Approved", "qa")
    ]
    listed = qa.get(
        "/api/v1/risk-assessments", params={"subject_type": "capa", "subject_id": capa["id"]}
    ).json()
    assert [a["number"] for a in listed] == ["RA-2026-0001"]


def test_the_author_may_not_approve_their_own_assessment(api: Any, db: Any) -> None:
    capa = capa_subject(api, db)
    qa = api("qa")
    ra = qa.post(
        "/api/v1/risk-assessments",
        json={"title": "FMEA", "scope": "s", "subject_type": "capa", "subject_id": capa["id"]},
    ).json()
    qa.post(f"/api/v1/risk-assessments/{ra['id']}/items", json=ITEM)
    take(qa, "risk_assessment", ra["id"], "submit")
    before = counts(db)

    response = qa.post(
        f"/api/v1/records/risk_assessment/{ra['id']}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "risk_assessment", ra["id"]),
        },
    )

    body = problem(response, 403, "segregation_of_duties")
    assert body["reasons"] == ["the author of RA-2026-0001 may not 'Approve' it"]
    assert counts(db) == before


def test_a_high_risk_needs_controls_and_a_residual_score_before_review(api: Any, db: Any) -> None:
    capa = capa_subject(api, db)
    supervisor = api("supervisor")
    ra = supervisor.post(
        "/api/v1/risk-assessments",
        json={"title": "FMEA", "scope": "s", "subject_type": "capa", "subject_id": capa["id"]},
    ).json()
    bare = {**ITEM, "controls": "", "residual": None}
    item = supervisor.post(f"/api/v1/risk-assessments/{ra['id']}/items", json=bare).json()
    before = counts(db)

    response = supervisor.post(
        f"/api/v1/records/risk_assessment/{ra['id']}/transitions/submit", json={}
    )

    body = problem(response, 409, "transition_not_allowed")
    assert body["reasons"] == [
        f"the high risk #{item['id']} has no controls",
        f"the high risk #{item['id']} has no residual risk scored",
    ]
    assert counts(db) == before


def test_a_residual_risk_that_stays_high_needs_an_acceptance_rationale(api: Any, db: Any) -> None:
    capa = capa_subject(api, db)
    supervisor, qa = api("supervisor"), api("qa")
    ra = supervisor.post(
        "/api/v1/risk-assessments",
        json={"title": "FMEA", "scope": "s", "subject_type": "capa", "subject_id": capa["id"]},
    ).json()
    stays_high = {**ITEM, "residual": {"severity": 5, "occurrence": 3, "detectability": 2}}
    item = supervisor.post(f"/api/v1/risk-assessments/{ra['id']}/items", json=stays_high).json()
    take(supervisor, "risk_assessment", ra["id"], "submit")
    before = counts(db)

    response = qa.post(
        f"/api/v1/records/risk_assessment/{ra['id']}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "risk_assessment", ra["id"]),
        },
    )

    body = problem(response, 409, "transition_not_allowed")
    assert body["reasons"] == [
        f"the residual risk stays high for items #{item['id']}: record why it is acceptable"
    ]
    assert counts(db) == before


def test_scores_outside_the_matrix_and_unknown_subjects_are_refused(api: Any, db: Any) -> None:
    capa = capa_subject(api, db)
    supervisor = api("supervisor")
    ra = supervisor.post(
        "/api/v1/risk-assessments",
        json={"title": "FMEA", "scope": "s", "subject_type": "capa", "subject_id": capa["id"]},
    ).json()
    before = counts(db)

    too_high = supervisor.post(
        f"/api/v1/risk-assessments/{ra['id']}/items",
        json={**ITEM, "scores": {"severity": 7, "occurrence": 1, "detectability": 1}},
    )
    assert problem(too_high, 422, "invalid_input")["field"] == "severity"
    worse = supervisor.post(
        f"/api/v1/risk-assessments/{ra['id']}/items",
        json={**ITEM, "residual": {"severity": 5, "occurrence": 5, "detectability": 5}},
    )
    assert problem(worse, 422, "invalid_input")["field"] == "residual_severity"
    unknown = supervisor.post(
        "/api/v1/risk-assessments",
        json={"title": "FMEA", "scope": "s", "subject_type": "batch", "subject_id": 1},
    )
    assert problem(unknown, 422, "invalid_input")["field"] == "subject_type"
    missing = supervisor.post(
        "/api/v1/risk-assessments",
        json={"title": "FMEA", "scope": "s", "subject_type": "capa", "subject_id": 999},
    )
    problem(missing, 404, "not_found")
    assert counts(db) == before
