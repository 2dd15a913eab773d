"""Deviations through the API: the whole life of one, and each refusal with its reason and
nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.quality.quality_steps import (
    INVESTIGATION,
    classification,
    classified_deviation,
    counts,
    days_ago,
    days_ahead,
    investigate,
    investigated_deviation,
    problem,
    report_deviation,
    sign,
    take,
    user_id,
)
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel import clock
from pharmaqms.quality.deviations import impact


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The session's template database is made by whichever test asks first: made under a
    frozen March clock, its passwords would look expired to the tests that run on real time."""


@pytest.mark.clause("annex11:13")
@pytest.mark.postgres
def test_a_deviation_goes_from_report_to_signed_closure(api: Any, db: Any) -> None:
    operator, qa, qc, qa2 = api("operator"), api("qa"), api("qc"), api("qa2")

    # given an operator reports a broken punch with the batch it hit
    reported = report_deviation(operator)
    did = reported["id"]
    assert reported["number"] == "DEV-2026-0001"
    assert reported["status"] == "reported"
    assert reported["due_at"] is None
    [batch] = reported["batches"]
    assert (batch["batch_id"], batch["hold_status"]) == ("L2403-117", "hold_requested")
    assert [t["title"] for t in qa.get("/api/v1/tasks").json()] == [
        "Classify DEV-2026-0001: Tablet press stopped: punch broken"
    ]

    # when QA classifies it as major with its ICH Q9 basis, naming the QC analyst to investigate
    classified = qa.post(
        f"/api/v1/deviations/{did}/classification", json=classification(user_id(db, "qc"))
    ).json()
    assert classified["status"] == "investigation"
    assert classified["classification"] == "major"
    discovered = datetime.fromisoformat(classified["discovered_at"])
    assert datetime.fromisoformat(classified["due_at"]) == discovered + timedelta(days=30)
    [task] = qc.get("/api/v1/tasks").json()
    assert task["title"] == "Investigate DEV-2026-0001: Tablet press stopped: punch broken"
    assert task["due_at"] == classified["due_at"]

    # and the analyst writes the investigation, assesses the batch and raises a CAPA from it
    investigated = qc.post(f"/api/v1/deviations/{did}/investigation", json=INVESTIGATION).json()
    assert investigated["why_chain"] == INVESTIGATION["why_chain"]
    assert investigated["fishbone"] == INVESTIGATION["fishbone"]
    qc.post(
        f"/api/v1/deviations/{did}/batches/{batch['id']}/assessment",
        json={"impact_assessment": "Metal detector passed all tablets; no fragments found."},
    )
    capa = qc.post(
        "/api/v1/capas",
        json={
            "title": "Track punch life on all presses",
            "problem_statement": "Punches are used beyond their qualified life.",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(60),
            "source": {"source_type": "deviation", "source_id": did},
        },
    )
    assert capa.status_code == 201, capa.text
    assert capa.json()["links"]["raised_from"][0]["label"] == "DEV-2026-0001"
    submitted = take(qc, "deviation", did, "submit")
    assert submitted["status"] == "pending_approval"

    # then another QA person approves (signed), records the batch disposition and closes (signed)
    approved = sign(qa2, "deviation", did, "approve", comment="investigation is thorough")
    assert approved["status"] == "approved"
    qa2.post(
        f"/api/v1/deviations/{did}/batches/{batch['id']}/disposition",
        json={"disposition": "release_permitted", "note": "No impact on quality: see assessment."},
    )
    closed = sign(qa, "deviation", did, "close")
    assert closed["status"] == "closed"

    shown = qa.get(f"/api/v1/deviations/{did}").json()
    assert shown["capa_decision"] == "capa"
    assert shown["closed_at"] == clock.now().isoformat().replace("+00:00", "Z")
    assert [
        (s["meaning"], s["signer_username"], s["valid_for_current_content"])
        for s in shown["signatures"]
    ] == [
        ("Approved", "qa2", True),
        ("Closed", "qa", True),
    ]
    [led_to] = shown["links"]["led_to"]
    assert (led_to["record_type"], led_to["label"], led_to["status"]) == (
        "capa",
        "CAPA-2026-0001",
        "draft",
    )
    assert shown["batches"][0]["disposition"] == "release_permitted"


def test_discovery_before_occurrence_is_refused_and_nothing_is_written(api: Any, db: Any) -> None:
    operator = api("operator")
    before = counts(db)

    response = operator.post(
        "/api/v1/deviations",
        json={
            "title": "Label roll mix-up",
            "description": "Two label rolls of different strengths on the line.",
            "area": "Packaging",
            "occurred_at": days_ago(1),
            "discovered_at": days_ago(2),
        },
    )

    body = problem(response, 422, "invalid_input")
    assert body["field"] == "discovered_at"
    assert "before it occurred" in body["detail"]
    assert counts(db) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("occurred_at", "2026-03-01T08:00:00", "occurred_at needs a time zone"),
        ("discovered_at", "2026-03-09T08:00:00+00:00", "the time of discovery"),
        ("area", "   ", "area: String should have at least 1 character"),
    ],
)
@pytest.mark.clause("annex11:6", "alcoa:accurate")
def test_bad_report_fields_are_named(
    api: Any, db: Any, field: str, value: str, message: str
) -> None:
    operator = api("operator")
    body: dict[str, Any] = {
        "title": "Label roll mix-up",
        "description": "Two label rolls of different strengths on the line.",
        "area": "Packaging",
        "occurred_at": "2026-03-01T07:00:00+00:00",
        "discovered_at": "2026-03-01T08:30:00+00:00",
    }
    body[field] = value
    before = counts(db)

    response = operator.post("/api/v1/deviations", json=body)

    refused = problem(response, 422, "invalid_input")
    assert refused["field"] == field
    assert message in refused["detail"]
    assert counts(db) == before


def test_a_missing_required_field_is_a_422_naming_it(api: Any, db: Any) -> None:
    operator = api("operator")
    before = counts(db)
    response = operator.post(
        "/api/v1/deviations", json={"title": "x", "area": "Packaging", "occurred_at": days_ago(1)}
    )
    body = problem(response, 422, "invalid_input")
    assert body["field"] == "description"
    assert counts(db) == before


@pytest.mark.clause("part11:11.10(f)")
def test_submitting_a_deviation_before_classification_is_refused(api: Any, db: Any) -> None:
    operator, qc = api("operator"), api("qc")
    deviation = report_deviation(operator)
    before = counts(db)

    response = qc.post(f"/api/v1/records/deviation/{deviation['id']}/transitions/submit", json={})

    body = problem(response, 409, "transition_not_allowed")
    assert body["reasons"] == [
        "'Submit investigation for approval' is not possible from status 'reported'"
    ]
    assert counts(db) == before
    assert qc.get(f"/api/v1/deviations/{deviation['id']}").json()["status"] == "reported"


def test_submission_names_every_missing_part_of_the_investigation(api: Any, db: Any) -> None:
    deviation = classified_deviation(db, api("operator"), api("qa"), "qc")
    qc = api("qc")
    before = counts(db)

    response = qc.post(f"/api/v1/records/deviation/{deviation['id']}/transitions/submit", json={})

    body = problem(response, 409, "transition_not_allowed")
    assert body["reasons"] == [
        "the root cause is not stated",
        "the root cause category (man, machine, method, …) is not chosen",
        "the 5-why analysis has no answers",
        "the impact on batch L2403-117 is not assessed",
        "neither a CAPA is raised nor a rationale for 'no CAPA' given",
    ]
    assert counts(db) == before


def test_the_investigator_may_not_approve_their_own_investigation(api: Any, db: Any) -> None:
    qa, qa2 = api("qa"), api("qa2")
    deviation = investigated_deviation(db, api("operator"), qa, qa2, "qa2")
    take(qa2, "deviation", deviation["id"], "submit")
    before = counts(db)

    response = qa2.post(
        f"/api/v1/records/deviation/{deviation['id']}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa2, "deviation", deviation["id"]),
        },
    )

    body = problem(response, 403, "segregation_of_duties")
    assert body["reasons"] == ["the investigator of DEV-2026-0001 may not 'Approve' it"]
    assert counts(db) == before
    assert qa.get(f"/api/v1/deviations/{deviation['id']}").json()["status"] == "pending_approval"


def test_the_reporter_may_not_approve_the_deviation_they_reported(api: Any, db: Any) -> None:
    qa, qc = api("qa"), api("qc")
    deviation = investigated_deviation(db, qa, api("qa2"), qc, "qc")
    take(qc, "deviation", deviation["id"], "submit")
    before = counts(db)

    response = qa.post(
        f"/api/v1/records/deviation/{deviation['id']}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "deviation", deviation["id"]),
        },
    )

    body = problem(response, 403, "segregation_of_duties")
    assert body["reasons"] == ["the author of DEV-2026-0001 may not 'Approve' it"]
    assert counts(db) == before


def test_the_qa_who_classified_may_approve_the_investigation(api: Any, db: Any) -> None:
    # Classification is QA's review of the report, not authorship (docs/quality-loops.md).
    qa, qc = api("qa"), api("qc")
    deviation = investigated_deviation(db, api("operator"), qa, qc, "qc")
    take(qc, "deviation", deviation["id"], "submit")

    approved = take(qa, "deviation", deviation["id"], "approve", password=PASSWORD)

    assert approved["status"] == "approved"


def test_a_qa_who_rewrote_the_immediate_actions_while_classifying_may_not_approve(
    api: Any, db: Any
) -> None:
    qa, qc = api("qa"), api("qc")
    deviation = report_deviation(api("operator"))
    classified = qa.post(
        f"/api/v1/deviations/{deviation['id']}/classification",
        json=classification(
            user_id(db, "qc"), immediate_actions="Press stopped; QA moved the batch to the cage."
        ),
    )
    assert classified.status_code == 200, classified.text
    investigate(qc, deviation["id"])
    take(qc, "deviation", deviation["id"], "submit")
    before = counts(db)

    response = qa.post(
        f"/api/v1/records/deviation/{deviation['id']}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "deviation", deviation["id"]),
        },
    )

    body = problem(response, 403, "segregation_of_duties")
    assert body["reasons"] == [
        "qa edited the content of DEV-2026-0001: an author may not 'Approve' it"
    ]
    assert counts(db) == before


@pytest.mark.clause("part11:11.10(g)")
def test_an_approval_by_someone_without_the_qa_role_is_refused(api: Any, db: Any) -> None:
    qc = api("qc")
    deviation = investigated_deviation(db, api("operator"), api("qa"), qc, "qc")
    take(qc, "deviation", deviation["id"], "submit")
    supervisor = api("supervisor")
    before = counts(db)

    response = supervisor.post(
        f"/api/v1/records/deviation/{deviation['id']}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(supervisor, "deviation", deviation["id"]),
        },
    )

    body = problem(response, 403, "permission_denied")
    assert body["reasons"] == ["'Approve' needs one of the roles qa"]
    assert counts(db) == before


def test_closure_waits_for_every_batch_disposition(api: Any, db: Any) -> None:
    qa, qa2, qc = api("qa"), api("qa2"), api("qc")
    deviation = investigated_deviation(db, api("operator"), qa, qc, "qc")
    take(qc, "deviation", deviation["id"], "submit")
    sign(qa2, "deviation", deviation["id"], "approve")
    before = counts(db)

    response = qa.post(
        f"/api/v1/records/deviation/{deviation['id']}/transitions/close",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "deviation", deviation["id"]),
        },
    )

    body = problem(response, 409, "transition_not_allowed")
    assert body["reasons"] == ["batch L2403-117 has no disposition yet"]
    assert counts(db) == before


def test_no_capa_needs_a_rationale(api: Any, db: Any) -> None:
    deviation = classified_deviation(db, api("operator"), api("qa"), "qc")
    qc = api("qc")
    before = counts(db)

    response = qc.post(f"/api/v1/deviations/{deviation['id']}/no-capa", json={"rationale": "   "})

    body = problem(response, 422, "invalid_input")
    assert body["field"] == "rationale"
    assert counts(db) == before


def test_an_extension_is_approved_by_qa_with_a_reason_and_the_due_date_is_audited(
    api: Any, db: Any
) -> None:
    qa, qc = api("qa"), api("qc")
    deviation = classified_deviation(db, api("operator"), qa, "qc")
    did, old_due = deviation["id"], deviation["due_at"]
    new_due = days_ahead(45)

    requested = qc.post(
        f"/api/v1/deviations/{did}/extensions",
        json={
            "requested_due_at": new_due,
            "justification": "Supplier analysis of the punch takes 6 weeks.",
        },
    )
    assert requested.status_code == 201, requested.text
    eid = requested.json()["id"]

    decided = qa.post(
        f"/api/v1/deviations/{did}/extensions/{eid}/decision",
        json={"approve": True, "reason": "Metallurgical analysis is needed for the root cause."},
    )

    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    shown = qa.get(f"/api/v1/deviations/{did}").json()
    assert shown["due_at"] == new_due.replace("+00:00", "Z")
    trail = qa.get(f"/api/v1/records/deviation/{did}/audit").json()["items"]
    extended = next(e for e in trail if e["action"] == "extend_due_date")
    assert [datetime.fromisoformat(v) for v in extended["changes"]["due_at"]] == [
        datetime.fromisoformat(old_due),
        datetime.fromisoformat(new_due),
    ]
    assert extended["reason"] == (
        "extension approved: Metallurgical analysis is needed for the root cause."
    )
    [task] = qc.get("/api/v1/tasks").json()
    assert task["due_at"] == new_due.replace("+00:00", "Z")


def test_the_requester_may_not_decide_their_own_extension(api: Any, db: Any) -> None:
    qa = api("qa")
    deviation = classified_deviation(db, api("operator"), qa, "qa")
    did = deviation["id"]
    eid = qa.post(
        f"/api/v1/deviations/{did}/extensions",
        json={"requested_due_at": days_ahead(40), "justification": "Waiting for the supplier."},
    ).json()["id"]
    before = counts(db)

    response = qa.post(
        f"/api/v1/deviations/{did}/extensions/{eid}/decision",
        json={"approve": True, "reason": "fine"},
    )

    problem(response, 403, "segregation_of_duties")
    assert counts(db) == before
    assert qa.get(f"/api/v1/deviations/{did}").json()["due_at"] == deviation["due_at"]


def test_a_deviation_past_its_due_date_is_listed_as_overdue(
    api: Any, db: Any, frozen_clock: clock.FrozenClock
) -> None:
    qa = api("qa")
    late = classified_deviation(db, api("operator"), qa, "qc")
    qa.post(
        f"/api/v1/deviations/{late['id']}/classification",
        json=classification(user_id(db, "qc"), classification="critical", reason="metal found"),
    )
    report_deviation(api("operator"), title="Second event, not yet classified")

    frozen_clock.advance(days=20)
    qa = api("qa")  # the morning's token has expired

    listed = qa.get("/api/v1/deviations", params={"overdue": True}).json()
    assert [(d["number"], d["classification"], d["overdue"]) for d in listed["items"]] == [
        ("DEV-2026-0001", "critical", True)
    ]
    every = qa.get("/api/v1/deviations", params={"area": "Production"}).json()
    assert every["total"] == 2


def test_a_connected_batch_platform_puts_named_batches_on_hold(api: Any, db: Any) -> None:
    held: list[impact.BatchImpact] = []

    def hold(_session: Any, batch: impact.BatchImpact, _actor: Any) -> bool:
        held.append(batch)
        return True

    impact.on_batch_impact(hold)
    try:
        deviation = report_deviation(api("operator"), batch_ids=["L2403-117", "L2403-118"])
    finally:
        impact.on_batch_impact(impact.hold_on_the_platform)

    assert [(b.batch_id, b.deviation_number) for b in held] == [
        ("L2403-117", "DEV-2026-0001"),
        ("L2403-118", "DEV-2026-0001"),
    ]
    assert [b["hold_status"] for b in deviation["batches"]] == ["on_hold", "on_hold"]


def test_reclassification_moves_the_due_date_and_needs_a_reason(api: Any, db: Any) -> None:
    qa = api("qa")
    deviation = classified_deviation(db, api("operator"), qa, "qc")
    before = counts(db)

    refused = qa.post(
        f"/api/v1/deviations/{deviation['id']}/classification",
        json=classification(user_id(db, "qc"), classification="critical"),
    )
    problem(refused, 422, "reason_required")
    assert counts(db) == before

    done = qa.post(
        f"/api/v1/deviations/{deviation['id']}/classification",
        json=classification(
            user_id(db, "qc"),
            classification="critical",
            reason="fragments found in retained tablets",
        ),
    ).json()
    discovered = datetime.fromisoformat(done["discovered_at"])
    assert datetime.fromisoformat(done["due_at"]) == discovered + timedelta(days=15)
    assert discovered.tzinfo == UTC


@pytest.mark.postgres
def test_a_lot_the_platform_knows_is_put_on_hold_the_others_await_a_manual_hold(
    api: Any, db: Any, people: Any
) -> None:
    from pharmaqms.kernel.uow import unit_of_work
    from pharmaqms.platform.masterdata import service as masterdata
    from pharmaqms.platform.masterdata.models import Lot

    with unit_of_work(db) as session:
        masterdata.add_product(
            session,
            actor=people.admin,
            gtin="05012345678900",
            code="PARA500",
            name="Paracetamol 500 mg tablets",
        )
        masterdata.add_lot(
            session,
            actor=people.admin,
            kind="finished",
            item_code="PARA500",
            lot_number="L2403-117",
            status="released",
        )

    deviation = report_deviation(api("operator"), batch_ids=["L2403-117", "SUPPLIER-99"])

    assert [(b["batch_id"], b["hold_status"]) for b in deviation["batches"]] == [
        ("L2403-117", "on_hold"),
        ("SUPPLIER-99", "hold_requested"),
    ]
    with unit_of_work(db, write=False) as session:
        lot = session.query(Lot).filter(Lot.lot_number == "L2403-117").one()
        assert (lot.status, lot.status_reason) == (
            "on_hold",
            "DEV-2026-0001: affected by the deviation",
        )


def test_a_cancelled_capa_is_no_capa_decision(api: Any, db: Any) -> None:
    qa, qa2, qc = api("qa"), api("qa2"), api("qc")
    deviation = classified_deviation(db, api("operator"), qa, "qc")
    did = deviation["id"]
    investigated = qc.post(f"/api/v1/deviations/{did}/investigation", json=INVESTIGATION).json()
    qc.post(
        f"/api/v1/deviations/{did}/batches/{investigated['batches'][0]['id']}/assessment",
        json={"impact_assessment": "All tablets passed the metal detector."},
    )
    capa = qc.post(
        "/api/v1/capas",
        json={
            "title": "Track punch life on all presses",
            "problem_statement": "Punches are used beyond their qualified life.",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(60),
            "source": {"source_type": "deviation", "source_id": did},
        },
    ).json()
    take(qc, "deviation", did, "submit")

    # given the only CAPA raised from the deviation is cancelled while it waits for approval
    take(qa, "capa", capa["id"], "cancel", reason="raised by mistake on the wrong press")
    version = qa2.get(f"/api/v1/deviations/{did}").json()["version"]
    before = counts(db)

    # when QA approves the deviation
    refused = qa2.post(
        f"/api/v1/records/deviation/{did}/transitions/approve",
        json={"password": PASSWORD, "expected_version": version},
    )

    # then it is refused: a cancelled CAPA is no CAPA decision, and nothing changed
    assert problem(refused, 409, "transition_not_allowed")["reasons"] == [
        "its CAPA (CAPA-2026-0001) was cancelled: raise another CAPA or give a rationale for "
        "'no CAPA'"
    ]
    assert counts(db) == before
    assert qa2.get(f"/api/v1/deviations/{did}").json()["status"] == "pending_approval"

    # and back in investigation the investigator may now decide 'no CAPA' with a rationale
    take(qa2, "deviation", did, "return_to_investigation", reason="its CAPA was cancelled")
    decided = qc.post(
        f"/api/v1/deviations/{did}/no-capa",
        json={"rationale": "One-off: the broken punch was from a recalled tooling lot."},
    )
    assert decided.status_code == 200, decided.text
    take(qc, "deviation", did, "submit")
    version = qa2.get(f"/api/v1/deviations/{did}").json()["version"]
    approved = take(qa2, "deviation", did, "approve", password=PASSWORD, expected_version=version)
    assert approved["status"] == "approved"


def test_no_capa_is_refused_while_a_capa_raised_from_the_deviation_stands(
    api: Any, db: Any
) -> None:
    qa, qc = api("qa"), api("qc")
    deviation = classified_deviation(db, api("operator"), qa, "qc")
    did = deviation["id"]
    qc.post(
        "/api/v1/capas",
        json={
            "title": "Track punch life on all presses",
            "problem_statement": "Punches are used beyond their qualified life.",
            "owner_id": user_id(db, "supervisor"),
            "due_at": days_ahead(60),
            "source": {"source_type": "deviation", "source_id": did},
        },
    )
    before = counts(db)

    response = qc.post(f"/api/v1/deviations/{did}/no-capa", json={"rationale": "not needed"})

    assert problem(response, 409, "conflict")["detail"] == (
        "CAPA-2026-0001 is raised from DEV-2026-0001: cancel it first if no CAPA is needed"
    )
    assert counts(db) == before


def test_a_class_below_the_risk_of_its_scores_is_refused(api: Any, db: Any) -> None:
    qa = api("qa")
    deviation = report_deviation(api("operator"))
    before = counts(db)

    # when QA calls a deviation minor that scores 5 on severity, probability and detectability
    response = qa.post(
        f"/api/v1/deviations/{deviation['id']}/classification",
        json=classification(
            user_id(db, "qc"), classification="minor", severity=5, probability=5, detectability=5
        ),
    )

    # then the configured matrix's risk level decides the least class, and nothing changed
    body = problem(response, 422, "invalid_input")
    assert (body["field"], body["detail"]) == (
        "classification",
        "severity 5, probability 5 and detectability 5 give a high risk on the 5x5 matrix, "
        "which makes it at least critical, not minor: raise the class or revise the scores "
        "and their basis",
    )
    assert counts(db) == before
    shown = qa.get(f"/api/v1/deviations/{deviation['id']}").json()
    assert (shown["status"], shown["classification"]) == ("reported", None)
