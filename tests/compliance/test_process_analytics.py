"""Process analytics on three deviations with known times in each state (built through the
real services on a frozen clock, see ``process_analytics_steps``): the figures equal the values
worked out by hand, the waits per role, the trend, the date range read in the reader's time
zone, the records behind each figure; the pages, the SVG flow, the CSV export and the API; and
a reader without ``audit.read`` refused."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from tests.compliance.process_analytics_steps import DAY, NOW, Deviations, three_deviations
from tests.web.conftest import UiClient

from pharmaqms.compliance.process_analytics import drill, figures
from pharmaqms.compliance.process_analytics.drill import Selection
from pharmaqms.compliance.process_analytics.figures import ProcessFigures, Spread
from pharmaqms.compliance.process_analytics.processes import PROCESSES, process
from pharmaqms.compliance.process_analytics.reading import Range
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.timezones import reading_in
from pharmaqms.kernel.uow import unit_of_work

UTC_ZONE = ZoneInfo("UTC")
DEVIATION = PROCESSES["deviation"]


@pytest.fixture
def ui(app: Any) -> Any:
    """``ui("qa")`` → a client logged in through the form."""

    def make(username: str) -> UiClient:
        client = UiClient(app)
        assert client.login(username).status_code == 303
        return client

    return make


@pytest.fixture
def built(db: Database, people: Any) -> Deviations:
    return three_deviations(db, people)


def _deviation_figures(db: Database, span: Range | None = None) -> ProcessFigures:
    with unit_of_work(db, write=False) as session:
        window = span.window() if span else None
        found = figures.process_figures(session, [DEVIATION], window, now=NOW, zone=UTC_ZONE)
    return found["deviation"]


def _spread(found: ProcessFigures, state: str) -> Spread:
    figure = found.state(state)
    assert figure is not None, state
    return figure.stays


@pytest.mark.postgres
def test_time_in_each_state_is_what_the_clock_said(db: Database, built: Deviations) -> None:
    found = _deviation_figures(db)

    # Reported: A 2 d, B 3 d, C 8 d and still there. p90 of (2, 3, 8) with linear
    # interpolation: 3 + 0.8 × (8 − 3) = 7 d.
    assert _spread(found, "reported") == Spread(
        count=3, open=1, median=3 * DAY, p90=7 * DAY, mean=13 / 3 * DAY, total=13 * DAY
    )
    # Investigation: A 3 d, B 4 d (then cancelled). p90: 3 + 0.9 × 1 = 3.9 d.
    investigation = _spread(found, "investigation")
    assert (investigation.count, investigation.open, investigation.median) == (2, 0, 3.5 * DAY)
    assert investigation.p90 == pytest.approx(3.9 * DAY)
    assert _spread(found, "pending_approval") == Spread(1, 0, DAY, DAY, DAY, DAY)
    # A has waited in "approved" since day 6: 4 days up to now, open.
    assert _spread(found, "approved") == Spread(1, 1, 4 * DAY, 4 * DAY, 4 * DAY, 4 * DAY)
    # Cancelled and closed are end states: not time spent in the process.
    assert [s.state for s in found.states] == [
        "reported",
        "investigation",
        "pending_approval",
        "approved",
    ]
    assert found.records == 3
    # 13 + 7 + 1 + 4 = 25 days in all; reported holds 13 of them.
    reported = found.state("reported")
    assert reported is not None and reported.share == pytest.approx(13 / 25)
    assert reported.waits_for == ("qa",)
    # The longest median stay: approved (4 d) before investigation (3.5 d) and reported (3 d).
    assert found.bottleneck is not None and found.bottleneck.state == "approved"
    assert [s.state for s in found.states if s.bottleneck] == ["approved"]


def test_transitions_count_and_time_before_them(db: Database, built: Deviations) -> None:
    found = _deviation_figures(db)
    assert [(t.source, t.target, t.count, t.median) for t in found.transitions] == [
        ("start", "reported", 3, None),
        ("reported", "investigation", 2, 2.5 * DAY),
        ("investigation", "pending_approval", 1, 3 * DAY),
        ("investigation", "cancelled", 1, 4 * DAY),
        ("pending_approval", "approved", 1, DAY),
    ]


@pytest.mark.postgres
def test_waiting_time_per_role_comes_from_the_tasks(db: Database, built: Deviations) -> None:
    found = _deviation_figures(db)
    waits = {r.role: r.waits for r in found.roles}
    # QA: classify A 2 d, B 3 d, C 8 d (open); approve A 1 d; close A 4 d (open).
    # p90 of (1, 2, 3, 4, 8): 4 + 0.6 × 4 = 6.4 d.
    qa = waits["qa"]
    assert (qa.count, qa.open, qa.median, qa.mean) == (5, 2, 3 * DAY, 18 / 5 * DAY)
    assert qa.p90 == pytest.approx(6.4 * DAY)
    # The investigation tasks are for the named investigator: A 3 d, B 4 d.
    named = waits["named person"]
    assert (named.count, named.open, named.median) == (2, 0, 3.5 * DAY)
    assert list(waits) == ["named person", "qa"]  # the longest median wait first


def test_the_trend_shows_ended_stays_by_month_begun(db: Database, built: Deviations) -> None:
    found = _deviation_figures(db)
    assert found.months == (date(2026, 3, 1),)
    [reported] = found.trend["reported"]
    # A (2 d) and B (3 d) ended; C is still open and left out of the median.
    assert (reported.median, reported.ended, reported.open) == (2.5 * DAY, 2, 1)
    [approved] = found.trend["approved"]
    assert (approved.median, approved.ended, approved.open) == (None, 0, 1)


@pytest.mark.postgres
def test_the_date_range_is_read_in_the_readers_calendar(db: Database, built: Deviations) -> None:
    # A was reported at 09:00 UTC on 2 March: still 1 March in Honolulu (UTC−10).
    with reading_in("UTC"):
        in_utc = _spread(_deviation_figures(db, Range.read("2026-03-02", "")), "reported")
    with reading_in("Pacific/Honolulu"):
        in_honolulu = _spread(_deviation_figures(db, Range.read("2026-03-02", "")), "reported")
        to_first = _spread(_deviation_figures(db, Range.read("", "2026-03-01")), "reported")
    assert in_utc.count == 3
    # B (3 d) and C (8 d, open): median 5.5 d.
    assert (in_honolulu.count, in_honolulu.median) == (2, 5.5 * DAY)
    # "To 1 March" includes that whole local day: only A.
    assert (to_first.count, to_first.median) == (1, 2 * DAY)


def test_a_range_that_is_not_dates_is_refused() -> None:
    with pytest.raises(InvalidInput, match="is not YYYY-MM-DD"):
        Range.read("March", "")
    with pytest.raises(InvalidInput, match="ends before it begins"):
        Range.read("2026-03-05", "2026-03-01")


def _behind(db: Database, selection: Selection) -> list[tuple[int, float, bool]]:
    with unit_of_work(db, write=False) as session:
        found = drill.behind(session, DEVIATION, selection, now=NOW, zone=UTC_ZONE)
        assert found.total == len(found.rows)
        return [(r.record_id, r.hours, r.open) for r in found.rows]


@pytest.mark.postgres
def test_each_figure_drills_down_to_its_records(db: Database, built: Deviations) -> None:
    a, b, c = built.a, built.b, built.c
    assert _behind(db, Selection(state="reported")) == [
        (c, 8 * DAY, True),
        (b, 3 * DAY, False),
        (a, 2 * DAY, False),
    ]
    assert _behind(db, Selection(state="reported", target="investigation")) == [
        (b, 3 * DAY, False),
        (a, 2 * DAY, False),
    ]
    assert _behind(db, Selection(state="investigation", month=date(2026, 3, 1))) == [
        (b, 4 * DAY, False),
        (a, 3 * DAY, False),
    ]
    assert _behind(db, Selection(state="investigation", month=date(2026, 4, 1))) == []
    assert sorted(_behind(db, Selection(role="qa"))) == sorted(
        [
            (a, 2 * DAY, False),
            (b, 3 * DAY, False),
            (c, 8 * DAY, True),
            (a, 1 * DAY, False),
            (a, 4 * DAY, True),
        ]
    )
    with unit_of_work(db, write=False) as session:
        found = drill.behind(session, DEVIATION, Selection(state="approved"), now=NOW)
        [row] = found.rows
        assert row.url == f"/deviations/{a}"
        assert row.ended is None and row.open
        with pytest.raises(InvalidInput, match="has no state 'shipped'"):
            drill.behind(session, DEVIATION, Selection(state="shipped"), now=NOW)
        with pytest.raises(InvalidInput, match="say which figure"):
            drill.behind(session, DEVIATION, Selection(), now=NOW)


def test_the_processes_without_records_have_no_stays(db: Database, built: Deviations) -> None:
    with unit_of_work(db, write=False) as session:
        found = figures.process_figures(session, now=NOW, zone=UTC_ZONE)
    assert list(found) == [
        "batch_release",
        "deviation",
        "capa",
        "change_request",
        "complaint",
        "pv_case",
    ]
    assert all(not f.states and f.bottleneck is None for n, f in found.items() if n != "deviation")
    slowest = figures.slowest_steps(found)
    assert [(s.process.name, s.state.state) for s in slowest] == [
        ("deviation", "approved"),
        ("deviation", "investigation"),
        ("deviation", "reported"),
        ("deviation", "pending_approval"),
    ]
    # A closed case may be reassessed, but its time closed is not time in the process.
    assert PROCESSES["pv_case"].end_states == {"closed", "invalid", "duplicate"}
    assert PROCESSES["deviation"].end_states == {"closed", "cancelled"}
    with pytest.raises(NotFound, match="no process analytics for 'batch'"):
        process("batch")


def test_the_page_draws_the_flow_and_its_tables(db: Database, built: Deviations, ui: Any) -> None:
    qa: UiClient = ui("qa")
    page = qa.get("/compliance/process-analytics/deviation")
    assert page.status_code == 200, page.text
    text = page.text
    svg = text[text.index("<svg") : text.index("</svg>")]
    for state in ("reported", "investigation", "pending_approval", "approved", "cancelled"):
        assert f'data-state="{state}"' in svg
    assert ">pending approval</text>" in svg
    # The investigation's stays ended: their figures do not move with the clock.
    assert "median 3.5 d · p90 3.9 d" in svg
    assert "2× · 2.5 d" in svg  # reported → investigation
    assert "/compliance/process-analytics/deviation/records?state=reported" in svg
    assert 'style="' not in svg  # the page's security policy allows no inline style
    assert 'data-testid="process-states"' in text and 'data-testid="process-roles"' in text
    assert 'data-testid="process-trend"' in text and "Definitions" in text

    overview = qa.get("/compliance/process-analytics")
    assert overview.status_code == 200
    assert "/compliance/process-analytics/deviation" in overview.text
    assert "Process analytics" in overview.text  # the menu item

    behind = qa.get("/compliance/process-analytics/deviation/records?state=investigation")
    assert behind.status_code == 200
    assert behind.text.count('data-testid="drill-row"') == 2
    assert f'href="/deviations/{built.a}"' in behind.text
    assert f'href="/deviations/{built.b}"' in behind.text

    refused = qa.get("/compliance/process-analytics/deviation?since=yesterday")
    assert refused.status_code == 422


def test_the_table_exports_as_csv_and_the_export_is_audited(
    db: Database, built: Deviations, ui: Any
) -> None:
    qa: UiClient = ui("qa")
    with unit_of_work(db, write=False) as session:
        before = session.scalar(select(func.count()).where(AuditEntry.action == "export"))
    response = qa.get("/compliance/process-analytics/deviation?export=csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Record type", "Kind", "From", "To", "Count"]
    by_key = {(r[1], r[2], r[3]): r for r in rows[1:]}
    assert by_key[("state", "investigation", "")][4:8] == ["2", "0", "84.0", "93.6"]
    assert by_key[("transition", "reported", "investigation")][4] == "2"
    assert by_key[("transition", "(created)", "reported")][4] == "3"
    with unit_of_work(db, write=False) as session:
        after = session.scalar(select(func.count()).where(AuditEntry.action == "export"))
    assert after == (before or 0) + 1


def test_the_api_gives_the_same_figures(db: Database, built: Deviations, api: Any) -> None:
    client = api("auditor")
    response = client.get("/api/v1/compliance/process-analytics/deviation")
    assert response.status_code == 200, response.text
    body = response.json()
    states = {s["state"]: s for s in body["states"]}
    assert states["investigation"]["stays"]["median_hours"] == 84.0
    assert states["pending_approval"]["stays"]["count"] == 1
    assert {k: v for k, v in body["transitions"][-1].items() if k != "median_hours"} == {
        "source": "pending_approval",
        "target": "approved",
        "count": 1,
    }
    everything = client.get("/api/v1/compliance/process-analytics").json()
    assert [p["record_type"] for p in everything][1] == "deviation"
    behind = client.get(
        "/api/v1/compliance/process-analytics/deviation/records",
        params={"state": "reported", "target": "investigation"},
    ).json()
    assert {r["record_id"] for r in behind["records"]} == {built.a, built.b}
    assert client.get("/api/v1/compliance/process-analytics/shipment").status_code == 404
    bad = client.get("/api/v1/compliance/process-analytics/deviation?until=13/03/2026")
    assert bad.status_code == 422


def test_a_reader_without_audit_read_is_refused(
    db: Database, built: Deviations, ui: Any, api: Any
) -> None:
    qc: UiClient = ui("qc")  # records.read, not audit.read
    for url in (
        "/compliance/process-analytics",
        "/compliance/process-analytics/deviation",
        "/compliance/process-analytics/deviation/records?state=reported",
        "/compliance/process-analytics/deviation?export=csv",
    ):
        assert qc.get(url).status_code == 403, url
    assert "/compliance/process-analytics" not in qc.get("/").text
    client = api("qc")
    for url in (
        "/api/v1/compliance/process-analytics",
        "/api/v1/compliance/process-analytics/deviation",
        "/api/v1/compliance/process-analytics/deviation/records?state=reported",
    ):
        assert client.get(url).status_code == 403, url
    with unit_of_work(db, write=False) as session:
        exports = session.scalar(select(func.count()).where(AuditEntry.action == "export"))
    assert exports == 0
