"""Process monitoring through the API: alerts acknowledged with a comment and escalated to a
deviation in one step (linked back to the alert, naming the batch), the refusals that change
nothing, limits refused for a too small reference, the signed approval, the chart and its SVG,
and the capability of a window and per month."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.lifecycle.production.monitoring.setup import (
    REFERENCE,
    SERIES,
    approve_limits,
    deliver,
    monitor,
    rows,
    seed,
    series,
)
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.clock import FrozenClock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature, Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.monitoring.models import ControlLimits
from pharmaqms.quality.deviations.models import Deviation

URL = "/api/v1/production/monitoring"


def _floor(db: Database, people: Any, frozen_clock: FrozenClock) -> int:
    seed(db, people, "REF-1", "B-1", "B-2")
    parameter_id = monitor(db, people, lsl=4.0, usl=16.0)
    deliver(db, people, series("REF-1", REFERENCE, datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
    approve_limits(db, people, parameter_id, ["REF-1"])
    frozen_clock.advance(hours=2)
    deliver(db, people, rows(SERIES))
    return parameter_id


def _counts(db: Database) -> tuple[int, int, int, int]:
    with unit_of_work(db, write=False) as s:
        return (
            s.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            s.scalar(select(func.count()).select_from(Deviation)) or 0,
            s.scalar(select(func.count()).select_from(ElectronicSignature)) or 0,
            s.scalar(select(func.count()).select_from(ControlLimits)) or 0,
        )


@pytest.mark.postgres
def test_an_alert_is_acknowledged_with_a_comment_and_escalated_to_a_deviation_in_one_step(
    api: Any, db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    parameter_id = _floor(db, people, frozen_clock)
    operator, supervisor = api("operator"), api("supervisor")
    listed = operator.get(f"{URL}/alerts", params={"parameter_id": parameter_id, "status": "open"})
    assert listed.status_code == 200, listed.text
    by_point = {a["point_index"]: a for a in listed.json()}
    assert sorted(by_point) == [6, 7, 8, 16, 23, 31]  # 7: the moving range (see test_live)

    # Acknowledged by the operator on the line, with what was found.
    spike = by_point[6]
    acknowledged = operator.post(
        f"{URL}/alerts/{spike['id']}/acknowledge",
        json={"comment": "Punch 7 chipped; press stopped, punch replaced", "expected_version": 1},
    )
    assert acknowledged.status_code == 200, acknowledged.text
    body = acknowledged.json()
    assert (body["status"], body["acknowledgement"], body["batch"]) == (
        "acknowledged",
        "Punch 7 chipped; press stopped, punch replaced",
        "B-1",
    )
    assert body["acknowledged_by_id"] == people.operator.user_id
    with unit_of_work(db, write=False) as s:
        statuses = s.scalars(
            select(Task.status).where(
                Task.record_type == "process_alert", Task.record_id == spike["id"]
            )
        ).all()
        assert sorted(statuses) == ["done", "done"]

    # Escalated by the supervisor: one step, one deviation, linked both ways.
    drift = by_point[23]
    escalated = supervisor.post(
        f"{URL}/alerts/{drift['id']}/escalate",
        json={"comment": "Fill depth drifted after the weight control loop was switched off"},
    )
    assert escalated.status_code == 200, escalated.text
    alert = escalated.json()
    assert alert["status"] == "escalated"
    assert re.fullmatch(r"DEV-2026-\d{4}", alert["deviation_number"])
    deviation = supervisor.get(f"/api/v1/deviations/{alert['deviation_id']}").json()
    assert deviation["number"] == alert["deviation_number"]
    assert deviation["status"] == "reported"
    assert [b["batch_id"] for b in deviation["batches"]] == ["B-2"]
    assert deviation["title"] == (
        f"SPC: Nine points in a row on the same side of the centre line on "
        f"{drift['subject']} (batch B-2)"
    )
    assert (
        "Fill depth drifted after the weight control loop was switched off"
        in (deviation["description"])
    )
    links = supervisor.get(
        "/api/v1/quality-links", params={"record_type": "process_alert", "record_id": drift["id"]}
    ).json()
    assert [(link["record_type"], link["record_id"]) for link in links["led_to"]] == [
        ("deviation", alert["deviation_id"])
    ]
    back = supervisor.get(
        "/api/v1/quality-links",
        params={"record_type": "deviation", "record_id": alert["deviation_id"]},
    ).json()
    assert [(link["record_type"], link["label"]) for link in back["raised_from"]] == [
        ("process_alert", alert["number"])
    ]


@pytest.mark.postgres
def test_acknowledging_twice_or_escalating_twice_is_refused_and_changes_nothing(
    api: Any, db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    parameter_id = _floor(db, people, frozen_clock)
    operator, supervisor = api("operator"), api("supervisor")
    alerts = operator.get(f"{URL}/alerts", params={"parameter_id": parameter_id}).json()
    first, second = alerts[-1]["id"], alerts[-2]["id"]
    assert (
        operator.post(f"{URL}/alerts/{first}/acknowledge", json={"comment": "seen"}).status_code
        == 200
    )
    assert supervisor.post(f"{URL}/alerts/{second}/escalate", json={}).status_code == 200
    before = _counts(db)
    versions = {a["id"]: a["version"] for a in operator.get(f"{URL}/alerts").json()}

    again = operator.post(f"{URL}/alerts/{first}/acknowledge", json={"comment": "seen again"})
    twice = supervisor.post(f"{URL}/alerts/{second}/escalate", json={"comment": "once more"})
    no_comment = operator.post(f"{URL}/alerts/{alerts[-3]['id']}/acknowledge", json={"comment": ""})
    not_theirs = operator.post(f"{URL}/alerts/{alerts[-3]['id']}/escalate", json={})

    assert (again.status_code, again.json()["code"]) == (409, "transition_not_allowed")
    assert (twice.status_code, twice.json()["code"]) == (409, "transition_not_allowed")
    assert no_comment.status_code == 422
    assert (not_theirs.status_code, not_theirs.json()["code"]) == (403, "permission_denied")
    assert _counts(db) == before
    assert {a["id"]: a["version"] for a in operator.get(f"{URL}/alerts").json()} == versions
    assert operator.get(f"{URL}/alerts/{first}").json()["acknowledgement"] == "seen"


@pytest.mark.postgres
def test_limits_from_too_few_points_are_refused_with_the_reason(
    api: Any, db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    seed(db, people, "REF-1")
    parameter_id = monitor(db, people)
    deliver(db, people, series("REF-1", REFERENCE[:12], datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
    supervisor = api("supervisor")
    before = _counts(db)

    refused = supervisor.post(
        f"{URL}/parameters/{parameter_id}/limits", json={"batches": ["REF-1"]}
    )

    assert refused.status_code == 409
    problem = refused.json()
    assert (problem["code"], problem["detail"], problem["points"], problem["needed"]) == (
        "reference_too_small",
        "the reference holds 12 readings; I-MR control limits need at least 20",
        12,
        20,
    )
    assert _counts(db) == before


def test_limits_are_approved_by_qa_with_a_signature_and_supersede_the_previous(
    api: Any, db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    seed(db, people, "REF-1", "REF-2")
    parameter_id = monitor(db, people)
    deliver(db, people, series("REF-1", REFERENCE, datetime(2026, 3, 2, 7, 0, tzinfo=UTC)))
    deliver(db, people, series("REF-2", REFERENCE, datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
    supervisor, qa = api("supervisor"), api("qa")
    first = supervisor.post(f"{URL}/parameters/{parameter_id}/limits", json={"batches": ["REF-1"]})
    assert first.status_code == 201, first.text
    draft = first.json()
    assert (draft["status"], draft["revision"], draft["reference_points"]) == ("draft", 1, 20)
    assert (round(draft["center"], 9), round(draft["sigma"], 9)) == (10.0, 1.0)

    own = supervisor.post(
        f"/api/v1/records/control_limits/{draft['id']}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(supervisor, "control_limits", draft["id"]),
        },
    )
    assert own.status_code == 403  # supervisors don't approve limits, and never their own
    approved = qa.post(
        f"/api/v1/records/control_limits/{draft['id']}/transitions/approve",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(qa, "control_limits", draft["id"]),
        },
    )
    assert approved.status_code == 200, approved.text
    window = supervisor.post(
        f"{URL}/parameters/{parameter_id}/limits",
        json={"start": "2026-03-02T07:00:00Z", "end": "2026-03-02T09:00:00Z"},
    ).json()
    assert (window["revision"], window["reference_points"], window["reference_batches"]) == (
        2,
        40,
        [],
    )
    frozen_clock.advance(hours=1)
    assert (
        qa.post(
            f"/api/v1/records/control_limits/{window['id']}/transitions/approve",
            json={
                "password": PASSWORD,
                "expected_version": reviewed_version(qa, "control_limits", window["id"]),
            },
        ).status_code
        == 200
    )

    revisions = supervisor.get(f"{URL}/parameters/{parameter_id}/limits").json()
    assert [(r["revision"], r["status"]) for r in revisions] == [(2, "approved"), (1, "superseded")]
    assert [s["meaning"] for s in revisions[0]["signatures"]] == ["Approved"]
    assert revisions[0]["signatures"][0]["valid_for_current_content"] is True
    assert revisions[0]["effective_from"] == "2026-03-02T10:00:00Z"
    parameter = supervisor.get(f"{URL}/parameters/{parameter_id}").json()
    assert parameter["limits_in_force"]["number"] == window["number"]


def test_the_chart_marks_every_violating_point_with_its_rules(
    api: Any, db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    parameter_id = _floor(db, people, frozen_clock)
    reader = api("auditor")

    data = reader.get(f"{URL}/parameters/{parameter_id}/chart").json()
    svg = reader.get(f"{URL}/parameters/{parameter_id}/chart.svg")

    flagged = {p["index"]: p["rules"] for p in data["points"] if p["rules"]}
    expected = {
        6: [1], 8: [5], 9: [5], 16: [3], 17: [3], 23: [2], 24: [2], 25: [2], 26: [2], 31: [6]
    }  # fmt: skip
    assert flagged == expected
    assert [p["index"] for p in data["points"]] == list(range(32))
    assert data["open_alerts"] == 6
    assert svg.headers["content-type"] == "image/svg+xml"
    marked = re.findall(
        r'class="point violation" data-index="(\d+)" data-rules="([\d,]+)"', svg.text
    )
    assert {int(i): [int(r) for r in rules.split(",")] for i, rules in marked} == expected
    location, moving_ranges = (
        svg.text.split('data-panel="I"')[1],
        svg.text.split('data-panel="MR"')[1],
    )
    assert location.split("</g>")[0].count('class="point"') == 32 - len(expected)
    # The MR panel: 31 moving ranges, the one beyond its UCL (point 7) marked.
    mr_panel = moving_ranges.split("</g>")[0]
    assert mr_panel.count('class="point"') == 30
    assert re.findall(r'class="point violation" data-index="(\d+)" data-rules="MR"', mr_panel) == [
        "7"
    ]
    assert 'class="limit ucl"' in svg.text and "UCL 13" in svg.text


def test_capability_of_a_window_and_per_month(
    api: Any, db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    seed(db, people, "REF-1")
    parameter_id = monitor(db, people, lsl=4.0, usl=16.0)
    deliver(db, people, series("REF-1", REFERENCE, datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
    reader = api("qa")

    window = reader.get(
        f"{URL}/parameters/{parameter_id}/capability",
        params={"start": "2026-03-01T00:00:00Z", "end": "2026-03-03T00:00:00Z"},
    ).json()
    trend = reader.get(f"{URL}/parameters/{parameter_id}/capability-trend", params={"months": 3})

    # Mean 10, within σ = MR̄/d2 = 1, overall s = (d2/2)·√(20/19) = 0.5788463: by hand,
    # Cp = Cpk = 12/6 = 2, Pp = Ppk = 12/(6·0.5788463) = 3.45515.
    indices = window["indices"]
    assert (window["readings"], window["points"], window["reason"]) == (20, 20, None)
    assert [round(indices[k], 4) for k in ("cp", "cpk", "pp", "ppk")] == [2.0, 2.0, 3.4551, 3.4551]
    assert [
        (m["month"], m["points"], m["cpk"] and round(m["cpk"], 4), m["reason"])
        for m in trend.json()
    ] == [
        ("2026-01-01", 0, None, "0 points; capability needs at least 20"),
        ("2026-02-01", 0, None, "0 points; capability needs at least 20"),
        ("2026-03-01", 20, 2.0, None),
    ]
