"""Process analytics pages: every process at a glance, one process as a flow with durations,
its tables and trend, the records behind each figure, and the table as CSV. Thin: the
figures come from ``figures`` and ``drill``."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from pharmaqms.compliance.process_analytics import drill, figures, flow, reading
from pharmaqms.compliance.process_analytics.figures import ProcessFigures
from pharmaqms.compliance.process_analytics.processes import PROCESSES, process
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.registers import export_table
from pharmaqms.kernel.http.templating import render
from pharmaqms.lifecycle.production.kpi import charts

router = APIRouter(tags=["ui"], include_in_schema=False)
BASE = "/compliance/process-analytics"
DAY = Query("", max_length=10)

add(NavItem("Compliance", "Process analytics", BASE, reading.PERMISSION, 6))


def _trend_chart(found: ProcessFigures) -> Markup | None:
    if not found.months:
        return None
    series: dict[str, Sequence[float | None]] = {
        found.process.state_label(state): [
            None if p.median is None else round(p.median / 24, 2) for p in points
        ]
        for state, points in found.trend.items()
        if state in {s.state for s in found.states}
    }
    return Markup(  # noqa: S704 - SVG drawn by Matplotlib from numbers and workflow labels
        charts.lines(
            list(found.months),
            series,
            title=f"{found.process.title}: median days in each state, by month begun",
            ylabel="days",
        )
    )


def _flow(found: ProcessFigures, span: reading.Range) -> Markup:
    base = f"{BASE}/{found.process.name}/records"
    svg = flow.render(
        found,
        lambda state: base + span.query(state=state),
        lambda source, target: base + span.query(state=source, target=target),
    )
    return Markup(svg)  # noqa: S704 - every text in it is escaped by flow.render


@router.get(BASE, response_class=HTMLResponse)
def overview(request: Request, actor: ActorDep, since: str = DAY, until: str = DAY) -> HTMLResponse:
    actor.require(reading.PERMISSION, reading.WHY)
    span = reading.Range.read(since, until)
    with transaction(request, write=False) as session:
        found = figures.process_figures(session, window=span.window())
        return render(
            request,
            "compliance/process_analytics.html",
            {
                "found": found,
                "slowest": figures.slowest_steps(found),
                "span": span,
                "shown": figures.shown,
                "definitions": figures.DEFINITIONS,
            },
        )


@router.get(BASE + "/{record_type}", response_class=HTMLResponse)
def one_process(
    record_type: str,
    request: Request,
    actor: ActorDep,
    since: str = DAY,
    until: str = DAY,
    export: str = Query("", max_length=10),
) -> Response:
    actor.require(reading.PERMISSION, reading.WHY)
    chosen = process(record_type)
    span = reading.Range.read(since, until)
    if export:
        # Handing the table out is written to the audit trail, so this one is a writing unit.
        with transaction(request, write=True) as session:
            found = figures.process_figures(session, [chosen], span.window())[chosen.name]
            content, filename, media = export_table(
                session,
                actor,
                name=f"process-analytics-{chosen.name}",
                title=f"Process analytics: {chosen.title}",
                headers=reading.TABLE_HEADERS,
                rows=reading.table_rows(found),
                fmt=export,
                filters={k: v for k, v in (("since", since), ("until", until)) if v},
            )
        return download(content, filename=filename, media_type=media)
    with transaction(request, write=False) as session:
        found = figures.process_figures(session, [chosen], span.window())[chosen.name]
        return render(
            request,
            "compliance/process_analytics_flow.html",
            {
                "f": found,
                "flow": _flow(found, span),
                "trend": _trend_chart(found),
                "span": span,
                "shown": figures.shown,
                "processes": PROCESSES,
                "definitions": figures.DEFINITIONS,
            },
        )


@router.get(BASE + "/{record_type}/records", response_class=HTMLResponse)
def records_behind(
    record_type: str,
    request: Request,
    actor: ActorDep,
    since: str = DAY,
    until: str = DAY,
    state: str = Query("", max_length=60),
    target: str = Query("", max_length=60),
    role: str = Query("", max_length=64),
    month: str = Query("", max_length=7),
) -> HTMLResponse:
    actor.require(reading.PERMISSION, reading.WHY)
    chosen = process(record_type)
    span = reading.Range.read(since, until)
    picked = reading.selection(state, target, role, month)
    with transaction(request, write=False) as session:
        found = drill.behind(session, chosen, picked, span.window())
        return render(
            request,
            "compliance/process_analytics_records.html",
            {"d": found, "span": span, "shown": figures.shown, "base": BASE},
        )
