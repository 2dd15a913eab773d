"""The route planning page: the plan request as JSON (the demo scenario pre-filled, a summer or
winter day), the open shipments with their remaining budgets, and — once planned — the map,
the routes with arrival times, legs and ambient, each shipment's exposure against its budget,
the stops left out with their reasons, and the comparison with the shortest-distance plan."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.flash import set_flash
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.lifecycle.distribution.routing import service
from pharmaqms.lifecycle.distribution.routing.schemas import PlanIn
from pharmaqms.lifecycle.distribution.routing.workflow import ROUTE_PLAN_WORKFLOW

router = APIRouter(tags=["ui"], include_in_schema=False)
BASE = "/distribution/routes"

add(NavItem("Distribution", "Route planning", BASE, "routes.plan", 40))


def _page(
    request: Request,
    text: str,
    *,
    result: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    with transaction(request, write=False) as session:
        shipments = service.open_shipments(session)
    return render(
        request,
        "distribution/routes.html",
        {"request_json": text, "result": result, "errors": errors or [], "shipments": shipments},
        status=status,
    )


@router.get(BASE, response_class=HTMLResponse)
def planner(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("routes.plan", "plan delivery routes")
    with transaction(request, write=False) as session:
        example = service.demo_plan_request(session, "summer")
    return _page(request, json.dumps(example, indent=1, ensure_ascii=False))


@router.post(BASE, response_class=HTMLResponse)
def plan(
    request: Request,
    actor: ActorDep,
    request_json: Annotated[str, Form(max_length=500_000)] = "",
    season: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    """Plan the request in the form (or load the demo of a season when ``season`` is given)."""
    actor.require("routes.plan", "plan delivery routes")
    if season in ("summer", "winter"):
        with transaction(request, write=False) as session:
            example = service.demo_plan_request(session, season)
        text = json.dumps(example, indent=1, ensure_ascii=False)
    else:
        text = request_json
    try:
        body = PlanIn.model_validate_json(text)
        with transaction(request, write=False) as session:
            problem = service.planning_problem(session, actor=actor, body=body)
    except ValidationError as refused:
        errors = [
            f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}"
            for e in refused.errors()
        ]
        return _page(request, text, errors=errors, status=422)
    except InvalidInput as refused:
        return _page(request, text, errors=[f"{refused.field or 'request'}: {refused}"], status=422)
    return _page(request, text, result=service.plan_routes(problem))


@router.post(f"{BASE}/plans")
def save(
    request: Request,
    actor: ActorDep,
    request_json: Annotated[str, Form(max_length=500_000)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Store the request's plan as a draft route plan and show it."""
    try:
        body = PlanIn.model_validate_json(request_json)
        with transaction(request) as session:
            record = service.save_plan(session, actor=actor, body=body, title=title)
            session.flush()
            plan_id, number = record.id, record.number
    except ValidationError as refused:
        errors = [
            f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}"
            for e in refused.errors()
        ]
        return _page(request, request_json, errors=errors, status=422)
    except InvalidInput as refused:
        return _page(
            request, request_json, errors=[f"{refused.field or 'request'}: {refused}"], status=422
        )
    response = RedirectResponse(f"{BASE}/plans/{plan_id}", status_code=303)
    set_flash(response, "success", f"{number} saved as a draft.")
    return response


@router.get(f"{BASE}/plans/{{plan_id}}", response_class=HTMLResponse)
def stored(plan_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read route plans")
    with transaction(request, write=False) as session:
        record = service.get_plan(session, plan_id)
        return render(
            request,
            "distribution/route_plan.html",
            {
                "record": record,
                "result": json.loads(record.result),
                "workflow": ROUTE_PLAN_WORKFLOW,
            },
        )


@router.post(f"{BASE}/plans/{{plan_id}}/approve")
def approve(
    plan_id: RecordId,
    request: Request,
    actor: ActorDep,
    password: Annotated[str, Form(max_length=256)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        number = service.approve_plan(
            session, actor=actor, plan_id=plan_id, password=password
        ).number
    response = RedirectResponse(f"{BASE}/plans/{plan_id}", status_code=303)
    set_flash(response, "success", f"{number} approved and signed.")
    return response
