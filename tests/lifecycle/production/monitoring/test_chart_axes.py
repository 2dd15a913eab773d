"""A control chart a reader can read: values on the y axis, the points' times on the x axis and in
each point's title in the reader's zone, a date range that limits the points shown, and alerts
that name their point by time and value, never by its position in the series."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
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
from tests.web.conftest import UiClient

from pharmaqms.kernel.clock import FrozenClock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.user_time_zones import set_time_zone
from pharmaqms.lifecycle.production.monitoring.alerts import point_text
from pharmaqms.lifecycle.production.monitoring.models import ProcessAlert

BASE = "/production/monitoring"
# Readings of the live series are measured from 09:01 UTC on 2 March 2026, one a minute: in
# Shanghai (UTC+8 all year) 17:01 on.
ZONE = "Asia/Shanghai"


@pytest.fixture
def chart(app: Any, db: Database, people: Any, frozen_clock: FrozenClock) -> tuple[UiClient, int]:
    """The operator, reading in Shanghai, and the parameter with 30 points after its limits."""
    seed(db, people, "REF-1", "B-1", "B-2")
    parameter_id = monitor(db, people, lsl=4.0, usl=16.0)
    deliver(db, people, series("REF-1", REFERENCE, datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
    approve_limits(db, people, parameter_id, ["REF-1"])
    frozen_clock.advance(hours=2)
    deliver(db, people, rows(SERIES[:30]))
    operator = people.actor("operator")
    with unit_of_work(db) as s:
        set_time_zone(s, actor=operator, user_id=operator.user_id, time_zone=ZONE)
    client = UiClient(app)
    assert client.login("operator").status_code == 303
    return client, parameter_id


def _points(svg: str) -> list[int]:
    """The indexes of the location panel's points."""
    location = svg.split('data-panel="MR"')[0]
    return [int(i) for i in re.findall(r'class="point[^"]*" data-index="(\d+)"', location)]


def test_the_chart_names_its_points_times_in_the_readers_zone_and_its_values(
    chart: tuple[UiClient, int],
) -> None:
    client, parameter_id = chart

    page = client.get(f"{BASE}/parameters/{parameter_id}")

    assert page.status_code == 200
    x_labels = re.findall(r'class="x-label" data-point="(\d+)">([^<]+)<', page.text)
    assert x_labels == [
        ("0", "2026-03-02 17:01"),
        ("5", "17:06"),
        ("10", "17:11"),
        ("15", "17:16"),
        ("20", "17:21"),
        ("25", "17:26"),
    ]
    assert f"time ({ZONE})" in page.text
    # The I panel's values: round numbers on the left; the limits named with their values.
    i_panel = page.text.split('data-panel="MR"')[0]
    assert re.findall(r'class="y-label">([^<]+)<', i_panel) == ["8", "10", "12"]
    assert re.findall(r'class="level-label limit ucl">([^<]+)<', i_panel) == ["UCL 13"]
    assert re.findall(r'class="level-label center">([^<]+)<', i_panel) == ["CL 10"]
    # Hovering a point tells its time and value (the rule it breaks, where it breaks one).
    assert (
        '<circle cx="' in page.text
        and 'data-index="6" data-rules="1" data-time="2026-03-02 17:07:00 CST">'
        "<title>2026-03-02 17:07:00 CST: 13.5 — rule 1</title>"
        in page.text
    )
    assert "point 0" not in page.text and "point 29" not in page.text
    assert _points(page.text) == list(range(30))


def test_a_date_range_read_in_the_readers_zone_limits_the_points_and_stops_the_refresh(
    chart: tuple[UiClient, int],
) -> None:
    client, parameter_id = chart

    page = client.get(
        f"{BASE}/parameters/{parameter_id}",
        params={"from": "2026-03-02T17:10", "to": "2026-03-02T17:20"},
    )

    assert page.status_code == 200
    # 17:10 to 17:20 in Shanghai is 09:10 to 09:20 UTC: readings 9 to 18 (the end left out).
    assert _points(page.text) == list(range(9, 19))
    assert "data-live-chart" not in page.text
    assert 'name="from" value="2026-03-02T17:10"' in page.text
    assert 'name="to" value="2026-03-02T17:20"' in page.text
    # The rules were judged on the whole series: point 16 breaks rule 3 in the range too.
    assert 'data-index="16" data-rules="3"' in page.text


def test_a_date_range_that_ends_before_it_starts_is_refused(
    chart: tuple[UiClient, int],
) -> None:
    client, parameter_id = chart

    page = client.get(
        f"{BASE}/parameters/{parameter_id}",
        params={"from": "2026-03-02T17:20", "to": "2026-03-02T17:10"},
    )

    assert page.status_code == 422
    assert "the end of the date range must come after its start" in page.text


def test_the_alert_page_names_the_point_by_its_time_and_value(
    chart: tuple[UiClient, int], db: Database
) -> None:
    client, _ = chart
    with unit_of_work(db, write=False) as s:
        alert_id = s.scalars(select(ProcessAlert.id).where(ProcessAlert.point_index == 6)).one()

    page = client.get(f"{BASE}/alerts/{alert_id}")
    listing = client.get(f"{BASE}/alerts")

    assert page.status_code == 200
    point = re.search(r'data-testid="alert-point">([^<]+)\(<a href="([^"]+)"', page.text)
    assert point is not None
    assert point.group(1) == "The point measured 2026-03-02 17:07:00 CST (+08:00), value 13.5 "
    # "on the chart" opens the parameter's chart over the hours around the point.
    assert point.group(2).endswith("?from=2026-03-02T11%3A07&amp;to=2026-03-02T23%3A07")
    assert "0-based" not in page.text
    assert "2026-03-02 17:07 CST (+08:00)" in listing.text
    assert "<th>Point measured</th>" in listing.text or ">Point measured<" in listing.text


def test_point_text_is_the_wall_clock_of_the_zone_it_is_asked_for() -> None:
    measured = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)

    assert point_text(measured, 12.34567891, UTC) == (
        "the point measured 2026-10-25 00:30:00 UTC (+00:00), value 12.3457"
    )
    assert point_text(measured, 12.3, ZoneInfo("Europe/Berlin")) == (
        "the point measured 2026-10-25 02:30:00 CEST (+02:00), value 12.3"
    )
