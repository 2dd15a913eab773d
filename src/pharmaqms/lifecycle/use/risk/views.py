"""The risk-factor page: choose a product (and a reaction term, or a concomitant drug to test);
the odds-ratio table, the forest plot, a sentence per factor, and the counts behind them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.templating import render
from pharmaqms.lifecycle.use.risk import service
from pharmaqms.lifecycle.use.risk.analysis import MIN_CASES
from pharmaqms.lifecycle.use.risk.forest import forest_svg
from pharmaqms.lifecycle.use.risk.schemas import METHOD

router = APIRouter(tags=["ui"], include_in_schema=False)

OptionalText = Annotated[str | None, Query(max_length=200)]


@router.get("/pv/risk-factors", response_class=HTMLResponse)
def risk_page(
    request: Request,
    actor: ActorDep,
    product: OptionalText = None,
    term: OptionalText = None,
    comedication: OptionalText = None,
) -> HTMLResponse:
    actor.require("records.read", "read risk-factor analyses")
    with transaction(request) as session:
        found, problem, name = None, None, None
        if product:
            try:
                scope, found = service.risk_factors(
                    session, product, term=term, comedication=comedication
                )
                name = scope.name
            except InvalidInput as exc:
                problem = exc.detail
        return render(
            request,
            "pv/risk.html",
            {
                "product": product or "",
                "term": term or "",
                "comedication": comedication or "",
                "name": name,
                "found": found,
                "problem": problem,
                "forest": Markup(forest_svg(found.rows)) if found else None,  # noqa: S704
                "method": METHOD,
                "min_cases": MIN_CASES,
            },
        )
