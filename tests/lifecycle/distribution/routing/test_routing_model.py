"""The routing model without the web: a line of stops with a known optimum, a budget the
shortest-distance plan would break and the thermal-aware plan keeps, stops that cannot be
served reported with their reasons, and the predicted exposure never above the bound.

Searches stop at their first local optimum (no guided local search): deterministic and fast."""

from __future__ import annotations

from dataclasses import replace

from pharmaqms.lifecycle.distribution.routing import demo, explain, exposure, solver
from pharmaqms.lifecycle.distribution.routing.problem import (
    AmbientTable,
    Packaging,
    Place,
    Problem,
    Shipment,
    Stop,
    Vehicle,
)

HOT = AmbientTable("hot", {"plain": (30.0,) * 24})
TOTE = Packaging("tote", hold_h=((0.0, 8.0), (30.0, 0.5), (40.0, 0.25)))
DEPARTURE = 8 * 60


def stop(code: str, lat: float, lon: float, **kw: object) -> Stop:
    budget = kw.pop("budget_min", 10_000.0)
    fields: dict[str, object] = {
        "window_start_min": 0,
        "window_end_min": 24 * 60,
        "service_min": 5,
        "demand": 1,
        "shipments": (Shipment(f"SH-{code}", "vaccine", 2.0, 8.0, float(budget)),),  # type: ignore[arg-type]
    }
    fields.update(kw)
    return Stop(Place(code, code, lat, lon, "plain"), **fields)  # type: ignore[arg-type]


def problem(stops: tuple[Stop, ...], vehicles: tuple[Vehicle, ...]) -> Problem:
    return Problem(
        depot=Place("D", "depot", 0.0, 0.0, "plain"),
        vehicles=vehicles,
        stops=stops,
        ambient=HOT,
        speed_kmh=60.0,
        time_limit_s=2.0,
    )


def van(code: str = "V1", capacity: int = 100) -> Vehicle:
    return Vehicle(code, capacity, DEPARTURE, TOTE)


def codes(p: Problem, route: solver.Route) -> list[str]:
    return [p.stops[v.stop].place.code for v in route.visits]


def test_four_stops_on_a_line_are_split_between_two_vans_as_the_optimum_says() -> None:
    # Four stops east of the depot at 0.1° steps, two vans of capacity 2: the optimum sends
    # one van to the two near stops and the other to the two far ones (1.2 line units against
    # 1.4 for any other split), each out and straight back.
    line = tuple(stop(f"S{n}", 0.0, 0.1 * n) for n in range(1, 5))
    p = problem(line, (van("V1", 2), van("V2", 2)))
    solution = solver.solve(p, thermal=False, guided=False)
    assert not solution.dropped
    d = p.distance_m()
    optimum = d[0][1] + d[1][2] + d[2][0] + d[0][3] + d[3][4] + d[4][0]
    assert sum(r.distance_m for r in solution.routes) == optimum
    assert sorted(sorted(codes(p, r)) for r in solution.routes) == [["S1", "S2"], ["S3", "S4"]]
    for route in solution.routes:
        # along the line, one way out: the sequence is monotone
        seq = codes(p, route)
        assert seq in (sorted(seq), sorted(seq, reverse=True))


def test_the_thermal_plan_keeps_a_budget_that_the_shortest_plan_breaks() -> None:
    stops = (
        stop("A", 0.0, 0.1),
        stop("B", 0.0, 0.2),
        stop("C", 0.15, 0.0),
        stop("E", 0.1, 0.15),
    )
    base = problem(stops, (van(),))
    shortest = solver.solve(base, thermal=False, guided=False)
    last = codes(base, shortest.routes[0])[-1]
    # The shipment delivered last by the shortest plan has no budget left at all.
    tight = tuple(
        replace(s, shipments=(replace(s.shipments[0], budget_min=0.0),))
        if s.place.code == last
        else s
        for s in stops
    )
    p = problem(tight, (van(),))
    result = explain.plan(p, guided=False)
    broken = result["shortest"]["totals"]["over_budget"]
    assert broken == [f"SH-{last}"]  # the shortest plan (same route) would break it
    chosen = result["plan"]
    assert not chosen["dropped"]
    sequence = [s["stop"] for s in chosen["routes"][0]["stops"]]
    assert sequence != [s["stop"] for s in result["shortest"]["routes"][0]["stops"]]
    for row in chosen["routes"][0]["shipments"]:
        assert row["exposure_min"] <= row["budget_min"] and row["within_budget"]
    assert result["comparison"]["changed"]
    assert f"SH-{last}" in result["comparison"]["why"]


def test_stops_that_cannot_be_served_are_reported_with_their_reason() -> None:
    stops = (
        stop("NEAR", 0.0, 0.1),
        # 2° away: about 3 h 42 min of driving, the tote holds 30 min at 30 °C, 10 min budget
        stop("FAR", 0.0, 2.0, budget_min=10.0),
        stop("EARLY", 0.0, 0.3, window_start_min=0, window_end_min=DEPARTURE + 5),
        stop("HEAVY", 0.0, -0.1, demand=500),
    )
    p = problem(stops, (van(),))
    solution = solver.solve(p, thermal=True, guided=False)
    served = {code for r in solution.routes for code in codes(p, r)}
    assert served == {"NEAR"}
    reasons = {p.stops[d.stop].place.code: " ".join(d.reasons) for d in solution.dropped}
    assert set(reasons) == {"FAR", "EARLY", "HEAVY"}
    assert "stability budget" in reasons["FAR"] and "SH-FAR" in reasons["FAR"]
    assert "window closes" in reasons["EARLY"]
    assert "capacity" in reasons["HEAVY"]
    # Without the budget the far stop is reachable: it is the budget that keeps it out.
    assert "FAR" in {
        code for r in solver.solve(p, thermal=False, guided=False).routes for code in codes(p, r)
    }


def test_the_exposure_along_a_route_is_never_above_the_bound_the_solver_used() -> None:
    p = demo.scenario("summer")
    model = solver.prepare(p)
    solution = solver.solve(p, thermal=True, guided=False, model=model)
    assert solution.routes
    for route in solution.routes:
        vehicle = p.vehicles[route.vehicle]
        where = explain.regions_along(p, model, route)
        for visit in route.visits:
            for shipment in p.stops[visit.stop].shipments:
                worst = exposure.bound(
                    p.ambient, p.regions, vehicle.packaging, shipment, vehicle.departure_min
                )
                actual = exposure.along(
                    p.ambient, where, vehicle.packaging, shipment, vehicle.departure_min
                )
                assert (actual.minutes <= worst.minutes).all()
                assert actual.at(visit.leave_min)[0] <= shipment.budget_min


def test_a_reefer_exposes_nothing_and_a_tote_is_exposed_once_its_hold_is_used() -> None:
    shipment = Shipment("S", "p", 2.0, 8.0, 0.0)
    reefer = exposure.bound(HOT, ("plain",), Packaging("r", active=True), shipment, DEPARTURE)
    assert reefer.latest_within(shipment) == exposure.HORIZON_MIN
    tote = exposure.bound(HOT, ("plain",), TOTE, shipment, DEPARTURE)
    # 30 min of hold at 30 °C: the 30th minute uses it up and is the first exposed one.
    assert tote.first_exposed() == DEPARTURE + 29
    assert tote.at(DEPARTURE + 40) == (11.0, 11.0 * 22.0)
    assert tote.latest_within(shipment) == DEPARTURE + 29


def test_every_demo_shipment_is_within_its_budget_summer_and_winter() -> None:
    for season in ("summer", "winter"):
        result = explain.plan(demo.scenario(season), guided=False)
        rows = [row for r in result["plan"]["routes"] for row in r["shipments"]]
        assert rows and all(row["within_budget"] for row in rows)
        assert result["plan"]["totals"]["over_budget"] == []


def test_a_stop_too_far_for_the_totes_budget_goes_on_the_reefer() -> None:
    stops = (
        stop("NEAR", 0.0, 0.1),
        stop("NEXT", 0.0, 0.15),
        stop("FAR", 0.0, 1.0, budget_min=10.0),  # about 1 h 51 min away
    )
    reefer = Vehicle("R1", 100, DEPARTURE, Packaging("reefer", active=True))
    p = problem(stops, (van(), reefer))
    solution = solver.solve(p, thermal=True, guided=False)
    assert not solution.dropped
    far = next(r for r in solution.routes if "FAR" in codes(p, r))
    assert p.vehicles[far.vehicle].code == "R1"
    result = explain.summarise(p, solver.prepare(p), solution)
    assert result["totals"]["over_budget"] == []
    # With the reefer gone, the stop can't be served and says why.
    alone = solver.solve(problem(stops, (van(),)), thermal=True, guided=False)
    assert [p.stops[d.stop].place.code for d in alone.dropped] == ["FAR"]


def test_a_given_travel_matrix_replaces_the_straight_line() -> None:
    line = tuple(stop(f"S{n}", 0.0, 0.1 * n) for n in range(1, 3))
    # A one-way bridge: from S1 back to the depot is quick, the depot to S1 takes 3 h around.
    minutes = ((0, 180, 20), (20, 0, 10), (20, 10, 0))
    metres = ((0, 150_000, 22_000), (22_000, 0, 11_000), (22_000, 11_000, 0))
    p = replace(problem(line, (van(),)), travel_matrix_min=minutes, distance_matrix_m=metres)
    solution = solver.solve(p, thermal=False, guided=False)
    assert codes(p, solution.routes[0]) == ["S2", "S1"]
    assert solution.routes[0].visits[0].arrival_min == DEPARTURE + 20
