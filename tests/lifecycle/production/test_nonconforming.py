"""Nonconforming product: a held lot, a disposition signed by the right people only — a release
under concession needs QA and then the Qualified Person — and the records a critical deviation
opens for its batches."""

from __future__ import annotations

from typing import Any

import pytest
from tests.lifecycle.production.setup import add_batch, lot_status, seed_master_data, trail_counts
from tests.support import PASSWORD, reviewed_version


@pytest.fixture
def floor(api, db, people, frozen_clock):  # type: ignore[no-untyped-def]
    seed_master_data(db, people)
    return {"qa": api("qa"), "qa2": api("qa2"), "qp": api("qp"), "supervisor": api("supervisor")}


def step(client: Any, nc_id: int, name: str, **body: Any) -> Any:
    if "password" in body:  # a signer signs the version they reviewed
        body["expected_version"] = reviewed_version(client, "nonconforming_product", nc_id)
    return client.post(
        f"/api/v1/records/nonconforming_product/{nc_id}/transitions/{name}", json=body
    )


def test_a_concession_needs_qa_then_the_qualified_person_and_no_one_else(
    floor, api, db, people
) -> None:  # type: ignore[no-untyped-def]
    qa, qa2, qp = floor["qa"], floor["qa2"], floor["qp"]
    batch = add_batch(db, people, "N26001")
    reported = floor["supervisor"].post(
        "/api/v1/production/nonconformances",
        json={
            "lot_id": batch,
            "found_in": "AQL inspection of the packed batch",
            "description": "Blister print partly illegible on 0.3 % of packs (lot and expiry).",
        },
    )
    assert reported.status_code == 201, reported.text
    nc = reported.json()
    assert (nc["number"], nc["status"], nc["lot_status_before_hold"]) == (
        "NC-2026-0001",
        "open",
        "quarantine",
    )
    assert lot_status(db, batch) == "on_hold"

    qa.post(
        f"/api/v1/production/nonconformances/{nc['id']}/disposition",
        json={"disposition": "release_under_concession", "rationale": "Legible on 99.7 %."},
    )
    before = trail_counts(db)
    no_terms = step(qa, nc["id"], "propose")
    assert no_terms.status_code == 409
    assert no_terms.json()["reasons"] == [
        "a concession must state its terms (what is accepted, for what, why)"
    ]
    assert trail_counts(db) == before
    qa.post(
        f"/api/v1/production/nonconformances/{nc['id']}/disposition",
        json={
            "disposition": "release_under_concession",
            "rationale": "Legible on 99.7 % of packs; illegible packs sorted out by 100 % check.",
            "concession_terms": "Release after 100 % visual check; for the EU market only.",
        },
    )
    assert step(qa, nc["id"], "propose").status_code == 200

    before = trail_counts(db)
    refusals = [
        (step(qa2, nc["id"], "approve", password=PASSWORD), 409, "transition_not_allowed"),
        (step(qa, nc["id"], "approve_for_qp", password=PASSWORD), 403, "segregation_of_duties"),
        (step(qp, nc["id"], "approve_for_qp", password=PASSWORD), 403, "permission_denied"),
    ]
    for response, status, code in refusals:
        assert (response.status_code, response.json()["code"]) == (status, code)
    assert trail_counts(db) == before

    assert step(qa2, nc["id"], "approve_for_qp", password=PASSWORD).json()["status"] == "qp_review"
    before = trail_counts(db)
    by_qa = step(qa2, nc["id"], "certify_concession", password=PASSWORD)
    assert (by_qa.status_code, by_qa.json()["code"]) == (403, "permission_denied")
    assert trail_counts(db) == before
    assert lot_status(db, batch) == "on_hold"

    certified = step(qp, nc["id"], "certify_concession", password=PASSWORD)
    assert certified.status_code == 200, certified.text
    assert certified.json()["status"] == "approved"
    assert lot_status(db, batch) == "quarantine"  # back into batch certification
    shown = qa.get(f"/api/v1/production/nonconformances/{nc['id']}").json()
    assert [(s["meaning"], s["signer_username"]) for s in shown["signatures"]] == [
        ("Approved", "qa2"),
        ("Approved", "qp"),
    ]


def test_a_rework_keeps_the_hold_until_done_and_returns_the_lot_to_testing(
    floor, db, people
) -> None:  # type: ignore[no-untyped-def]
    qa, qa2, supervisor = floor["qa"], floor["qa2"], floor["supervisor"]
    batch = add_batch(db, people, "N26002")
    nc = supervisor.post(
        "/api/v1/production/nonconformances",
        json={"lot_id": batch, "found_in": "IPC", "description": "Tablets over hardness limit."},
    ).json()
    supervisor.post(
        f"/api/v1/production/nonconformances/{nc['id']}/disposition",
        json={"disposition": "reprocess", "rationale": "Re-mill and recompress per MBR 4.2."},
    )
    step(supervisor, nc["id"], "propose")
    assert step(qa, nc["id"], "approve", password=PASSWORD).status_code == 200
    assert lot_status(db, batch) == "on_hold"
    before = trail_counts(db)
    early = step(qa2, nc["id"], "close", password=PASSWORD)
    assert early.status_code == 409
    assert trail_counts(db) == before
    qa.post(
        f"/api/v1/production/nonconformances/{nc['id']}/execution",
        json={"execution_record": "Reprocessed under batch record N26002-R1."},
    )
    assert step(qa2, nc["id"], "close", password=PASSWORD).json()["status"] == "closed"
    assert lot_status(db, batch) == "quarantine"


def deviation(client: Any, batch_ids: list[str]) -> int:
    reported = client.post(
        "/api/v1/deviations",
        json={
            "title": "Wrong API lot dispensed at granulation",
            "description": "Lot of another strength dispensed; found at line clearance.",
            "area": "Production",
            "occurred_at": "2026-03-01T10:00:00Z",
            "discovered_at": "2026-03-01T14:00:00Z",
            "batch_ids": batch_ids,
            "immediate_actions": "Line stopped, batches segregated.",
        },
    )
    assert reported.status_code == 201, reported.text
    return int(reported.json()["id"])


def classify(client: Any, deviation_id: int, kind: str, investigator_id: int) -> None:
    classified = client.post(
        f"/api/v1/deviations/{deviation_id}/classification",
        json={
            "classification": kind,
            # Scores that give each class on the 5x5 matrix (low, medium, high risk).
            "severity": {"minor": 2, "major": 3, "critical": 5}[kind],
            "probability": 2 if kind == "minor" else 3,
            "detectability": 2 if kind == "minor" else 3,
            "severity_basis": "Wrong strength reaches patients.",
            "probability_basis": "Happened once.",
            "detectability_basis": "Found at line clearance.",
            "investigator_id": investigator_id,
        },
    )
    assert classified.status_code == 200, classified.text


def test_a_critical_deviation_opens_a_held_record_for_each_of_its_batches_as_it_is_classified(
    floor, api, db, people
) -> None:  # type: ignore[no-untyped-def]
    qa, supervisor = floor["qa"], floor["supervisor"]
    first, second = add_batch(db, people, "D26001"), add_batch(db, people, "D26002")
    deviation_id = deviation(supervisor, ["D26001", "D26002", "X-UNKNOWN"])

    classify(qa, deviation_id, "critical", people.supervisor.user_id)

    # The classification itself opened the records (the deviation module's hook).
    assert (lot_status(db, first), lot_status(db, second)) == ("on_hold", "on_hold")
    listed = qa.get("/api/v1/production/nonconformances").json()
    assert sorted(r["number"] for r in listed) == ["NC-2026-0001", "NC-2026-0002"]
    opened = qa.post(f"/api/v1/production/nonconformances/from-deviation/{deviation_id}")
    assert opened.status_code == 200, opened.text
    assert opened.json() == {
        "opened": [],
        "already_open": ["NC-2026-0001", "NC-2026-0002"],
        "unknown_batches": ["X-UNKNOWN"],
    }
    [record] = qa.get("/api/v1/production/nonconformances", params={"lot_id": first}).json()
    assert (record["source_type"], record["source_id"]) == ("deviation", deviation_id)
    assert record["description"].startswith("Critical deviation DEV-2026-0001: ")

    before = trail_counts(db)
    again = qa.post(f"/api/v1/production/nonconformances/from-deviation/{deviation_id}")
    assert again.json()["already_open"] == ["NC-2026-0001", "NC-2026-0002"]
    assert trail_counts(db) == before


def test_a_minor_deviation_opens_nothing(floor, db, people) -> None:  # type: ignore[no-untyped-def]
    qa = floor["qa"]
    batch = add_batch(db, people, "D26003")
    deviation_id = deviation(floor["supervisor"], ["D26003"])
    classify(qa, deviation_id, "minor", people.supervisor.user_id)
    before = trail_counts(db)
    refused = qa.post(f"/api/v1/production/nonconformances/from-deviation/{deviation_id}")
    assert (refused.status_code, refused.json()["field"]) == (422, "classification")
    assert trail_counts(db) == before
    # Held by the deviation itself (its batch impact), but no nonconforming product record.
    assert lot_status(db, batch) == "on_hold"
    assert qa.get("/api/v1/production/nonconformances", params={"lot_id": batch}).json() == []
