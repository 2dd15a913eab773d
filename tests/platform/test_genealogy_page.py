"""The genealogy page a reader can use: each entity named with its kind said once, the recall
table with its CSV file and print button, an "as at" date-time field read in the reader's zone,
and a list of identifiers to start from."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any
from urllib.parse import quote

import pytest
from tests.conftest import Api
from tests.support import app_for, browser_login

from pharmaqms.platform.genealogy.graph import Direction, Graph, Node, titled
from pharmaqms.platform.genealogy.svg import render


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (Node("a", "lot", "lot API-PARA/A2502"), "lot API-PARA/A2502"),
        (Node("b", "lot", "batch PARA500/PB26-101"), "batch PARA500/PB26-101"),
        (Node("c", "material", "GTIN …6 lot MARA000002"), "GTIN …6 lot MARA000002"),
        (Node("d", "case", "SSCC 095060000000000077"), "SSCC 095060000000000077"),
        (Node("e", "pack", "serial SC00000200000"), "serial SC00000200000"),
        (Node("f", "deviation", "DEV-2026-0007"), "deviation DEV-2026-0007"),
        (
            Node("g", "process_data", "hardness (20 readings)"),
            "process data hardness (20 readings)",
        ),
        (Node("h", "customer", "Central Pharmacy"), "customer Central Pharmacy"),
        # A name that merely begins like a kind word of another kind keeps its kind.
        (Node("i", "customer", "Lot Street Pharmacy"), "customer Lot Street Pharmacy"),
    ],
)
def test_titled_says_the_kind_once(node: Node, expected: str) -> None:
    assert titled(node) == expected


def test_the_drawings_titles_say_the_kind_once() -> None:
    graph = Graph(start="a", direction=Direction.BOTH, at=None)
    graph.add(Node("a", "lot", "lot API-PARA/A2502"))
    graph.add(Node("f", "deviation", "DEV-2026-0007"))
    graph.link("a", "f", "deviation")

    svg = render(graph, lambda node: f"/data/genealogy?id={node.id}")

    titles = re.findall(r"<g class=\"node[^\"]*\"><title>([^\n<]+)", svg)
    assert titles == ["lot API-PARA/A2502", "deviation DEV-2026-0007"]
    assert "lot lot" not in svg and "lot: lot" not in svg


@pytest.fixture
def page(chain: Any) -> Any:
    """A TestClient logged in as QA, and the first lot of the generated supply chain."""
    database, generated = chain
    api = Api(app_for(database))
    assert browser_login(api.client, "qa").status_code == 303
    answer = next(iter(generated.truth.values()))
    return api.client, f"{answer.product}/{answer.lot_number}"


def test_the_recall_table_is_styled_with_its_csv_file_and_a_print_button(page: Any) -> None:
    client, lot = page

    shown = client.get("/data/genealogy", params={"id": lot, "direction": "down"})

    assert shown.status_code == 200
    assert 'class="data-table" data-testid="recall-table"' in shown.text
    assert 'data-print data-testid="recall-print"' in shown.text
    link = re.search(r'href="([^"]+)" data-testid="recall-csv"', shown.text)
    assert link is not None
    assert html.unescape(link.group(1)) == (
        f"/api/v1/data/trace/{quote(lot, safe='/:')}/recall-scope?format=csv"
    )
    exported = client.get(html.unescape(link.group(1)))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    customers = re.findall(r'<tr class="customer">', shown.text)
    assert len([r for r in rows if r["kind"] == "customer"]) == len(customers) > 0
    # The drawing fits its box and zooms: the page's script works on the marked box.
    assert 'class="genealogy-drawing" data-zoom' in shown.text
    assert '<script src="/static/chart_zoom.js" defer></script>' in shown.text


def test_as_at_is_a_date_time_field_read_in_the_readers_zone(page: Any) -> None:
    client, lot = page

    typed = client.get("/data/genealogy", params={"id": lot, "at": "2026-03-05T12:00"})
    with_offset = client.get(
        "/data/genealogy", params={"id": lot, "at": "2026-03-05T13:00:00+01:00"}
    )

    assert typed.status_code == 200 and with_offset.status_code == 200
    # The readers here read in the site's zone, UTC; a time with an offset is shown on it.
    for shown in (typed, with_offset):
        assert (
            '<input type="datetime-local" name="at" value="2026-03-05T12:00:00" step="1"'
            in shown.text
        )
        heading = re.search(r'data-testid="genealogy-start">([^<]+)</h2>', shown.text)
        assert heading is not None
        assert heading.group(1).endswith(" as at 2026-03-05 12:00 UTC (+00:00)")
    refused = client.get("/data/genealogy", params={"id": lot, "at": "5 March"})
    assert "is not an ISO 8601 time" in refused.text


def test_the_page_lists_identifiers_to_start_from(page: Any) -> None:
    client, lot = page

    empty = client.get("/data/genealogy")

    assert empty.status_code == 200
    assert 'list="genealogy-starts"' in empty.text
    starts = re.findall(
        r'<option value="([^"]+)">([^<]+)</option>', empty.text.split("datalist")[1]
    )
    assert (lot, f"batch {lot.split('/')[1]} of {lot.split('/')[0]}") in starts
    # Every suggestion is an identifier the page traces.
    for identifier, _ in starts[:3]:
        traced = client.get("/data/genealogy", params={"id": identifier})
        assert traced.status_code == 200, identifier
        assert 'data-testid="genealogy-graph"' in traced.text
