"""In a real browser: the control chart zooms (buttons, mouse wheel) and moves when dragged, the
genealogy graph zooms and pans without following the link it was dragged over, a new point
keeps the reader's zoom on the live chart, and the print stylesheet leaves the buttons out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.lifecycle.production.monitoring.setup import (
    PRODUCT,
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
def server(db: Database) -> Iterator[str]:

    with served(app_for(db)) as base:
        yield base


def _view_box(page: Any, box: str) -> list[float]:
    text = page.get_attribute(f"{box} svg", "viewBox")
    return [float(v) for v in text.split()]


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_the_charts_zoom_and_pan_and_print_without_their_buttons(
    db: Database, people: Any, frozen_clock: FrozenClock, server: str, chromium: Any
) -> None:
    seed(db, people, "REF-1", "B-1", "B-2")
    parameter_id = monitor(db, people)
    deliver(db, people, series("REF-1", REFERENCE, datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
    approve_limits(db, people, parameter_id, ["REF-1"])
    frozen_clock.advance(hours=2)
    deliver(db, people, rows(SERIES[:30]))
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _log_in(page, server, "supervisor")

    # The control chart: zoom in with the button, closer with the wheel, drag, fit again.
    page.goto(f"{server}/production/monitoring/parameters/{parameter_id}")
    chart = "[data-live-chart]"
    whole = _view_box(page, chart)
    page.click("button[data-zoom-action='Zoom in']")
    zoomed = _view_box(page, chart)
    assert zoomed[2] == pytest.approx(whole[2] / 1.5) and zoomed[3] == pytest.approx(whole[3] / 1.5)
    svg = page.locator(f"{chart} svg").bounding_box()
    page.mouse.move(svg["x"] + svg["width"] * 0.3, svg["y"] + svg["height"] * 0.5)
    page.mouse.wheel(0, -200)
    closer = _changed(page, chart, zoomed)
    assert closer[2] < zoomed[2]
    page.mouse.down()
    page.mouse.move(svg["x"] + svg["width"] * 0.5, svg["y"] + svg["height"] * 0.5, steps=5)
    page.mouse.up()
    dragged = _view_box(page, chart)
    assert dragged[0] < closer[0] and dragged[2] == pytest.approx(closer[2])
    # A new point arrives: the live chart is redrawn and keeps the reader's view.
    deliver(db, people, rows(SERIES[30:], first=30))
    page.wait_for_selector(f'{chart} circle[data-index="31"]', timeout=5000)
    assert _view_box(page, chart)[2] == pytest.approx(dragged[2])
    page.click("button[data-zoom-action='Show all']")
    assert _view_box(page, chart) == whole

    # The genealogy graph of a batch: zoom in with the wheel over it, then drag to pan.
    page.goto(f"{server}/data/genealogy?id={PRODUCT}/B-1")
    graph = "[data-testid=genealogy-graph]"
    drawing = page.locator(f"{graph} svg").bounding_box()
    assert drawing["width"] <= page.locator(graph).bounding_box()["width"]  # fits its box
    start = _view_box(page, graph)
    page.mouse.move(drawing["x"] + drawing["width"] * 0.2, drawing["y"] + drawing["height"] * 0.3)
    for _ in range(4):
        page.mouse.wheel(0, -100)
    zoomed_in = _changed(page, graph, start)
    assert zoomed_in[2] < start[2]
    url = page.url
    # Dragged from the batch's own box (a link): the graph moves, the page stays.
    node = page.locator(f"{graph} g.node-lot rect").first.bounding_box()
    x, y = max(node["x"], drawing["x"]) + 10, max(node["y"], drawing["y"]) + 5
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 80, y + 40, steps=5)
    page.mouse.up()
    panned = _view_box(page, graph)
    assert (panned[0], panned[1]) != (zoomed_in[0], zoomed_in[1])
    assert panned[2] == pytest.approx(zoomed_in[2])
    assert page.url == url

    # Printed, the page leaves its buttons out: zoom, print, CSV.
    assert page.is_visible("[data-testid=recall-print]") and page.is_visible(".zoom-bar")
    page.emulate_media(media="print")
    assert not page.is_visible("[data-testid=recall-print]")
    assert not page.is_visible(".zoom-bar")
    assert not page.is_visible("form.filters")
    assert page.is_visible(f"{graph} svg")


def _changed(page: Any, box: str, before: list[float]) -> list[float]:
    """The viewBox once the page's script has changed it (an event is handled a moment after
    the browser receives it)."""
    deadline = time.monotonic() + 3
    while (now := _view_box(page, box)) == before and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    return now
