"""Route planning API: a plan request in, the explained plan out (JSON) — planning writes
nothing; and stored route plans: saved as a draft, read, approved with a signature."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.lifecycle.distribution.http import PREFIX
from pharmaqms.lifecycle.distribution.routing import service
from pharmaqms.lifecycle.distribution.routing.models import RoutePlan
from pharmaqms.lifecycle.distribution.routing.schemas import (
    PlanIn,
    RoutePlanOut,
    SavePlanIn,
    SignIn,
)

router = APIRouter(prefix=PREFIX, tags=["distribution: routing"])


@router.post("/routes/plan")
def plan(body: PlanIn, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Plan temperature-aware routes: every shipment's remaining stability budget is kept (hard),
    thermal exposure is part of the cost; the answer explains the plan against the
    shortest-distance plan and names every stop left out with the reason."""
    with transaction(request, write=False) as session:
        problem = service.planning_problem(session, actor=actor, body=body)
    return service.plan_routes(problem)


def plan_out(record: RoutePlan) -> RoutePlanOut:
    return RoutePlanOut(
        id=record.id,
        number=record.number,
        title=record.title,
        status=record.status,
        version=record.version,
        km=record.km,
        stops_served=record.stops_served,
        stops_dropped=record.stops_dropped,
        exposure_min=record.exposure_min,
        result=json.loads(record.result),
    )


@router.post("/routes/plans", response_model=RoutePlanOut, status_code=201)
def save_plan(body: SavePlanIn, actor: ActorDep, request: Request) -> RoutePlanOut:
    """Plan and store the result as a draft route plan (deterministic search), to be approved."""
    with transaction(request) as session:
        record = service.save_plan(session, actor=actor, body=body.plan, title=body.title)
        return plan_out(record)


@router.get("/routes/plans/{plan_id}", response_model=RoutePlanOut)
def get_plan(plan_id: RecordId, actor: ActorDep, request: Request) -> RoutePlanOut:
    actor.require("records.read", "read route plans")
    with transaction(request, write=False) as session:
        return plan_out(service.get_plan(session, plan_id))


@router.post("/routes/plans/{plan_id}/approve", response_model=RoutePlanOut)
def approve_plan(
    plan_id: RecordId, body: SignIn, actor: ActorDep, request: Request
) -> RoutePlanOut:
    """Approve the stored plan with an electronic signature ("Approved")."""
    with transaction(request) as session:
        record = service.approve_plan(session, actor=actor, plan_id=plan_id, password=body.password)
        session.flush()
        return plan_out(record)
