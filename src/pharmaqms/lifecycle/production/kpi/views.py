"""The production KPI page: charts (server-rendered SVG) with the numbers beside them. Thin:
everything comes from ``kpi.service``."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.templating import render
from pharmaqms.lifecycle.production.kpi import charts, service

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Production", "Production KPIs", "/production/kpi", "records.read", 70))


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


@router.get("/production/kpi", response_class=HTMLResponse)
def kpi_page(
    request: Request,
    actor: ActorDep,
    product: str = Query(default="", max_length=40),
    months: int = Query(default=12, ge=1, le=60),
) -> HTMLResponse:
    actor.require("records.read", "read the production KPIs")
    with transaction(request) as session:
        products = service.products_made(session)
        chosen = product or (products[0][0] if products else "")
        kpis = service.production_kpis(session, chosen, months=months) if chosen else None
        figures: dict[str, Markup] = {}
        if kpis is not None:
            window = kpis.months
            figures["failure"] = Markup(  # noqa: S704 - SVG drawn by Matplotlib from numbers
                charts.bars(
                    window,
                    [_percent(r.rate) for r in kpis.failure_rate],
                    title="Batch failure rate (rejected / released or rejected)",
                    ylabel="%",
                    notes=[f"{r.numerator}/{r.denominator}" for r in kpis.failure_rate],
                )
            )
            figures["rft"] = Markup(  # noqa: S704
                charts.lines(
                    window,
                    {"right first time": [_percent(r.rate) for r in kpis.right_first_time]},
                    title="Right first time (clean releases / released or rejected)",
                    ylabel="%",
                )
            )
            figures["cycle"] = Markup(  # noqa: S704
                charts.lines(
                    window,
                    {
                        "median": [c.median_hours for c in kpis.cycle_time],
                        "90th percentile": [c.p90_hours for c in kpis.cycle_time],
                    },
                    title="Release cycle time (end of manufacture → release)",
                    ylabel="hours",
                )
            )
            figures["oos"] = Markup(  # noqa: S704
                charts.lines(
                    window,
                    {t.test_code: [_percent(r.rate) for r in t.months] for t in kpis.oos},
                    title="OOS rate per test",
                    ylabel="% of results",
                )
            )
            figures["capability"] = Markup(  # noqa: S704
                charts.lines(
                    window,
                    {c.subject: [m.cpk for m in c.months] for c in kpis.capability},
                    title="Process capability (Cpk) per month",
                    ylabel="Cpk",
                    reference=(1.33, "Cpk 1.33"),
                )
            )
        return render(
            request,
            "kpi/kpi.html",
            {
                "products": products,
                "chosen": chosen,
                "months": months,
                "kpis": kpis,
                "figures": figures,
                "percent": _percent,
                "definitions": {
                    "failure": service.FAILURE_RATE_DEFINITION,
                    "rft": service.RIGHT_FIRST_TIME_DEFINITION,
                },
            },
        )
