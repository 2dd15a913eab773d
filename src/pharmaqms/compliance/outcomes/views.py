"""The outcome dashboard page and the drill-down of one figure's month to its records. Thin:
everything comes from ``outcomes.figures``."""

from __future__ import annotations

import re
from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from pharmaqms.compliance.outcomes import figures
from pharmaqms.kernel.db import replica_reads
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.templating import render
from pharmaqms.lifecycle.production.kpi import charts

router = APIRouter(tags=["ui"], include_in_schema=False)
BASE = "/compliance/outcomes"
READ = "read the outcome dashboard"

add(NavItem("Compliance", "Outcome dashboard", BASE, "records.read", 5))

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _plotted(figure: figures.Figure) -> list[float | None]:
    if figure.unit == "%":
        return [None if m.value is None else round(m.value * 100, 2) for m in figure.months]
    return [m.value for m in figure.months]


def _chart(figure: figures.Figure) -> Markup:
    return Markup(  # noqa: S704 - SVG drawn by Matplotlib from numbers and our own titles
        charts.lines(
            [m.month for m in figure.months],
            {figure.title: _plotted(figure)},
            title=f"{figure.title} ({figure.better} is better)",
            ylabel={"%": "%", "h": "hours", "months": "months"}[figure.unit],
        )
    )


@router.get(BASE, response_class=HTMLResponse)
def dashboard(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", READ)
    with transaction(request, write=False) as session, replica_reads(session) as reads:
        found = figures.outcome_figures(reads)
        return render(
            request,
            "compliance/outcomes.html",
            {"figures": found, "charts": {f.key: _chart(f) for f in found}},
        )


def _month(raw: str) -> date:
    matched = MONTH.match(raw)
    if matched is None or not 1 <= int(matched.group(2)) <= 12:
        raise InvalidInput(f"month {raw!r} is not YYYY-MM", field="month")
    return date(int(matched.group(1)), int(matched.group(2)), 1)


@router.get(BASE + "/{key}", response_class=HTMLResponse)
def drill_down(
    key: str, request: Request, actor: ActorDep, month: str = Query(max_length=7)
) -> HTMLResponse:
    actor.require("records.read", READ)
    chosen = _month(month)
    with transaction(request, write=False) as session, replica_reads(session) as reads:
        figure = figures.figure_by_key(reads, key)
        return render(
            request,
            "compliance/outcome_month.html",
            {"figure": figure, "month": figure.month(chosen)},
        )
