"""The public side-effect form in a real browser at a phone's width (390 px): nothing wider
than the screen, every field reachable by its label, a refused submission announced and
focused, and a corrected one received as a case.

The browser is the session's one Chromium (the root conftest)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select
from tests.lifecycle.use.cases.pv_steps import released_lot

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import public
from pharmaqms.lifecycle.use.cases.models import PVCase

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(db: Database) -> Iterator[str]:
    from pharmaqms.web.app import create_app

    public.reset_rate_limit()
    port = _free_port()
    config = uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not running.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)
    public.reset_rate_limit()


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
