"""In a real browser: the live control chart page refreshes itself when a reading arrives that
breaks a rule — the new point is marked with its rule and the alert count goes up without a
reload — and the alert is acknowledged from the page with a comment."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
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
from tests.live_server import served
from tests.support import PASSWORD, app_for

from pharmaqms.kernel.clock import FrozenClock
from pharmaqms.kernel.db import Database

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(chromium: Any) -> Any:
    """The run's one Chromium (root conftest)."""
    return chromium


@pytest.fixture
def server(db: Database) -> Iterator[str]:

    with served(app_for(db)) as base:
        yield base


def test_the_chart_page_shows_a_new_alert_by_itself_and_it_is_acknowledged_there(
    db: Database, people: Any, frozen_clock: FrozenClock, server: str, browser: Any
) -> None:
    seed(db, people, "REF-1", "B-1", "B-2")
    parameter_id = monitor(db, people)
    deliver(db, people, series("REF-1", REFERENCE, datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
    approve_limits(db, people, parameter_id, ["REF-1"])
    frozen_clock.advance(hours=2)
    deliver(db, people, rows(SERIES[:30]))
    page = browser.new_context().new_page()
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server}/production/monitoring/parameters/{parameter_id}")
    assert (
        page.locator("[data-live-chart] circle.violation").count() == 10
    )  # 9 on the I panel, 1 on MR
    assert page.inner_text("[data-open-alerts]") == "5"

    # Readings 30 and 31 arrive from the MES; 31 completes Nelson rule 6.
    deliver(db, people, rows(SERIES[30:], first=30))
    arrived = time.monotonic()
    page.wait_for_selector(
        '[data-live-chart] circle[data-index="31"][data-rules="6"]', timeout=5000
    )
    refreshed = time.monotonic() - arrived

    assert refreshed < 3.0  # polled every second
    assert page.inner_text("[data-open-alerts]") == "6"
    assert "Nelson 6" in page.inner_text("[data-live-alerts]")
    row = page.locator('tr[data-alert]:has-text("Nelson 1")')
    row.locator("input[name=comment]").fill("Punch 7 replaced")
    row.locator("button:has-text('Acknowledge')").click()
    page.wait_for_load_state()
    assert "acknowledged." in page.inner_text(".flash")
    assert page.inner_text("[data-open-alerts]") == "5"
