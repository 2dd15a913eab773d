"""The product page on a phone (390 px) in a real browser: nothing wider than the screen, the
authenticity answer and the side-effect link visible, the link leading to the form with the
product and lot filled in. The browser is the session's one Chromium (the root conftest)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.lifecycle.distribution.productpage.page_steps import (
    GTIN,
    PRODUCT,
    product_with_packs,
)
from tests.live_server import served
from tests.support import app_for

from pharmaqms.kernel.db import Database

pytestmark = pytest.mark.browser


@pytest.fixture
def server(db: Database) -> Iterator[str]:

    # The rate limits count in the test's own database: nothing left from another test.
    with served(app_for(db)) as base:
        yield base


def test_the_product_page_works_on_a_phone(
    chromium: Any, server: str, db: Database, people: Any
) -> None:
    from playwright.sync_api import expect

    product_with_packs(db, people)
    context = chromium.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{server}/01/{GTIN}/10/L1/21/S3?17=280131")
        expect(page.get_by_role("heading", level=1)).to_contain_text(PRODUCT)
        expect(page.get_by_test_id("authenticity")).to_have_attribute("data-answer", "recalled")
        expect(page.get_by_role("alert")).to_contain_text("recalled")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide on a 390 px screen"
        report = page.get_by_test_id("report-side-effect")
        expect(report).to_be_in_viewport()
        box = report.bounding_box()
        assert box is not None and box["height"] >= 44  # a thumb's touch target
        report.click()
        expect(page.get_by_label("Name of the medicine")).to_have_value(PRODUCT)
        expect(page.locator("#lot")).to_have_value("L1")
        # The stylesheet came from the static file: nothing was blocked by the CSP.
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        context.close()
