"""Planning from a request: the request's values become a :class:`Problem` — a shipment given
without a budget takes the remaining stability budget of the lots it carries (§2) and, without a
range, the range the shipment was registered with — and the plan is explained.

Planning writes nothing: a plan is advice until someone stores it (:func:`save_plan`, a draft
route plan record) and approves it with an electronic signature (:func:`approve_plan`)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.distribution.budget import lot_budget
from pharmaqms.lifecycle.distribution.routing import explain, svg
from pharmaqms.lifecycle.distribution.routing.ambient import PACKAGINGS, seasonal
from pharmaqms.lifecycle.distribution.routing.models import RoutePlan, RoutePlanStatus
from pharmaqms.lifecycle.distribution.routing.problem import (
    AmbientTable,
    Packaging,
    Place,
    Problem,
    Shipment,
    Stop,
    Vehicle,
)
from pharmaqms.lifecycle.distribution.routing.schemas import PlaceIn, PlanIn, ShipmentIn, minutes
from pharmaqms.lifecycle.distribution.routing.workflow import ROUTE_PLAN_WORKFLOW
from pharmaqms.platform.masterdata.models import Location
from pharmaqms.platform.masterdata.service import find_location
from pharmaqms.platform.traceability.models import InventoryMovement
from pharmaqms.platform.traceability.models import Shipment as ShipmentRecord


def remaining_budget_min(session: Session, code: str, field: str) -> tuple[float, ShipmentRecord]:
    """The least remaining time of any band of any lot on the shipment, in minutes (any band:
    the route's ambient could put the load in any of them)."""
    record = session.scalar(select(ShipmentRecord).where(ShipmentRecord.code == code))
    if record is None:
        raise InvalidInput(f"give budget_min: {code} is not a registered shipment", field=field)
    lots = sorted(
        set(
            session.scalars(
                select(InventoryMovement.lot_id).where(InventoryMovement.shipment_id == record.id)
            )
        )
    )
    if not lots:
        raise InvalidInput(f"shipment {code} carries no lot to take a budget from", field=field)
    remaining = []
    for lot_id in lots:
        budget = lot_budget(session, lot_id)
        if budget.assessment is None:
            raise InvalidInput(
                f"lot {budget.lot_number} on {code} has no stability budget entered", field=field
            )
        remaining += [usage.remaining_h * 60.0 for usage in budget.assessment.bands]
    return max(0.0, min(remaining)), record


def _shipment(session: Session | None, body: ShipmentIn, field: str) -> Shipment:
    low, high, budget = body.low_c, body.high_c, body.budget_min
    if budget is None:
        if session is None:
            raise InvalidInput("give budget_min", field=field)
        budget, record = remaining_budget_min(session, body.code, field)
        low = record.required_min_c if low is None else low
        high = record.required_max_c if high is None else high
    return Shipment(body.code, body.product, low, high, budget, body.budget_degree_min)


def _packaging(value: Any, field: str) -> Packaging:
    if isinstance(value, str):
        if value not in PACKAGINGS:
            raise InvalidInput(
                f"unknown packaging {value!r} (known: {', '.join(PACKAGINGS)})", field=field
            )
        return PACKAGINGS[value]
    return Packaging(value.name, value.active, tuple(tuple(p) for p in value.hold_h))


def place_of(session: Session | None, body: PlaceIn, field: str) -> Place:
    """The place as given, or read from its master-data location: a location without
    coordinates or ambient region is refused, naming it (nothing is planned)."""
    if body.location is None:
        assert body.code is not None and body.lat is not None and body.lon is not None
        assert body.region is not None  # the schema checked all four are given
        return Place(body.code, body.name, body.lat, body.lon, body.region)
    if session is None:
        raise InvalidInput("a place given by its location needs the master data", field=field)
    try:
        location = find_location(session, body.location, field=field)
    except NotFound as missing:
        raise InvalidInput(str(missing), field=field) from None
    named = f"location {location.code} ({location.name})"
    if location.latitude is None or location.longitude is None:
        raise InvalidInput(
            f"{named} has no coordinates: enter them on its master data page", field=field
        )
    if not location.region:
        raise InvalidInput(
            f"{named} has no ambient region: enter it on its master data page", field=field
        )
    return Place(
        body.code or location.code,
        body.name or location.name,
        location.latitude,
        location.longitude,
        location.region,
    )


def problem_of(body: PlanIn, session: Session | None = None) -> Problem:
    seed = seasonal(body.season)
    table = AmbientTable(
        body.season, {**seed.hourly_c, **{r: tuple(v) for r, v in body.ambient.items()}}
    )
    depot = place_of(session, body.depot, "depot.location")
    stops = tuple(
        Stop(
            place_of(session, s, f"stops.{n}.location"),
            minutes(s.window_start),
            minutes(s.window_end),
            s.service_min,
            s.demand,
            tuple(
                _shipment(session, sh, f"stops.{n}.shipments.{k}.budget_min")
                for k, sh in enumerate(s.shipments)
            ),
        )
        for n, s in enumerate(body.stops)
    )
    vehicles = tuple(
        Vehicle(
            v.code,
            v.capacity,
            minutes(v.departure),
            _packaging(v.packaging, f"vehicles.{n}.packaging"),
            minutes(v.return_by),
        )
        for n, v in enumerate(body.vehicles)
    )
    return Problem(
        depot=depot,
        vehicles=vehicles,
        stops=stops,
        ambient=table,
        speed_kmh=body.speed_kmh,
        thermal_weight_m_per_min=body.thermal_weight_m_per_min,
        time_limit_s=body.time_limit_s,
        distance_matrix_m=_matrix(body.distance_matrix_m),
        travel_matrix_min=_matrix(body.travel_matrix_min),
    )


def _matrix(rows: list[list[int]] | None) -> tuple[tuple[int, ...], ...] | None:
    return None if rows is None else tuple(tuple(row) for row in rows)


def planning_problem(session: Session | None, *, actor: Actor, body: PlanIn) -> Problem:
    """The request as a problem, budgets looked up where not given (reads only)."""
    actor.require("routes.plan", "plan delivery routes")
    return problem_of(body, session)


def demo_plan_request(session: Session, season: str) -> dict[str, Any]:
    """The page's example: the demo's round from master data when its locations are there
    with their positions, else the self-contained example with coordinates."""
    from pharmaqms.lifecycle.distribution.routing.demo import (
        ROUND,
        ROUND_DEPOT,
        demo_request,
        round_request,
    )

    codes = [ROUND_DEPOT, *(row[0] for row in ROUND)]
    placed = session.scalar(
        select(func.count())
        .select_from(Location)
        .where(
            Location.code.in_(codes),
            Location.latitude.is_not(None),
            Location.longitude.is_not(None),
            Location.region.is_not(None),
        )
    )
    return round_request(season) if placed == len(codes) else demo_request(season)


def plan_routes(problem: Problem, *, guided: bool = True) -> dict[str, Any]:
    """Solve, explain and draw (no database: call it after the reading transaction, so a
    solve of a few seconds holds no connection)."""
    result = explain.plan(problem, guided=guided)
    # The coordinates and regions planned with (read from master data where the request named
    # a location): kept with a stored plan, so a later change of a location does not rewrite
    # what was approved.
    places = [
        {"code": p.code, "name": p.name, "lat": p.lat, "lon": p.lon, "region": p.region}
        for p in problem.places
    ]
    return {**result, "places": places, "map_svg": svg.plan_map(problem, result["plan"])}


def open_shipments(session: Session) -> list[dict[str, Any]]:
    """Planned shipments with their range and remaining budget (or why there is none), for
    the planner to put on a round."""
    rows = []
    for record in session.scalars(
        select(ShipmentRecord)
        .where(ShipmentRecord.status == "planned")
        .order_by(ShipmentRecord.code)
    ):
        try:
            budget: float | None = remaining_budget_min(session, record.code, "budget_min")[0]
            note = ""
        except InvalidInput as refused:
            budget, note = None, str(refused)
        rows.append(
            {
                "code": record.code,
                "range_c": [record.required_min_c, record.required_max_c],
                "budget_min": None if budget is None else round(budget, 1),
                "note": note,
            }
        )
    return rows


def save_plan(
    session: Session, *, actor: Actor, body: PlanIn, title: str, guided: bool = False
) -> RoutePlan:
    """Plan and store the result as a draft route plan: the record keeps the request and the
    explained plan exactly as computed now, so what is approved is what was shown. The default
    search stops at its first local optimum: the same request gives the same plan."""
    actor.require("routes.plan", "store route plans")
    title = title.strip()
    if not title:
        raise InvalidInput("give the plan a title (the round, the day)", field="title")
    problem = problem_of(body, session)
    result = plan_routes(problem, guided=guided)
    plan = result["plan"]
    record = RoutePlan(
        status=RoutePlanStatus.DRAFT.value,
        title=title[:200],
        season=body.season,
        request=body.model_dump_json(),
        result=json.dumps(result, ensure_ascii=False),
        km=float(plan["totals"]["km"]),
        stops_served=sum(len(r["stops"]) for r in plan["routes"]),
        stops_dropped=len(plan["dropped"]),
        exposure_min=float(plan["totals"]["exposure_min"]),
    )
    with audit.changes(session, actor=actor, reason=f"route plan {title}"[:500]):
        session.add(record)
        session.flush()
    return record


def get_plan(session: Session, plan_id: int) -> RoutePlan:
    record = session.get(RoutePlan, plan_id)
    if record is None:
        raise NotFound(f"no route plan {plan_id}")
    return record


def plans(session: Session, *, limit: int = 200) -> list[RoutePlan]:
    return list(session.scalars(select(RoutePlan).order_by(RoutePlan.id.desc()).limit(limit)))


def approve_plan(session: Session, *, actor: Actor, plan_id: int, password: str) -> RoutePlan:
    """Sign the stored plan ("Approved"): its routes, predicted exposures and left-out stops."""
    record = get_plan(session, plan_id)
    perform(
        session,
        ROUTE_PLAN_WORKFLOW,
        record,
        "approve",
        actor=actor,
        password=password,
        comment=f"{record.stops_served} stops, {record.km} km",
    )
    return record


def cancel_plan(session: Session, *, actor: Actor, plan_id: int, reason: str) -> RoutePlan:
    record = get_plan(session, plan_id)
    perform(session, ROUTE_PLAN_WORKFLOW, record, "cancel", actor=actor, reason=reason)
    return record
