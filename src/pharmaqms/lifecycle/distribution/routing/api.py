"""Route planning API: a plan request in, the explained plan out (JSON). Planning writes
nothing, so it runs outside a write transaction; the database is read only for shipments given
without a budget."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.lifecycle.distribution.http import PREFIX
from pharmaqms.lifecycle.distribution.routing import service
from pharmaqms.lifecycle.distribution.routing.schemas import PlanIn

router = APIRouter(prefix=PREFIX, tags=["distribution: routing"])


@router.post("/routes/plan")
def plan(body: PlanIn, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Plan temperature-aware routes: every shipment's remaining stability budget is kept (hard),
    thermal exposure is part of the cost; the answer explains the plan against the
    shortest-distance plan and names every stop left out with the reason."""
    with transaction(request, write=False) as session:
        problem = service.planning_problem(session, actor=actor, body=body)
    return service.plan_routes(problem)
