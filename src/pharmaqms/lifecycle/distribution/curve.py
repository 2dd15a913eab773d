"""The temperature curve of a storage zone or a shipment as SVG, drawn on the server: the
readings of each sensor on a time axis, the labelled condition as a band, the pre-alarm and
alarm boundaries as lines, gaps as hatched areas with the line broken (missing data, never
drawn as if in range), and alarms as marks at the reading that raised them.

Plain SVG elements with classes and ``data-`` attributes (no inline style: the page's CSS in
/static/distribution.css styles it; a test reads it). The production module's control charts
are drawn on a point-index axis, so this one is its own, on a time axis."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape

WIDTH, HEIGHT = 960, 360
LEFT, RIGHT, TOP, BOTTOM = 56, 110, 28, 40


@dataclass(frozen=True)
class Trace:
    sensor: str
    points: Sequence[tuple[datetime, float]]


@dataclass(frozen=True)
class Mark:
    at: datetime
    number: str
    kind: str


@dataclass(frozen=True)
class Curve:
    title: str
    start: datetime
    end: datetime
    traces: Sequence[Trace]
    low_c: float | None = None
    high_c: float | None = None
    pre: tuple[float | None, float | None] = (None, None)
    alarm: tuple[float | None, float | None] = (None, None)
    gaps: Sequence[tuple[datetime, datetime]] = ()
    marks: Sequence[Mark] = field(default_factory=tuple)


def gaps_of(
    points: Sequence[tuple[datetime, float]], allowed: timedelta
) -> list[tuple[datetime, datetime]]:
    """Stretches longer than ``allowed`` without a reading."""
    return [(a, b) for (a, _va), (b, _vb) in itertools.pairwise(points) if b - a > allowed]


def _f(value: float) -> str:
    return f"{value:.1f}"


def curve_svg(curve: Curve) -> str:
    values = [v for trace in curve.traces for _t, v in trace.points]
    levels = [v for v in (curve.low_c, curve.high_c, *curve.pre, *curve.alarm) if v is not None]
    low = min(values + levels, default=0.0)
    high = max(values + levels, default=10.0)
    if high <= low:
        low, high = low - 1.0, high + 1.0
    pad = (high - low) * 0.08
    low, high = low - pad, high + pad
    x1, x2 = float(LEFT), float(WIDTH - RIGHT)
    y1, y2 = float(TOP), float(HEIGHT - BOTTOM)
    span = max((curve.end - curve.start).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        return x1 + (moment - curve.start).total_seconds() / span * (x2 - x1)

    def y(value: float) -> float:
        return y1 + (high - value) / (high - low) * (y2 - y1)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="temperature-curve" role="img" aria-label="{escape(curve.title)}">',
        f"<title>{escape(curve.title)}</title>",
        f'<rect x="{_f(x1)}" y="{_f(y1)}" width="{_f(x2 - x1)}" height="{_f(y2 - y1)}" '
        'class="frame"/>',
    ]
    if curve.low_c is not None or curve.high_c is not None:
        top = y(curve.high_c) if curve.high_c is not None else y1
        bottom = y(curve.low_c) if curve.low_c is not None else y2
        out.append(
            f'<rect x="{_f(x1)}" y="{_f(top)}" width="{_f(x2 - x1)}" '
            f'height="{_f(max(bottom - top, 0))}" class="in-range"/>'
        )
    for css, pair in (
        ("pre-alarm", curve.pre),
        ("alarm", curve.alarm),
        ("label", (curve.low_c, curve.high_c)),
    ):
        for value in pair:
            if value is None:
                continue
            out.append(
                f'<line x1="{_f(x1)}" x2="{_f(x2)}" y1="{_f(y(value))}" y2="{_f(y(value))}" '
                f'class="limit {css}" data-limit="{value:g}"/>'
                f'<text x="{_f(x2 + 4)}" y="{_f(y(value) + 4)}" class="limit-label {css}">'
                f"{escape(css)} {value:g} °C</text>"
            )
    for start, end in curve.gaps:
        out.append(
            f'<rect x="{_f(x(start))}" y="{_f(y1)}" width="{_f(max(x(end) - x(start), 1))}" '
            f'height="{_f(y2 - y1)}" class="gap" data-start="{start.isoformat()}" '
            f'data-end="{end.isoformat()}"><title>no readings: missing data</title></rect>'
        )
    gap_starts = {start for start, _end in curve.gaps}
    for n, trace in enumerate(curve.traces):
        segment: list[str] = []
        segments: list[list[str]] = []
        for moment, value in trace.points:
            segment.append(f"{_f(x(moment))},{_f(y(value))}")
            if moment in gap_starts:
                segments.append(segment)
                segment = []
        segments.append(segment)
        for points in segments:
            if points:
                out.append(
                    f'<polyline points="{" ".join(points)}" class="reading-line trace-{n % 4}" '
                    f'data-sensor="{escape(trace.sensor)}"/>'
                )
    for mark in curve.marks:
        mx = x(mark.at)
        out.append(
            f'<line x1="{_f(mx)}" x2="{_f(mx)}" y1="{_f(y1)}" y2="{_f(y2)}" '
            f'class="alarm-mark {escape(mark.kind)}" data-alarm="{escape(mark.number)}"/>'
            f'<text x="{_f(mx + 3)}" y="{_f(y1 + 12)}" class="alarm-label">'
            f"{escape(mark.number)}</text>"
        )
    if not values:
        out.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" class="empty-chart">No readings</text>')
    out.append(
        f'<text x="{_f(x1)}" y="{HEIGHT - 14}" class="axis-label">'
        f"{curve.start:%Y-%m-%d %H:%M} UTC</text>"
        f'<text x="{_f(x2)}" y="{HEIGHT - 14}" class="axis-label end">'
        f"{curve.end:%Y-%m-%d %H:%M} UTC</text>"
        f'<text x="{_f(x1 - 6)}" y="{_f(y1 + 4)}" class="axis-label end">{high:.1f}</text>'
        f'<text x="{_f(x1 - 6)}" y="{_f(y2)}" class="axis-label end">{low:.1f}</text>'
    )
    out.append("</svg>")
    return "".join(out)
