"""Risk-factor API (``/api/v1/pv/risk-factors``): the odds-ratio table of a product's cases with
the evidence behind it. Reads only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.lifecycle.use.risk import service
from pharmaqms.lifecycle.use.risk.schemas import RiskOut, risk_out

router = APIRouter(prefix="/api/v1/pv", tags=["pharmacovigilance"])


@router.get("/risk-factors", response_model=RiskOut)
def risk_factors(
    actor: ActorDep,
    request: Request,
    product: Annotated[str, Query(min_length=1, max_length=200, description="name or code")],
    term: Annotated[
        str | None,
        Query(max_length=200, description="a reaction term; without it: a serious outcome"),
    ] = None,
    comedication: Annotated[
        str | None,
        Query(max_length=200, description="a concomitant drug to test by name"),
    ] = None,
) -> RiskOut:
    actor.require("records.read", "read risk-factor analyses")
    with transaction(request) as session:
        scope, found = service.risk_factors(session, product, term=term, comedication=comedication)
        return risk_out(scope.name, found)
