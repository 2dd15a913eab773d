"""The cold chain over HTTP: the alarm register with its flags, the verbs with their refusals
(nothing changed), an excursion with its lots and budget, QA's signed assessment; the alarm
board and the temperature curve pages (SVG with limits, gaps and alarm marks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.lifecycle.distribution.alarms.setup import deliver, seed, snapshot
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.masterdata import service as masterdata

BASE = "/api/v1/distribution"
BREACH = [5.0, 5.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 5.0]


@pytest.fixture
def ui(app: Any) -> Any:
    def make(username: str) -> UiClient:
        client = UiClient(app)
        assert client.login(username).status_code == 303
        return client

    return make


@pytest.mark.postgres
def test_alarm_verbs_and_the_excursion_assessment_over_the_api(
    db, people, api, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seed(db, people)
    with unit_of_work(db) as s:
        masterdata.add_lot(
            s,
            actor=people.admin,
            kind="finished",
            item_code="VAX01",
            lot_number="V2403",
            status="released",
        )
    deliver(db, people, BREACH)
    logistics, qa, operator = api("logistics"), api("qa"), api("operator")
    listing = logistics.get(f"{BASE}/alarms")
    assert listing.status_code == 200
    rows = listing.json()
    assert [(r["kind"], r["unacknowledged"], r["overdue"]) for r in rows] == [
        ("alarm", True, False),
        ("pre_alarm", True, False),
    ]
    alarm_id = rows[0]["id"]

    before = snapshot(db)
    empty = logistics.post(f"{BASE}/alarms/{alarm_id}/acknowledge", json={"comment": "  "})
    assert empty.status_code == 422 and empty.headers["content-type"].startswith(
        "application/problem+json"
    )
    early = qa.post(f"{BASE}/alarms/{alarm_id}/assess", json={"comment": "fine"})
    assert early.status_code == 409
    denied = operator.post(f"{BASE}/alarms/{alarm_id}/acknowledge", json={"comment": "x"})
    assert denied.status_code == 403
    assert snapshot(db) == before

    ok = logistics.post(f"{BASE}/alarms/{alarm_id}/acknowledge", json={"comment": "door shut"})
    assert ok.status_code == 200 and ok.json()["status"] == "acknowledged"
    assert (
        qa.post(f"{BASE}/alarms/{alarm_id}/assess", json={"comment": "see EXA"}).json()["status"]
        == "assessed"
    )
    before = snapshot(db)
    assert qa.post(f"{BASE}/alarms/{alarm_id}/assess", json={"comment": "again"}).status_code == 409
    assert snapshot(db) == before
    assert (
        qa.post(f"{BASE}/alarms/{alarm_id}/close", json={"comment": "done"}).json()["status"]
        == "closed"
    )

    excursion_id = rows[0]["excursion_id"]
    named = qa.post(f"{BASE}/excursions/{excursion_id}/lots", json={"lot_number": "V2403"})
    assert named.status_code == 201, named.text
    assert [(lot["lot"], lot["status"], lot["held"]) for lot in named.json()["lots"]] == [
        ("V2403", "on_hold", True)
    ]
    assert (
        qa.post(
            f"{BASE}/excursions/{excursion_id}/assessment",
            json={"disposition": "usable", "rationale": "35 min", "password": "wrong"},
        ).status_code
        == 401
    )
    signed = qa.post(
        f"{BASE}/excursions/{excursion_id}/assessment",
        json={"disposition": "usable", "rationale": "35 min at 9 °C", "password": PASSWORD},
    )
    assert signed.status_code == 201, signed.text
    body = signed.json()
    assert (body["status"], body["disposition"], [s["meaning"] for s in body["signatures"]]) == (
        "signed",
        "usable",
        ["Approved"],
    )
    detail = qa.get(f"{BASE}/excursions/{excursion_id}").json()
    assert (detail["disposition"], detail["duration_min"], detail["lots"][0]["status"]) == (
        "usable",
        35.0,
        "released",
    )


def test_the_alarm_board_flags_and_the_curve_shows_limits_gaps_and_alarms(
    db, people, ui, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seed(db, people, acknowledge_within_min=10.0)
    deliver(db, people, BREACH + [5.0] * 6, skip=frozenset({11, 12, 13, 14}))
    frozen_clock.advance(minutes=11)
    client = ui("logistics")
    board = client.get("/distribution/alarms")
    assert board.status_code == 200
    assert board.text.count('data-alarm="CCA-2026-') == 3
    assert board.text.count('class="flag-overdue"') == 3
    page = client.get("/distribution/curves")
    assert page.status_code == 200
    svg = page.text
    assert 'class="temperature-curve"' in svg
    assert 'data-limit="8"' in svg and 'data-limit="2"' in svg
    # The silence 06:50–07:15 is drawn as missing data and breaks the line.
    start = datetime(2026, 3, 2, 6, 50, tzinfo=UTC).isoformat()
    assert f'class="gap" data-start="{start}"' in svg
    assert svg.count('class="reading-line') == 2
    assert svg.count('class="alarm-mark') == 3
    assert "style=" not in svg
    kpis = client.get("/distribution/kpi")
    assert kpis.status_code == 200 and 'data-testid="kpi-excursion-rate"' in kpis.text


def test_an_alarm_is_answered_on_its_page_and_an_empty_comment_changes_nothing(
    db, people, ui, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seed(db, people)
    deliver(db, people, BREACH)
    client = ui("logistics")
    board = client.get("/distribution/alarms")
    alarm_id = int(board.text.split('href="/distribution/alarms/')[1].split('"')[0])
    page = client.get(f"/distribution/alarms/{alarm_id}")
    assert f"/distribution/alarms/{alarm_id}/acknowledge" in page.text
    version = page.text.split('name="expected_version" value="')[1].split('"')[0]
    before = snapshot(db)
    refused = client.post(
        f"/distribution/alarms/{alarm_id}/acknowledge",
        {"comment": " ", "expected_version": version},
        referer=f"/distribution/alarms/{alarm_id}",
    )
    assert refused.status_code in (303, 422)
    assert snapshot(db) == before
    done = client.follow(
        client.post(
            f"/distribution/alarms/{alarm_id}/acknowledge",
            {"comment": "Door shut", "expected_version": version},
            referer=f"/distribution/alarms/{alarm_id}",
        )
    )
    assert "acknowledged." in done.text
    assert f"/distribution/alarms/{alarm_id}/assess" in done.text
