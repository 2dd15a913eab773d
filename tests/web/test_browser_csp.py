"""In a real browser, on the demo database: every main page renders under the Content Security
Policy without a single violation (no inline script, no inline style left), and the parts that
need script or style still work: the signature dialog opens, a filter submits itself on
change, the trend charts load, the KPI charts and the live control chart are drawn in colour.

The browser is the session's one Chromium (the root conftest)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.demo_support import demo_copy, demo_template
from tests.live_server import served
from tests.support import app_for

from pharmaqms.cli.demo import DEMO_PASSWORD
from pharmaqms.kernel.db import Database, set_database
from pharmaqms.kernel.settings import reset_settings_cache

pytestmark = pytest.mark.browser

# Records every violation the page reports, before any page script runs.
WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""
MAIN_PAGES = (
    "/",
    "/documents",
    "/periodic-reviews",
    "/training/my",
    "/training/matrix",
    "/training/job-roles",
    "/training/governing",
    "/deviations",
    "/capas",
    "/changes",
    "/complaints",
    "/risk-assessments",
    "/quality/trends",
    "/production/materials",
    "/production/qc",
    "/production/scan",
    "/production/monitoring",
    "/production/batch-records",
    "/production/masters",
    "/production/equipment",
    "/production/nonconformances",
    "/production/release",
    "/production/kpi",
    "/data/sources",
    "/data/browse",
    "/data/upload",
    "/data/genealogy",
    "/records",
    "/audit",
    "/compliance/apqr",
    "/compliance/apqr/reviews/1",  # the demo's review: its batch chart is Matplotlib's SVG
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_template(tmp_path_factory)


@pytest.fixture
def demo_db(template: Path, tmp_path: Path) -> Iterator[Database]:
    database = demo_copy(template, tmp_path / "demo.db")
    set_database(database)
    yield database
    set_database(None)
    database.dispose()


@pytest.fixture
def live_server(demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:

    # A demonstration instance: the demo accounts log in with the published password.
    monkeypatch.setenv("PHARMAQMS_DEMO", "1")
    reset_settings_cache()
    with served(app_for(demo_db)) as base:
        yield base
    monkeypatch.undo()
    reset_settings_cache()


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def links(page: Any, pattern: str) -> list[str]:
    found: list[str] = []
    for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
        if re.fullmatch(pattern, href or "") and href not in found:
            found.append(str(href))
    return found


def first_link(page: Any, pattern: str) -> str | None:
    return next(iter(links(page, pattern)), None)


def test_the_main_pages_render_without_a_csp_violation_and_still_work(
    chromium: Any, live_server: str
) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    violations: dict[str, list[str]] = {}

    def visit(path: str) -> None:
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        found = page.evaluate("window.__csp")
        if found:
            violations[path] = found

    try:
        log_in(page, base, "quinn.qa")
        for path in MAIN_PAGES:
            visit(path)

        # Detail pages: a document, a deviation, a control chart, a data source, a lot's trace
        visit("/documents")
        documents = links(page, r"/documents/\d+")
        document = next(iter(documents), None)
        visit("/deviations")
        deviation = first_link(page, r"/deviations/\d+")
        visit("/production/monitoring")
        parameter = first_link(page, r"/production/monitoring/parameters/\d+")
        visit("/data/sources")
        source = first_link(page, r"/data/sources/[^/?]+")
        details = [document, deviation, parameter, source]
        assert all(details), details
        for path in details:
            visit(str(path))

        # The live control chart is drawn in the page's colours (monitoring.css, no <style>)
        visit(str(parameter))
        chart = page.get_by_test_id("live-chart")
        expect(chart.locator("svg")).to_have_count(1)
        assert chart.locator("svg style").count() == 0
        limit_colour = page.eval_on_selector(
            "[data-testid=live-chart] svg .limit", "e => getComputedStyle(e).stroke"
        )
        assert limit_colour == "rgb(192, 57, 43)"

        # The KPI charts: Matplotlib's drawing with presentation attributes, no style
        visit("/production/kpi")
        charts = page.locator(".kpi-grid svg")
        assert charts.count() == 5
        assert page.locator(".kpi-grid svg [style], .kpi-grid svg style").count() == 0
        assert page.locator(".kpi-grid svg path[fill='#c0392b']").count() > 0

        # The trend charts load as images, and the months filter submits itself on change
        visit("/quality/trends")
        for test_id in ("chart-class", "chart-area", "chart-capa"):
            image = page.get_by_test_id(test_id)
            expect(image).to_be_visible()
            assert image.evaluate("img => img.complete && img.naturalWidth > 0"), test_id
        page.select_option("select[name=months]", "24")
        page.wait_for_url(re.compile(r".*/quality/trends\?months=24$"))

        # The signature dialog opens from its button (app.js) and closes again
        opened = False
        # The first document or deviation where QA has something to sign: which one that is
        # depends on the demo data (a draft whose only action is "withdraw" asks for a reason).
        for path in [*documents[:10], deviation]:
            visit(str(path))
            buttons = page.locator("button[data-open-dialog]")
            signing = [
                b
                for b in buttons.all()
                if page.locator(
                    f"dialog#{b.get_attribute('data-open-dialog')} input[type=password]"
                ).count()
            ]
            if signing:
                target = signing[0].get_attribute("data-open-dialog")
                signing[0].click()
                dialog = page.locator(f"dialog#{target}")
                expect(dialog).to_have_attribute("open", "")
                expect(dialog.locator("input[type=password]")).to_be_focused()
                dialog.locator("[data-close-dialog]").first.click()
                expect(dialog).not_to_have_attribute("open", "")
                opened = True
                break
        assert opened, "no page with a signature dialog among the details"
        found = page.evaluate("window.__csp")
        if found:
            violations["after the dialog"] = found
    finally:
        context.close()

    assert violations == {}
    assert console == []


# The pages a person opens on a phone or a tablet on the shop floor and in the warehouse.
PHONE_PAGES = (
    "/",
    "/deviations",
    "/production/scan",
    "/production/batch-records",
    "/distribution/alarms",
    "/audit",
)


def test_on_a_phone_the_menu_opens_from_a_button_the_header_fits_and_nothing_overflows(
    chromium: Any, live_server: str
) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = chromium.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    overflowing: dict[str, int] = {}
    try:
        log_in(page, base, "quinn.qa")
        for path in PHONE_PAGES:
            response = page.goto(f"{base}{path}")
            assert response is not None and response.status == 200, path
            # The page itself never scrolls sideways: wide tables scroll inside their box.
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                overflowing[path] = width
        page.goto(f"{base}/")
        # "Log out" is on the screen, not pushed off it by the header
        logout = page.locator(".user-box button[type=submit]").bounding_box()
        assert logout is not None and logout["x"] + logout["width"] <= 390
        # the menu is folded away, and its button opens it
        menu = page.locator("#main-menu")
        expect(menu).to_be_hidden()
        toggle = page.get_by_test_id("menu-toggle")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        toggle.tap()
        expect(menu).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        menu.get_by_role("link", name="Deviations").tap()
        page.wait_for_url(f"{base}/deviations")
        expect(page.locator("#main-menu")).to_be_hidden()  # a new page starts folded
        # a button is big enough for a thumb (about 44 CSS pixels)
        button = page.locator(".filters button[type=submit]").bounding_box()
        assert button is not None and button["height"] >= 43
    finally:
        context.close()
    assert overflowing == {}
