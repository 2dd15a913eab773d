"""End to end in a real browser: the scientist writes an entry with a raw data file and signs it
in the signature dialog; QA witnesses it in its dialog; the page shows both badges."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.lifecycle.rnd.eln_steps import MARKER, notebook
from tests.live_server import served
from tests.support import PASSWORD, app_for

from pharmaqms.kernel.db import Database

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(db: Database) -> Iterator[str]:

    with served(app_for(db)) as base:
        yield base


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_an_entry_is_written_signed_and_witnessed_in_the_browser(
    chromium: Any, live_server: str, db: Database, people: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    book = notebook(db, people)
    url = f"{live_server}/rnd/experiments/{book.experiment_id}"
    raw = tmp_path / "hplc-run-17.cdf"
    raw.write_bytes(b"CDF\x01" + bytes(range(256)) * 8)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        _log_in(page, live_server, "rd")
        page.goto(url)
        page.fill("#new-entry textarea[name=content]", MARKER)
        page.fill("#new-entry input[name=f_rpm]", "50")
        page.set_input_files("#new-entry input[name=files]", str(raw))
        page.click("#new-entry button[type=submit]")
        expect(page.get_by_test_id("flash")).to_contain_text("saved as a draft")
        expect(page.locator("article.eln-entry")).to_contain_text("hplc-run-17.cdf")

        page.click("button[data-transition=sign]")
        dialog = page.locator("dialog[open]")
        expect(dialog).to_contain_text("Authored")
        dialog.locator("input[name=password]").fill(PASSWORD)
        dialog.locator("button[type=submit]").click()
        expect(page.get_by_test_id("flash")).to_contain_text("signed; SHA-256")
        expect(page.locator("[data-badge=signed]")).to_have_count(1)
        context.clear_cookies()

        _log_in(page, live_server, "qa")
        page.goto(url)
        page.click("button[data-transition=witness]")
        dialog = page.locator("dialog[open]")
        expect(dialog).to_contain_text("Read and understood")
        dialog.locator("input[name=password]").fill(PASSWORD)
        dialog.locator("button[type=submit]").click()
        expect(page.get_by_test_id("flash")).to_contain_text("witnessed")
        expect(page.locator("[data-badge=witnessed]")).to_have_count(1)
        expect(page.locator("article.eln-entry")).to_contain_text("Read and understood by")
    finally:
        context.close()
