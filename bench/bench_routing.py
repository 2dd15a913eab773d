"""Temperature-aware routing: solve time with the thermal term and the budget bounds against the
same instance planned by distance only (the ceiling: the same OR-Tools VRPTW without the
thermal dimensions, soft bounds and budget constraints), and the ratio.

Random instances (fixed seed): N stops within about 40 km of a depot in three regions of the
seed summer day, windows of 3–8 h between 08:00 and 18:00, service 5–15 min, demand 1–6;
one van with cool totes for every 10 stops (capacity 30, leaving at 07:00) and a reefer for
every 25 (capacity 20); a 2–8 °C shipment a stop with 0–240 min of budget left. Both solves
stop at their first local optimum (no guided local search), capped at ``--limit`` seconds;
the first solution by parallel cheapest insertion (the solver's default).

    .venv/bin/python bench/bench_routing.py [--stops 50 200] [--limit 120]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time

from pharmaqms.lifecycle.distribution.routing import explain, solver
from pharmaqms.lifecycle.distribution.routing.ambient import PACKAGINGS, seasonal
from pharmaqms.lifecycle.distribution.routing.problem import (
    Place,
    Problem,
    Shipment,
    Stop,
    Vehicle,
)

REGIONS = ("city", "valley", "hills")


def instance(n: int, limit: float, seed: int = 10) -> Problem:
    rng = random.Random(seed)
    depot = Place("DEPOT", "depot", 45.735, 4.95, "city")
    stops = []
    for i in range(n):
        lat = depot.lat + rng.uniform(-0.35, 0.35)
        lon = depot.lon + rng.uniform(-0.45, 0.45)
        region = REGIONS[0] if abs(lat - depot.lat) < 0.1 else REGIONS[1 + (lon > depot.lon)]
        start = rng.randrange(8 * 60, 13 * 60, 30)
        stops.append(
            Stop(
                Place(f"S{i:03d}", f"stop {i}", lat, lon, region),
                start,
                min(18 * 60, start + rng.randrange(180, 480, 30)),
                rng.randrange(5, 16),
                rng.randrange(1, 7),
                (Shipment(f"SH{i:03d}", "2–8 °C", 2.0, 8.0, float(rng.randrange(0, 241, 15))),),
            )
        )
    vans = [
        Vehicle(f"VAN{k}", 30, 7 * 60, PACKAGINGS["cool tote"], 20 * 60)
        for k in range(max(1, n // 10))
    ]
    reefers = [
        Vehicle(f"REEFER{k}", 20, 7 * 60, PACKAGINGS["reefer"], 20 * 60)
        for k in range(max(1, n // 25))
    ]
    return Problem(
        depot=depot,
        vehicles=(*vans, *reefers),
        stops=tuple(stops),
        ambient=seasonal("summer"),
        speed_kmh=45.0,
        time_limit_s=limit,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stops", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--limit", type=float, default=120.0)
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}, Python {platform.python_version()}"
    )
    print(
        "stops  vehicles  prepare s  thermal s  distance-only s  ratio  km (th/dist)  "
        "served (th/dist)  over budget (th/dist)"
    )
    for n in args.stops:
        problem = instance(n, args.limit)
        started = time.perf_counter()
        model = solver.prepare(problem)
        prepared = time.perf_counter() - started
        thermal = solver.solve(problem, thermal=True, guided=False, model=model)
        ceiling = solver.solve(problem, thermal=False, guided=False, model=model)
        th = explain.summarise(problem, model, thermal)
        di = explain.summarise(problem, model, ceiling)
        served = [sum(len(r.visits) for r in s.routes) for s in (thermal, ceiling)]
        print(
            f"{n:5d}  {len(problem.vehicles):8d}  {prepared:9.2f}  {thermal.seconds:9.2f}  "
            f"{ceiling.seconds:15.2f}  {thermal.seconds / ceiling.seconds:5.1f}  "
            f"{th['totals']['km']:.0f}/{di['totals']['km']:.0f}  "
            f"{served[0]}/{served[1]}  "
            f"{len(th['totals']['over_budget'])}/{len(di['totals']['over_budget'])}  "
            f"[{thermal.status}/{ceiling.status}]"
        )


if __name__ == "__main__":
    main()
