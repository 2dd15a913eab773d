"""The plan as a map-like inline SVG: stops placed by longitude/latitude (an equirectangular
projection scaled by the cosine of the mean latitude, so distances look right at city scale),
each vehicle's route a coloured polyline from the depot and back, the depot a square, stops
left out or with a thin budget margin highlighted. Classes and ``data-`` attributes only; the
page's CSS colours it."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from pharmaqms.lifecycle.distribution.routing.problem import Problem

WIDTH, HEIGHT, PAD = 720, 480, 36
TIGHT_MARGIN_MIN = 15.0  # a delivered shipment with less margin than this is highlighted


def plan_map(problem: Problem, summary: dict[str, Any]) -> str:
    places = problem.places
    lat0 = math.radians(sum(p.lat for p in places) / len(places))
    xs = [p.lon * math.cos(lat0) for p in places]
    ys = [p.lat for p in places]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-6)
    scale = min(WIDTH - 2 * PAD, HEIGHT - 2 * PAD) / span

    def at(code: str) -> tuple[float, float]:
        i = next(n for n, p in enumerate(places) if p.code == code)
        return PAD + (xs[i] - min(xs)) * scale, HEIGHT - PAD - (ys[i] - min(ys)) * scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="route-map" viewBox="0 0 {WIDTH} '
        f'{HEIGHT}" role="img" aria-label="Planned routes">',
        f'<rect class="frame" x="0" y="0" width="{WIDTH}" height="{HEIGHT}"/>',
    ]
    tight: set[str] = set()
    for n, route in enumerate(summary["routes"]):
        codes = [problem.depot.code, *(s["stop"] for s in route["stops"]), problem.depot.code]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in map(at, codes))
        parts.append(
            f'<polyline class="route route-{n % 8}" data-vehicle="{escape(route["vehicle"])}" '
            f'points="{points}"><title>{escape(route["vehicle"])}: {route["km"]} km</title>'
            "</polyline>"
        )
        tight |= {s["stop"] for s in route["shipments"] if s["margin_min"] < TIGHT_MARGIN_MIN}
        legend_y = 16 + 15 * n  # the legend, top left
        parts.append(
            f'<line class="route route-{n % 8}" x1="8" y1="{legend_y}" x2="30" y2="{legend_y}"/>'
            f'<text class="stop-label" x="36" y="{legend_y + 4}">{escape(route["vehicle"])} '
            f"({escape(route['packaging'])}, {route['km']} km)</text>"
        )
    dropped = {d["stop"] for d in summary["dropped"]}
    for stop in problem.stops:
        code = stop.place.code
        x, y = at(code)
        kind = "dropped" if code in dropped else "tight" if code in tight else "served"
        parts.append(
            f'<circle class="stop {kind}" data-stop="{escape(code)}" cx="{x:.1f}" cy="{y:.1f}" '
            f'r="6"><title>{escape(code)} {escape(stop.place.name)} ({kind})</title></circle>'
            f'<text class="stop-label" x="{x + 8:.1f}" y="{y - 6:.1f}">{escape(code)}</text>'
        )
    x, y = at(problem.depot.code)
    parts.append(
        f'<rect class="depot" x="{x - 7:.1f}" y="{y - 7:.1f}" width="14" height="14">'
        f"<title>{escape(problem.depot.name or problem.depot.code)}</title></rect>"
        f'<text class="stop-label" x="{x + 10:.1f}" y="{y + 16:.1f}">'
        f"{escape(problem.depot.code)}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
