"""What a plan does and why it was chosen: per vehicle the stops with arrival times, the ambient
on each leg, each shipment's predicted exposure against its remaining budget; the totals; the
cost split into its distance and thermal parts; and the shortest-distance plan beside it with
what the thermal term changed.

Exposure here is computed along the route actually chosen (:func:`exposure.along`: the
vehicle's region minute by minute — half of each leg in the region it leaves, half in the one
it reaches — and the stop's region while it waits and serves), not the worst case the solver
bounded it with; so it is the prediction, and a planned shipment's margin is never negative."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pharmaqms.lifecycle.distribution.routing import exposure
from pharmaqms.lifecycle.distribution.routing.problem import HORIZON_MIN, Problem
from pharmaqms.lifecycle.distribution.routing.solver import (
    Model,
    Route,
    Solution,
    clock,
    prepare,
    solve,
)


def regions_along(problem: Problem, model: Model, route: Route) -> list[str]:
    """The region the vehicle is in at each minute of the horizon."""
    places = problem.places
    depot = problem.depot.region
    where = [depot] * HORIZON_MIN
    vehicle = problem.vehicles[route.vehicle]
    now, node = vehicle.departure_min, 0
    legs = [(v.stop + 1, v.arrival_min, v.leave_min) for v in route.visits]
    legs.append((0, route.end_min, route.end_min))
    for target, arrival, leave in legs:
        # The drive takes the travel time; the rest until arrival is waiting at the stop.
        drive_end = min(arrival, now + model.travel[node][target])
        middle = (now + drive_end) // 2
        for m in range(now, min(middle, HORIZON_MIN)):
            where[m] = places[node].region
        for m in range(middle, min(leave, HORIZON_MIN)):
            where[m] = places[target].region
        now, node = leave, target
    return where


def _shipments(problem: Problem, model: Model, route: Route) -> list[dict[str, Any]]:
    vehicle = problem.vehicles[route.vehicle]
    where = regions_along(problem, model, route)
    rows = []
    for visit in route.visits:
        stop = problem.stops[visit.stop]
        for shipment in stop.shipments:
            path = exposure.along(
                problem.ambient, where, vehicle.packaging, shipment, vehicle.departure_min
            )
            minutes, degree_minutes = path.at(visit.leave_min)
            margin = shipment.budget_min - minutes
            rows.append(
                {
                    "shipment": shipment.code,
                    "product": shipment.product,
                    "stop": stop.place.code,
                    "range_c": [shipment.low_c, shipment.high_c],
                    "delivered": clock(visit.leave_min),
                    "exposure_min": round(minutes, 1),
                    "exposure_degree_min": round(degree_minutes, 1),
                    "budget_min": shipment.budget_min,
                    "budget_degree_min": shipment.budget_degree_min,
                    "margin_min": round(margin, 1),
                    "within_budget": margin >= 0
                    and (
                        shipment.budget_degree_min is None
                        or degree_minutes <= shipment.budget_degree_min
                    ),
                }
            )
    return rows


def _legs(problem: Problem, model: Model, route: Route) -> list[dict[str, Any]]:
    places = problem.places
    legs = []
    node, now = 0, problem.vehicles[route.vehicle].departure_min
    targets = [(v.stop + 1, v.arrival_min, v.leave_min) for v in route.visits]
    targets.append((0, route.end_min, route.end_min))
    for target, arrival, leave in targets:
        ambient = {
            problem.ambient.at(places[node].region, now),
            problem.ambient.at(places[target].region, arrival),
        }
        legs.append(
            {
                "from": places[node].code,
                "to": places[target].code,
                "depart": clock(now),
                "arrive": clock(arrival),
                "wait_min": max(0, arrival - now - model.travel[node][target]),
                "km": round(model.distance[node][target] / 1000, 1),
                "ambient_c": [min(ambient), max(ambient)],
                "region": places[target].region,
            }
        )
        node, now = target, leave
    return legs


@dataclass(frozen=True)
class Totals:
    distance_m: int
    drive_min: int
    exposure_min: float
    exposure_degree_min: float
    breaches: tuple[str, ...]
    thermal_cost: int


def summarise(problem: Problem, model: Model, solution: Solution) -> dict[str, Any]:
    routes = []
    all_rows: list[dict[str, Any]] = []
    thermal_cost = 0
    for route in solution.routes:
        vehicle = problem.vehicles[route.vehicle]
        rows = _shipments(problem, model, route)
        all_rows += rows
        klass = model.class_of[route.vehicle]
        if not vehicle.packaging.active:
            for visit in route.visits:
                stop = problem.stops[visit.stop]
                late = visit.arrival_min - model.exposed_from[klass][visit.stop]
                thermal_cost += (
                    max(0, late) * problem.thermal_weight_m_per_min * len(stop.shipments)
                )
        routes.append(
            {
                "vehicle": vehicle.code,
                "packaging": vehicle.packaging.name,
                "departure": clock(vehicle.departure_min),
                "return": clock(route.end_min),
                "duration_min": route.end_min - vehicle.departure_min,
                "km": round(route.distance_m / 1000, 1),
                "stops": [
                    {
                        "stop": problem.stops[v.stop].place.code,
                        "name": problem.stops[v.stop].place.name,
                        "arrival": clock(v.arrival_min),
                        "leave": clock(v.leave_min),
                        "window": [
                            clock(problem.stops[v.stop].window_start_min),
                            clock(problem.stops[v.stop].window_end_min),
                        ],
                    }
                    for v in route.visits
                ],
                "legs": _legs(problem, model, route),
                "shipments": rows,
            }
        )
    distance = sum(r.distance_m for r in solution.routes)
    return {
        "thermal": solution.thermal,
        "status": solution.status,
        "solve_seconds": round(solution.seconds, 3),
        "routes": routes,
        "dropped": [
            {"stop": problem.stops[d.stop].place.code, "reasons": list(d.reasons)}
            for d in solution.dropped
        ],
        "totals": {
            "km": round(distance / 1000, 1),
            "duration_min": sum(
                r.end_min - problem.vehicles[r.vehicle].departure_min for r in solution.routes
            ),
            "exposure_min": round(sum(r["exposure_min"] for r in all_rows), 1),
            "exposure_degree_min": round(sum(r["exposure_degree_min"] for r in all_rows), 1),
            "over_budget": [r["shipment"] for r in all_rows if not r["within_budget"]],
        },
        "cost": {
            "distance_m": distance,
            "thermal": thermal_cost,
            "thermal_weight_m_per_min": problem.thermal_weight_m_per_min,
        },
    }


def _sequences(summary: dict[str, Any]) -> dict[str, tuple[str, int]]:
    return {
        stop["stop"]: (route["vehicle"], n)
        for route in summary["routes"]
        for n, stop in enumerate(route["stops"], start=1)
    }


def plan(problem: Problem, *, guided: bool = True) -> dict[str, Any]:
    """Solve with the thermal term and without it; explain the first against the second."""
    model = prepare(problem)
    chosen = summarise(problem, model, solve(problem, thermal=True, guided=guided, model=model))
    shortest = summarise(problem, model, solve(problem, thermal=False, guided=guided, model=model))
    mine, theirs = _sequences(chosen), _sequences(shortest)
    moved = [
        {
            "stop": code,
            "thermal": f"{mine[code][0]} #{mine[code][1]}" if code in mine else "left out",
            "shortest": f"{theirs[code][0]} #{theirs[code][1]}" if code in theirs else "left out",
        }
        for code in sorted(set(mine) | set(theirs))
        if mine.get(code) != theirs.get(code)
    ]
    extra_km = round(chosen["totals"]["km"] - shortest["totals"]["km"], 1)
    saved = round(shortest["totals"]["exposure_min"] - chosen["totals"]["exposure_min"], 1)
    over = shortest["totals"]["over_budget"]
    if not moved:
        why = "The shortest-distance plan is the same; the thermal term changed nothing" + (
            f" (it would break the budget of {', '.join(over)})." if over else "."
        )
    else:
        why = (
            f"The thermal term changed {len(moved)} stop(s): {extra_km:+g} km for "
            f"{saved:g} shipment-minutes less outside range"
            + (f"; the shortest plan would break the budget of {', '.join(over)}." if over else ".")
        )
    return {
        "plan": chosen,
        "shortest": shortest,
        "comparison": {
            "changed": moved,
            "extra_km": extra_km,
            "exposure_saved_min": saved,
            "why": why,
        },
    }
