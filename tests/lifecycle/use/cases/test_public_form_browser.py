"""The public side-effect form in a real browser at a phone's width (390 px): nothing wider
than the screen, every field reachable by its label, a refused submission announced and
focused, and a corrected one received as a case.

The browser is the session's one Chromium (the root conftest)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.use.cases.pv_steps import released_lot
from tests.live_server import served
from tests.support import app_for

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases.models import PVCase

pytestmark = pytest.mark.browser


@pytest.fixture
def server(db: Database) -> Iterator[str]:

    # The rate limit counts in the test's own database: nothing left from another test.
    with served(app_for(db)) as base:
        yield base


def test_the_form_works_on_a_phone(chromium: Any, server: str, db: Database, people: Any) -> None:
    from playwright.sync_api import expect

    released_lot(db, people)
    context = chromium.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    page.goto(f"{server}/report-side-effect?01=05012345678900&10=L2403-117")

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.get_by_label("Name of the medicine")).to_have_value("Paracetamol 500 mg tablets")
    expect(page.get_by_label("Batch or lot number", exact=False)).to_have_value("L2403-117")
    # The honeypot is out of sight and out of the keyboard's way.
    assert (
        not page.locator("#website").is_visible()
        or page.locator("#website").bounding_box()["x"] < 0
    )

    shot = os.environ.get("PHARMAQMS_SCREENSHOT_DIR")
    page.get_by_role("button", name="Send the report").click()
    if shot:
        page.screenshot(path=f"{shot}/side-effect-form-390.png", full_page=True)
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Describe the side effect.")
    expect(summary).to_be_focused()
    expect(page.get_by_label("What happened?")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_label("The patient, or a relative or carer").check()
    page.get_by_label("What happened?").fill("dizzy and fainted")
    page.get_by_label("It led to a stay in hospital, or a longer one").check()
    page.get_by_label("Age in years").fill("71")
    page.get_by_role("button", name="Send the report").click()

    expect(page.get_by_test_id("case-number")).to_have_text("PV-2026-0001")
    assert violations == []
    context.close()
    with unit_of_work(db, write=False) as session:
        case = session.scalars(select(PVCase)).one()
        assert (case.status, case.reporter_type, str(case.patient_age_years)) == (
            "received",
            "patient",
            "71.00",
        )
