"""The monitoring pages as a browser uses them: the overview with each parameter's state, the
live chart page and the endpoint it polls, acknowledging and escalating from the alert list,
estimating limits and approving them with a signature, and every page read-only for an auditor."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.production.monitoring.setup import (
    REFERENCE,
    SERIES,
    approve_limits,
    deliver,
    monitor,
    reading,
    rows,
    seed,
    series,
)
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.kernel.clock import FrozenClock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.monitoring.models import ControlLimits, ProcessAlert

BASE = "/production/monitoring"


@pytest.fixture
def ui(app: Any) -> Any:
    """``ui("qa")`` → a browser stand-in logged in through the form."""

    def make(username: str) -> UiClient:
        client = UiClient(app)
        assert client.login(username).status_code == 303
        return client

    return make


def _floor(db: Database, people: Any, frozen_clock: FrozenClock) -> int:
    seed(db, people, "REF-1", "B-1", "B-2")
    parameter_id = monitor(db, people, lsl=4.0, usl=16.0)
    deliver(db, people, series("REF-1", REFERENCE, datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
    approve_limits(db, people, parameter_id, ["REF-1"])
    frozen_clock.advance(hours=2)
    deliver(db, people, rows(SERIES[:30]))
    return parameter_id


def _alert_ids(db: Database) -> dict[int, int]:
    with unit_of_work(db, write=False) as s:
        return {a.point_index: a.id for a in s.scalars(select(ProcessAlert))}


def test_the_live_chart_page_refreshes_when_a_reading_brings_an_alert(
    ui: Any, db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    parameter_id = _floor(db, people, frozen_clock)
    operator: UiClient = ui("operator")

    overview = operator.get(BASE)
    page = operator.get(f"{BASE}/parameters/{parameter_id}")

    assert overview.status_code == 200
    assert re.search(r'data-status="alert_open"[^>]*>5 alert\(s\) open<', overview.text)
    assert page.status_code == 200
    stamp = re.search(r'data-stamp="([^"]+)"', page.text)
    assert stamp is not None
    assert f'data-live-chart="{BASE}/parameters/{parameter_id}/live"' in page.text
    assert re.findall(r'data-index="(\d+)" data-rules="([\d,]+)"', page.text) == [
        ("6", "1"), ("8", "5"), ("9", "5"), ("16", "3"), ("17", "3"), ("23", "2"), ("24", "2"),
        ("25", "2"), ("26", "2"),
    ]  # fmt: skip
    # The moving range 13.5 → 9.6 on the MR panel (see test_live).
    assert re.findall(r'data-index="(\d+)" data-rules="MR"', page.text) == ["7"]
    live = f"{BASE}/parameters/{parameter_id}/live"
    assert operator.get(live, params={"since": stamp.group(1)}).json() == {
        "stamp": stamp.group(1),
        "changed": False,
    }

    # Readings 30 and 31 arrive: 31 completes rule 6.
    deliver(db, people, rows(SERIES[30:], first=30))
    polled = operator.get(live, params={"since": stamp.group(1)}).json()

    assert polled["changed"] is True and polled["stamp"] != stamp.group(1)
    assert polled["open_alerts"] == 6
    assert 'data-index="31" data-rules="6"' in polled["svg"]
    newest = polled["alerts"][0]
    assert (newest["rule"], newest["point_index"], newest["batch"]) == (
        "Nelson 6",
        31,
        "B-2",
    )


def test_an_alert_is_acknowledged_and_another_escalated_from_the_alert_list(
    ui: Any, db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    _floor(db, people, frozen_clock)
    ids = _alert_ids(db)
    supervisor: UiClient = ui("supervisor")
    listing = supervisor.get(f"{BASE}/alerts")
    assert listing.text.count('data-alert="SPC-2026-') == 5

    acknowledged = supervisor.follow(
        supervisor.post(
            f"{BASE}/alerts/{ids[6]}/acknowledge",
            {"comment": "Punch 7 replaced", "expected_version": "1", "next": f"{BASE}/alerts"},
            referer=f"{BASE}/alerts",
        )
    )
    escalated = supervisor.follow(
        supervisor.post(
            f"{BASE}/alerts/{ids[23]}/escalate",
            {"comment": "weight loop off", "expected_version": "1"},
            referer=f"{BASE}/alerts",
        )
    )
    twice = supervisor.follow(
        supervisor.post(
            f"{BASE}/alerts/{ids[23]}/escalate", {"expected_version": "3"}, referer=f"{BASE}/alerts"
        )
    )

    assert "acknowledged." in acknowledged.text
    assert acknowledged.text.count('data-alert="SPC-2026-') == 4  # the open ones
    deviation = re.search(r"escalated, deviation (DEV-2026-\d{4}) raised", escalated.text)
    assert deviation is not None
    assert f">{deviation.group(1)}</a>" in escalated.text
    assert "is not possible from status" in twice.text
    with unit_of_work(db, write=False) as s:
        statuses = {a.point_index: a.status for a in s.scalars(select(ProcessAlert))}
    assert statuses == {6: "acknowledged", 7: "open", 8: "open", 16: "open", 23: "escalated"}


def test_limits_are_estimated_on_their_page_and_approved_with_a_signature(
    ui: Any, db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    seed(db, people, "REF-1")
    deliver(db, people, series("REF-1", REFERENCE, datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
    supervisor: UiClient = ui("supervisor")
    supervisor.get(BASE)
    defined = supervisor.follow(
        supervisor.post(
            f"{BASE}/parameters",
            {
                "product_code": "P-TAB100",
                "unit_procedure": "Tableting",
                "operation": "Compression",
                "phase": "Main compression",
                "parameter": "compression_force",
                "unit": "kN",
                "classification": "CPP",
                "chart_kind": "I-MR",
                "subgroup_size": "1",
                "alert_roles": ["production_supervisor", "qa"],
            },
            referer=BASE,
        )
    )
    assert "monitored. Estimate its control limits next." in defined.text
    limits_url = str(defined.url).removeprefix("http://testserver")
    estimated = supervisor.follow(
        supervisor.post(limits_url, {"batches": ["REF-1"]}, referer=limits_url)
    )
    assert "limits estimated; QA approves them with a signature." in estimated.text
    with unit_of_work(db, write=False) as s:
        draft = s.scalars(select(ControlLimits)).one()
        draft_id, number = draft.id, draft.number

    qa: UiClient = ui("qa")
    page = qa.get(limits_url)
    assert 'data-transition="approve"' in page.text
    approved = qa.follow(
        qa.post(
            f"/records/control_limits/{draft_id}/transitions/approve",
            {"password": PASSWORD, "expected_version": "1"},
            referer=limits_url,
        )
    )

    assert f"{number} (revision 1): Approve the control limits done" in approved.text
    assert "Approved by Quentin Quality (qa)" in approved.text
    with unit_of_work(db, write=False) as s:
        assert s.get(ControlLimits, draft_id).status == "approved"  # type: ignore[union-attr]


def test_every_monitoring_page_renders_read_only_for_an_auditor(
    ui: Any, db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    from pharmaqms.lifecycle.production.monitoring import service

    parameter_id = _floor(db, people, frozen_clock)
    thickness_id = monitor(db, people, parameter="thickness", unit="mm", classification="CQA")
    with unit_of_work(db) as s:
        group = service.define_group(
            s,
            actor=people.qa,
            title="Force and thickness",
            parameter_ids=[parameter_id, thickness_id],
        )
        s.flush()
        group_id = group.id
    deliver(
        db,
        people,
        [
            reading(
                "B-2",
                "thickness",
                4.0,
                datetime(2026, 3, 2, 10, tzinfo=UTC) + timedelta(minutes=1),
                unit="mm",
            )
        ],
    )
    auditor: UiClient = ui("auditor")
    alert_id = _alert_ids(db)[6]

    for url in (
        BASE,
        f"{BASE}/parameters/{parameter_id}",
        f"{BASE}/parameters/{parameter_id}/limits",
        f"{BASE}/parameters/{parameter_id}/chart.svg",
        f"{BASE}/groups/{group_id}",
        f"{BASE}/alerts",
        f"{BASE}/alerts?status=",
        f"{BASE}/alerts/{alert_id}",
    ):
        page = auditor.get(url)
        assert page.status_code == 200, url
        assert '<form method="post" action="/production' not in page.text, url
