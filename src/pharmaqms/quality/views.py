"""Quality trends: deviations by class and by area per month, and the CAPA on-time rate per
month, as server-rendered SVG charts with the numbers beside them."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.templating import render
from pharmaqms.quality import charts
from pharmaqms.quality.capa import queries as capa_queries
from pharmaqms.quality.deviations import queries as deviation_queries

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Quality", "Quality trends", "/quality/trends", "records.read", 70))

SVG = "image/svg+xml"
MonthsQuery = Query(default=12, ge=1, le=36)


@router.get("/quality/trends", response_class=HTMLResponse)
def trends(request: Request, actor: ActorDep, months: int = MonthsQuery) -> HTMLResponse:
    actor.require("records.read", "read quality trends")
    with transaction(request) as session:
        deviations = deviation_queries.trend(session, months=months)
        on_time = capa_queries.on_time_rate(session, months=months)
    return render(
        request,
        "quality/trends.html",
        {"deviations": deviations, "on_time": on_time, "months": months},
    )


@router.get("/quality/charts/deviations-by-class.svg")
def deviations_by_class(request: Request, actor: ActorDep, months: int = MonthsQuery) -> Response:
    actor.require("records.read", "read quality trends")
    with transaction(request) as session:
        found = deviation_queries.trend(session, months=months)
    svg = charts.stacked_bars(
        [m.label for m in found.months],
        found.by_class,
        title="Deviations by class, per month of discovery",
        colours=charts.CLASS_COLOURS,
    )
    return Response(svg, media_type=SVG)


@router.get("/quality/charts/deviations-by-area.svg")
def deviations_by_area(request: Request, actor: ActorDep, months: int = MonthsQuery) -> Response:
    actor.require("records.read", "read quality trends")
    with transaction(request) as session:
        found = deviation_queries.trend(session, months=months)
    svg = charts.stacked_bars(
        [m.label for m in found.months],
        found.by_area,
        title="Deviations by area, per month of discovery",
    )
    return Response(svg, media_type=SVG)


@router.get("/quality/charts/capa-on-time.svg")
def capa_on_time(request: Request, actor: ActorDep, months: int = MonthsQuery) -> Response:
    actor.require("records.read", "read quality trends")
    with transaction(request) as session:
        found = capa_queries.on_time_rate(session, months=months)
    svg = charts.on_time_rate(
        [m.label for m in found.months],
        found.closed,
        found.on_time,
        title="CAPAs closed per month, and the share closed by their due date",
    )
    return Response(svg, media_type=SVG)
