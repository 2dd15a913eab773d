"""End to end in a real browser: an analyst writes an SOP and submits it; QA approves it with
an electronic signature in the dialog; the page shows the signature manifestation."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.live_server import served
from tests.support import PASSWORD, app_for

from pharmaqms.kernel.db import Database

pytestmark = pytest.mark.browser

# The README's screenshot is refreshed only on request (PHARMAQMS_SCREENSHOT=1), so a test run
# leaves the checkout clean.
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"
SOP_BODY = (
    "1. Purpose\n\nThis procedure describes the cleaning of the tablet press after each batch."
    "\n\n2. Steps\n\n2.1 Remove the punches.\n2.2 Wash with purified water.\n2.3 Record it."
)


@pytest.fixture
def live_server(db: Database) -> Iterator[str]:
    """The application served by uvicorn in a thread, against this test's database."""

    with served(app_for(db)) as base:
        yield base


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def log_out(page: Any, base: str) -> None:
    page.click("form[action='/logout'] button")
    page.wait_for_url(f"{base}/login")


def test_an_analyst_writes_an_sop_and_qa_approves_it_with_a_signature(
    chromium: Any, live_server: str
) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        # Given Chloe (QC) writes a new SOP and submits it for review
        log_in(page, base, "qc")
        page.click("nav.main-menu >> text=Documents")
        page.click("text=New document")
        page.select_option("select[name=doc_type]", "sop")
        page.fill("input[name=title]", "Cleaning of the tablet press")
        page.fill("input[name=area]", "Production")
        page.fill("textarea[name=body]", SOP_BODY)
        page.click("button:has-text('Create draft')")
        expect(page.get_by_test_id("flash")).to_contain_text("created as a draft")
        number = page.locator("h1").inner_text().split(" · ")[0]
        assert re.fullmatch(r"SOP-\d{4}-\d{4}", number), number
        page.click("button[data-transition=submit]")
        expect(page.get_by_test_id("flash")).to_contain_text("status now in review")
        document_url = page.url
        log_out(page, base)

        # When Quentin (QA) opens it from his task list and approves it with his signature
        log_in(page, base, "qa")
        page.click(f"text=Review and approve {number} v1.0")
        page.wait_for_url(document_url)
        page.click("button[data-open-dialog=dialog-approve]")
        dialog = page.locator("dialog#dialog-approve")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Signature meaning: Approved")
        expect(dialog).to_contain_text("legally binding equivalent of my handwritten signature")
        dialog.locator("input[name=password]").fill(PASSWORD)
        dialog.locator("textarea[name=comment]").fill("Checked against the cleaning validation")
        dialog.locator("button[type=submit]").click()

        # Then the page shows the signature manifestation and the approved status
        expect(page.get_by_test_id("flash")).to_contain_text("signed “Approved”")
        manifestation = page.get_by_test_id("signature").locator(".manifestation")
        expect(manifestation).to_have_text(
            re.compile(
                r"^Approved by Quentin Quality \(qa\) on "
                r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\+00:00\)$"
            )
        )
        expect(page.get_by_test_id("signature")).to_contain_text("Covers the current content")
        expect(page.locator(".version-panel [data-status]").first).to_have_text("approved")
        shot = page.screenshot()
        assert shot[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("PHARMAQMS_SCREENSHOT"):
            SCREENSHOT.parent.mkdir(exist_ok=True)
            SCREENSHOT.write_bytes(shot)
    finally:
        context.close()


def test_the_api_documentation_works_without_internet(chromium: Any, live_server: str) -> None:
    """Swagger UI renders every operation with the network cut off beyond this site (a plant
    network): its assets come from the server itself, not a CDN."""
    base = live_server
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    elsewhere: list[str] = []

    def cut_off(route: Any) -> None:
        elsewhere.append(route.request.url)
        route.abort()

    try:
        # Only requests that leave this site are intercepted (and refused).
        page.route(lambda url: not url.startswith(base), cut_off)
        page.goto(f"{base}/api/docs")
        # Swagger UI parses the whole document (some 280 operations) before it draws: slow
        # on a busy machine, hence the generous wait.
        page.wait_for_selector(".opblock", timeout=90_000)
        assert page.locator(".opblock").count() > 100
        assert page.locator("button.authorize").count() == 1  # the bearer scheme
        assert elsewhere == []
    finally:
        context.close()
