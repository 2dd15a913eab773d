"""The OR-Tools model: a vehicle routing problem with time windows, capacities, thermal
exposure in the cost and every shipment's remaining stability budget as a hard constraint.

Formulation (why it is sound):

- **Time**: one dimension, transit = service at the origin + travel; slack is waiting. Each
  vehicle leaves at its departure time and is back by its return-by time.
- **Budget (hard)**: a shipment's exposure depends only on how long it has been on the vehicle
  and the ambient it met, and it never decreases. :func:`exposure.bound` gives, for the
  vehicle's packaging and departure, the worst-case exposure over every region of the plan, so
  the last minute at which it is within the remaining budget is a latest delivery time that
  holds on any route. It becomes an upper bound on the stop's time (minus the service time:
  the load is handed over at the end of the service). Vehicles whose packaging or departure
  give different bounds get a conditional bound each (``time ≤ L_c`` when the stop's vehicle
  is of class c), and a vehicle that cannot reach the stop in time at all is not allowed to
  serve it. A route that would exceed a budget is therefore never proposed — and
  :mod:`.explain` checks it again along the route actually chosen.
- **Thermal cost**: every minute a loaded shipment spends beyond its packaging's hold time is
  charged ``thermal_weight_m_per_min`` (in metres of driving) — a soft upper bound on the
  stop's time at the minute its exposure begins, weighted by its shipments. Summed over the
  stops this is the exposure of every loaded shipment on every arc. A vehicle class that
  exposes differently (another packaging, another departure, a reefer that exposes nothing)
  has its own clock carrying these costs (driving and service; see
  :func:`_thermal_dimensions` for why waiting is left out of the cost there).
- **Stops that cannot be served** are checked one by one before solving (capacity, window,
  budget against the earliest possible arrival) and left out of the model with their reason;
  the others are optional with a large penalty (a disjunction), so a stop the solver still
  leaves out is reported, never silently dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from pharmaqms.lifecycle.distribution.routing import exposure
from pharmaqms.lifecycle.distribution.routing.problem import HORIZON_MIN, Problem, Vehicle

DROP_PENALTY = 10**11  # above any route's cost: a stop is left out only when it can't be served
BIG = 4 * HORIZON_MIN
# Guided local search runs for the whole time limit; below this many stops the first local
# optimum is kept (small rounds answer at once, and a request can't hold a worker for long).
GUIDED_FROM = 15
# Cheapest insertion builds routes with the optional stops in; the cheapest arc, on the
# thermal model of 200 stops, began by leaving every stop out.
FIRST = "PARALLEL_CHEAPEST_INSERTION"


# RoutingModel.status() (routing_enums.proto RoutingSearchStatus)
STATUS = {
    0: "not solved",
    1: "success",
    2: "time limit reached (best plan found so far)",
    3: "no solution found",
    4: "no solution within the time limit",
    5: "invalid model",
    6: "infeasible",
    7: "optimal",
}


def clock(minute: int) -> str:
    day, rest = divmod(minute, 24 * 60)
    text = f"{rest // 60:02d}:{rest % 60:02d}"
    return text if day == 0 else f"{text} (+{day}d)"


@dataclass(frozen=True, slots=True)
class Visit:
    stop: int  # index into problem.stops
    arrival_min: int  # start of service (after any wait)
    leave_min: int


@dataclass(frozen=True, slots=True)
class Route:
    vehicle: int
    visits: tuple[Visit, ...]
    end_min: int
    distance_m: int


@dataclass(frozen=True, slots=True)
class Dropped:
    stop: int
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Solution:
    thermal: bool
    routes: tuple[Route, ...]
    dropped: tuple[Dropped, ...]
    objective: int
    seconds: float
    status: str


@dataclass
class Model:
    """What the model and the explanation share: matrices and the per-class bounds."""

    problem: Problem
    distance: list[list[int]]
    travel: list[list[int]]
    # Per vehicle class (packaging, departure): latest service start and first exposed minute.
    class_of: list[tuple[str, int]] = field(default_factory=list)
    latest: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    exposed_from: dict[tuple[str, int], list[int]] = field(default_factory=dict)


def _class(vehicle: Vehicle) -> tuple[str, int]:
    return (vehicle.packaging.name, vehicle.departure_min)


def prepare(problem: Problem) -> Model:
    distance = problem.distance_m()
    model = Model(problem, distance, problem.travel_min(distance))
    model.class_of = [_class(v) for v in problem.vehicles]
    for vehicle in problem.vehicles:
        key = _class(vehicle)
        if key in model.latest:
            continue
        latest, first = [], []
        for stop in problem.stops:
            bounds = [
                exposure.bound(
                    problem.ambient, problem.regions, vehicle.packaging, s, vehicle.departure_min
                )
                for s in stop.shipments
            ]
            ends = [b.latest_within(s) for b, s in zip(bounds, stop.shipments, strict=True)]
            latest.append(min(ends, default=HORIZON_MIN) - stop.service_min)
            first.append(min((b.first_exposed() for b in bounds), default=HORIZON_MIN))
        model.latest[key] = latest
        model.exposed_from[key] = first
    return model


def _reason(model: Model, v: int, index: int, *, thermal: bool) -> str | None:
    """Why vehicle v cannot serve the stop even alone (None: it can)."""
    problem = model.problem
    stop, vehicle, node = problem.stops[index], problem.vehicles[v], index + 1
    reach = vehicle.departure_min + model.travel[0][node]
    earliest = max(stop.window_start_min, reach)
    latest = model.latest[model.class_of[v]][index]
    if stop.demand > vehicle.capacity:
        return f"demand {stop.demand} exceeds its capacity {vehicle.capacity}"
    if reach > stop.window_end_min:
        return (
            f"its earliest arrival {clock(reach)} is after the window closes at "
            f"{clock(stop.window_end_min)}"
        )
    if earliest + stop.service_min + model.travel[node][0] > vehicle.return_by_min:
        return f"it could not be back by {clock(vehicle.return_by_min)}"
    if thermal and earliest > latest:
        tight = min(stop.shipments, key=lambda s: s.budget_min)
        return (
            f"the remaining stability budget ({tight.budget_min:g} min outside range for "
            f"{tight.code}) runs out by {clock(max(latest + stop.service_min, 0))} at the worst "
            f"ambient in {vehicle.packaging.name}, before the earliest delivery "
            f"{clock(earliest + stop.service_min)}"
        )
    return None


def why_not(model: Model, index: int, *, thermal: bool) -> tuple[str, ...]:
    """Why no vehicle can serve the stop on its own ((): some vehicle can)."""
    reasons = []
    for v, vehicle in enumerate(model.problem.vehicles):
        reason = _reason(model, v, index, thermal=thermal)
        if reason is None:
            return ()
        reasons.append(f"{vehicle.code}: {reason}")
    return tuple(reasons)


def _callback(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    fn: Callable[[int, int], int],
) -> int:
    def transit(i: int, j: int) -> int:
        return fn(manager.IndexToNode(i), manager.IndexToNode(j))

    return int(routing.RegisterTransitCallback(transit))


def solve(
    problem: Problem,
    *,
    thermal: bool = True,
    time_limit_s: float | None = None,
    guided: bool = True,
    model: Model | None = None,
) -> Solution:
    """Plan the routes. ``thermal=False`` is the shortest-distance plan (no thermal cost, no
    budget bound) the explanation compares with. ``guided`` runs guided local search for the
    whole time limit (from :data:`GUIDED_FROM` stops); without it the search stops at the first
    local optimum (deterministic)."""
    started = time.perf_counter()
    model = model or prepare(problem)
    stops, vehicles = problem.stops, problem.vehicles
    unservable = {i: r for i in range(len(stops)) if (r := why_not(model, i, thermal=thermal))}
    manager = pywrapcp.RoutingIndexManager(len(stops) + 1, len(vehicles), 0)
    routing = pywrapcp.RoutingModel(manager)
    distance, travel = model.distance, model.travel
    routing.SetArcCostEvaluatorOfAllVehicles(
        _callback(routing, manager, lambda a, b: distance[a][b])
    )
    service = [0, *(s.service_min for s in stops)]
    time_cb = _callback(routing, manager, lambda a, b: service[a] + travel[a][b])
    routing.AddDimension(time_cb, HORIZON_MIN, HORIZON_MIN, False, "time")
    times = routing.GetDimensionOrDie("time")
    demand = [0, *(s.demand for s in stops)]
    demand_cb = routing.RegisterUnaryTransitCallback(lambda i: demand[manager.IndexToNode(i)])
    routing.AddDimensionWithVehicleCapacity(
        demand_cb, 0, [v.capacity for v in vehicles], True, "load"
    )
    for v, vehicle in enumerate(vehicles):
        times.CumulVar(routing.Start(v)).SetRange(vehicle.departure_min, vehicle.departure_min)
        times.CumulVar(routing.End(v)).SetMax(vehicle.return_by_min)
    solver = routing.solver()
    classes = sorted(set(model.class_of))
    members = {c: [v for v in range(len(vehicles)) if model.class_of[v] == c] for c in classes}
    thermal_dims: dict[tuple[str, int], pywrapcp.RoutingDimension] = {}
    if thermal:
        thermal_dims = _thermal_dimensions(routing, manager, model, members, time_cb)
    for i, stop in enumerate(stops):
        index = manager.NodeToIndex(i + 1)
        if i in unservable:
            routing.AddDisjunction([index], 0)
            solver.Add(routing.ActiveVar(index) == 0)
            continue
        routing.AddDisjunction([index], DROP_PENALTY)
        allowed = [v for v in range(len(vehicles)) if _reason(model, v, i, thermal=thermal) is None]
        # -1: the stop may still be left out (its disjunction).
        routing.VehicleVar(index).SetValues([-1, *allowed])
        upper = stop.window_end_min
        if thermal:
            bounds = {model.class_of[v]: model.latest[model.class_of[v]][i] for v in allowed}
            upper = min(upper, max(bounds.values()))
            for c, latest in bounds.items():
                if latest < upper:
                    # Only a vehicle of class c must be there by its own, earlier bound.
                    is_c = solver.IsMemberVar(routing.VehicleVar(index), members[c])
                    solver.Add(times.CumulVar(index) <= latest + BIG * (1 - is_c))
        times.CumulVar(index).SetRange(stop.window_start_min, upper)
        for c, dim in thermal_dims.items():
            first = model.exposed_from[c][i]
            if first < HORIZON_MIN and any(model.class_of[v] == c for v in allowed):
                weight = problem.thermal_weight_m_per_min * len(stop.shipments)
                dim.SetCumulVarSoftUpperBound(index, first, weight)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, FIRST)
    if guided and len(stops) >= GUIDED_FROM:
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
    params.time_limit.FromMilliseconds(int(1000 * (time_limit_s or problem.time_limit_s)))
    assignment = routing.SolveWithParameters(params)
    seconds = time.perf_counter() - started
    status = STATUS.get(routing.status(), str(routing.status()))
    if assignment is None:
        dropped = tuple(
            Dropped(i, unservable.get(i, ("the solver found no plan within the time limit",)))
            for i in range(len(stops))
        )
        return Solution(thermal, (), dropped, 0, seconds, status)
    routes: list[Route] = []
    served: set[int] = set()
    for v in range(len(vehicles)):
        sequence = []
        index = routing.Start(v)
        while not routing.IsEnd(index := assignment.Value(routing.NextVar(index))):
            sequence.append(manager.IndexToNode(index) - 1)
        if sequence:
            route = schedule(model, v, sequence)
            if thermal:
                _check_bounds(model, route)
            routes.append(route)
            served.update(sequence)
    dropped = tuple(
        Dropped(
            i,
            unservable.get(i)
            or (
                "left out by the solver: on its own a vehicle could serve it, but not together "
                "with the other stops (capacity, windows, return times or budgets)",
            ),
        )
        for i in range(len(stops))
        if i not in served
    )
    return Solution(thermal, tuple(routes), dropped, assignment.ObjectiveValue(), seconds, status)


def _thermal_dimensions(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    model: Model,
    members: dict[tuple[str, int], list[int]],
    time_cb: int,
) -> dict[tuple[str, int], pywrapcp.RoutingDimension]:
    """One time-like dimension per vehicle class whose packaging can expose its load: the
    class's vehicles move its clock, the others leave it at 0 (their stops cost nothing here).
    With a single class the time dimension itself carries the costs (waiting included)."""
    vehicles = model.problem.vehicles
    exposing = [c for c, vs in members.items() if not vehicles[vs[0]].packaging.active]
    times = routing.GetDimensionOrDie("time")
    if len(members) == 1:
        return {c: times for c in exposing}
    zero = routing.RegisterTransitCallback(lambda i, j: 0)
    dims = {}
    for n, c in enumerate(exposing):
        name = f"thermal{n}"
        transits = [time_cb if model.class_of[v] == c else zero for v in range(len(vehicles))]
        # No slack: this clock runs with driving and service but not with waiting for a
        # window. Tying it to the time dimension on the class's vehicles (a constraint on each
        # stop's vehicle) made the search ten times slower (bench/bench_routing.py), so the
        # cost leaves out exposure while waiting; the budget bound on the time dimension
        # still counts it.
        routing.AddDimensionWithVehicleTransits(transits, 0, HORIZON_MIN, False, name)
        dim = routing.GetDimensionOrDie(name)
        for v in members[c]:
            start = dim.CumulVar(routing.Start(v))
            start.SetRange(vehicles[v].departure_min, vehicles[v].departure_min)
        dims[c] = dim
    return dims


def _check_bounds(model: Model, route: Route) -> None:
    """The last guard: a route whose schedule passes a budget bound is never returned."""
    latest = model.latest[model.class_of[route.vehicle]]
    for visit in route.visits:
        if visit.arrival_min > latest[visit.stop]:
            raise RuntimeError(
                f"the solver returned a route past the budget bound of stop {visit.stop}"
            )


def schedule(model: Model, v: int, sequence: list[int]) -> Route:
    """The earliest schedule of a stop sequence (waiting only for a window to open). Exposure
    grows with time, so the earliest schedule is also the least exposed."""
    problem = model.problem
    vehicle = problem.vehicles[v]
    now, node, metres = vehicle.departure_min, 0, 0
    visits = []
    for i in sequence:
        stop = problem.stops[i]
        arrival = max(stop.window_start_min, now + model.travel[node][i + 1])
        metres += model.distance[node][i + 1]
        now = arrival + stop.service_min
        visits.append(Visit(i, arrival, now))
        node = i + 1
    metres += model.distance[node][0]
    return Route(v, tuple(visits), now + model.travel[node][0], metres)
