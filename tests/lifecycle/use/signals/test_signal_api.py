"""The signal API (``/api/v1/pv/signals…``): a detection run, the disproportionality table
linked to the signal, the lifecycle with signatures naming the version reviewed, and
refusals as problem+json that change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from tests.lifecycle.use.signals.signal_steps import add_qppv, counts, take_in
from tests.support import PASSWORD

from pharmaqms.kernel import clock


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database is made on real time; the tests then run on 2 March 2026."""


@pytest.mark.postgres
def test_detection_the_table_and_the_signed_lifecycle(db: Any, people: Any, api: Any) -> None:
    take_in(db, people)
    add_qppv(db)
    pv, qppv, qa = api("pv"), api("qppv"), api("qa")

    run = pv.post("/api/v1/pv/signals/detection", json={"methods": ["prr", "ror"]})
    assert run.status_code == 200, run.text
    outcome = run.json()
    assert (outcome["pairs"], outcome["flagged"]) == (3, 1)
    [opened] = outcome["opened"]
    assert (opened["product"], opened["event_term"], opened["status"]) == (
        "Drug X",
        "hepatitis",
        "detected",
    )
    again = pv.post("/api/v1/pv/signals/detection", json={"methods": ["prr", "ror"]}).json()
    assert (again["opened"], [s["id"] for s in again["unchanged"]]) == ([], [opened["id"]])

    table = qa.get("/api/v1/pv/signals/pairs?methods=prr,ror")
    assert table.status_code == 200, table.text
    first = table.json()[0]
    assert (first["product"], first["flagged_by"], first["signal_number"]) == (
        "Drug X",
        ["prr", "ror"],
        opened["number"],
    )
    assert [first["figures"][k] for k in "abcd"] == [4, 1, 1, 10]

    signal_url = f"/api/v1/pv/signals/{opened['id']}"
    detail = qa.get(signal_url).json()
    assert (detail["table"], len(detail["evidence"])) == ({"a": 4, "b": 1, "c": 1, "d": 10}, 4)

    # A signed step without the version reviewed is refused, and so is a wrong password.
    before = counts(db)
    missing = pv.post(f"{signal_url}/validate", json={"password": PASSWORD})
    assert missing.status_code == 422, missing.text
    assert counts(db) == before
    wrong = pv.post(
        f"{signal_url}/validate",
        json={"password": "wrong-one", "expected_version": detail["version"]},
    )
    assert wrong.status_code == 401, wrong.text
    assert qa.get(signal_url).json()["status"] == "detected"

    valid = pv.post(
        f"{signal_url}/validate",
        json={"password": PASSWORD, "expected_version": detail["version"]},
    )
    assert valid.status_code == 200, valid.text
    assert valid.json()["signatures"][0]["meaning"] == "Reviewed"

    # QA may read signals but not assess them.
    body = {
        "assessment": "Four cases, plausible mechanism.",
        "conclusion": "confirmed",
        "risk": "important_potential_risk",
    }
    denied = qa.post(f"{signal_url}/assessment", json=body)
    assert denied.status_code == 403, denied.text
    assessed = pv.post(f"{signal_url}/assessment", json=body)
    assert assessed.status_code == 200, assessed.text
    assert assessed.json()["status"] == "assessed"

    change = pv.post(
        f"{signal_url}/actions",
        json={
            "kind": "label_change",
            "title": "SmPC 4.8: add hepatitis",
            "description": "Add hepatitis to section 4.8 and the package leaflet.",
        },
    )
    assert change.status_code == 201, change.text
    acted = change.json()
    assert acted["status"] == "action"
    [action] = acted["actions"]
    assert action["record_type"] == "change_request"
    assert [link["label"] for link in acted["links"]["led_to"]] == [action["record_number"]]

    closed = qppv.post(
        f"{signal_url}/close",
        json={"password": PASSWORD, "expected_version": acted["version"]},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    listed = qa.get("/api/v1/pv/signals").json()
    assert [(s["number"], s["status"], s["overdue"]) for s in listed["items"]] == [
        (opened["number"], "closed", False)
    ]


def test_bad_input_is_refused_with_its_field(db: Any, people: Any, api: Any) -> None:
    pv = api("pv")
    before = counts(db)
    bad = pv.post("/api/v1/pv/signals/detection", json={"methods": ["prr", "bogus"]})
    assert bad.status_code == 422, bad.text
    assert "bogus" in bad.text
    manual = pv.post(
        "/api/v1/pv/signals",
        json={"product": "Drug X", "event_term": "hepatitis", "meddra_code": "12", "basis": "x"},
    )
    assert manual.status_code == 422, manual.text
    assert "meddra_code" in manual.text
    assert counts(db) == before
