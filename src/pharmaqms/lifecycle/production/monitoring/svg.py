"""Control charts as SVG, drawn on the server (no script, no build step): one or more panels on a
shared x axis of points in the order they were made — a location chart with its centre line,
control limits and 1σ/2σ zones, and below it the dispersion chart. Each panel has its values on
the y axis; the x axis names the points' times in the reader's zone (``spc.axes`` says why the
axis is one step per point, not a time scale). Points that break a rule are red and labelled
with the rule numbers; batch changes are marked on the axis.

The drawing is plain SVG elements with classes and ``data-`` attributes, so the page's CSS can
style it and a test can read it (``data-index``, ``data-rules``, ``data-time``); the page's
script zooms it through its ``viewBox``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from pharmaqms.lifecycle.production.spc.axes import (
    moment_text,
    nice_step,
    nice_ticks,
    point_ticks,
    tick_text,
    time_labels,
)

WIDTH = 960
LEFT, RIGHT, TOP, GAP = 64, 96, 28, 26
# Room under the panels for the batch labels, the time labels and the zone's name.
FOOT = 58
TIME_LABELS = 6
# Inside the document, so the chart looks the same inline in a page and opened on its own.
STYLE = (
    "<style>"
    ".frame{fill:#fff;stroke:#999;stroke-width:.8}"
    ".zone-a{fill:#e3e3e3}.zone-b{fill:#f3f3f3}"
    ".sigma-1,.sigma-2{stroke:#bbb;stroke-width:.6;stroke-dasharray:2 3}"
    ".center{stroke:#222;stroke-width:1}"
    ".limit{stroke:#c0392b;stroke-width:1.1;stroke-dasharray:6 4}"
    ".series{fill:none;stroke:#2c6fb7;stroke-width:1}"
    ".point{fill:#2c6fb7}.point.violation{fill:#c0392b;stroke:#fff;stroke-width:1}"
    ".rule-label{fill:#c0392b;font:bold 11px sans-serif;text-anchor:middle}"
    ".level-label,.axis-label,.batch-label{fill:#555;font:11px sans-serif}"
    ".axis-label.end,.y-label{text-anchor:end}.x-label{text-anchor:middle}"
    ".y-label,.x-label{fill:#555;font:10px sans-serif}"
    ".tick{stroke:#999;stroke-width:.8}"
    ".panel-label{fill:#222;font:bold 12px sans-serif}"
    ".batch-start{stroke:#9ab;stroke-width:.6}"
    ".empty-chart{fill:#777;font:14px sans-serif;text-anchor:middle}"
    "</style>"
)


@dataclass(frozen=True)
class Panel:
    label: str  # "I", "X̄", "MR", "R", "S", "T²"
    points: Sequence[tuple[int, float]]  # (index, value)
    center: float | None = None
    lower: float | None = None
    upper: float | None = None
    sigma: float | None = None  # draws the 1σ and 2σ zones around the centre
    flags: Mapping[int, str] = field(default_factory=dict)  # index → "2,3"
    height: int = 300


def _fmt(value: float) -> str:
    return f"{value:.4g}"


class _Scale:
    def __init__(self, low: float, high: float, top: float, height: float) -> None:
        if high <= low:
            low, high = low - 1.0, high + 1.0
        pad = (high - low) * 0.06
        self.low, self.high, self.top, self.height = low - pad, high + pad, top, height

    def __call__(self, value: float) -> float:
        return self.top + (self.high - value) / (self.high - self.low) * self.height


def _levels(panel: Panel) -> list[float]:
    levels = [v for v in (panel.center, panel.lower, panel.upper) if v is not None]
    if panel.sigma is not None and panel.center is not None:
        levels += [panel.center + k * panel.sigma for k in (-3, 3)]
    return levels


def _rect(x: float, y: float, width: float, height: float, css: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" class="{css}"/>'
    )


def _text(x: float, y: float, css: str, text: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{css}">{escape(text)}</text>'


def _line(x1: float, x2: float, y: float, css: str, label: str | None = None) -> str:
    text = (
        f'<text x="{x2 + 4:.1f}" y="{y + 4:.1f}" class="level-label {css}">{escape(label)}</text>'
        if label
        else ""
    )
    return f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}" class="{css}"/>{text}'


def _y_axis(scale: _Scale, x1: float, target: int) -> list[str]:
    """Round values on the left edge of a panel, with a tick mark each."""
    ticks = nice_ticks(scale.low, scale.high, target)
    step = nice_step(scale.high - scale.low, target)
    out = []
    for value in ticks:
        y = scale(value)
        out.append(
            f'<line x1="{x1 - 4:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}" class="tick"/>'
            f'<text x="{x1 - 6:.1f}" y="{y + 3.5:.1f}" class="y-label">'
            f"{escape(tick_text(value, step))}</text>"
        )
    return out


def _point_title(index: int, value: float, times: Mapping[int, str]) -> str:
    """What hovering a point says: its time (the reader's zone) and value."""
    when = times.get(index)
    return f"{when}: {_fmt(value)}" if when else f"point {index}: {_fmt(value)}"


def _panel(
    panel: Panel,
    top: float,
    x_of: dict[int, float],
    x1: float,
    x2: float,
    times: Mapping[int, str],
) -> list[str]:
    values = [v for _, v in panel.points]
    levels = _levels(panel)
    scale = _Scale(
        min(values + levels, default=0.0), max(values + levels, default=1.0), top, panel.height
    )
    out = [
        f'<g class="panel" data-panel="{escape(panel.label)}">',
        _rect(x1, top, x2 - x1, panel.height, "frame"),
    ]
    if panel.sigma is not None and panel.center is not None:
        c, s = panel.center, panel.sigma
        for k, css in ((2, "zone-a"), (1, "zone-b")):
            for sign in (1, -1):
                near, far = scale(c + sign * k * s), scale(c + sign * (k + 1) * s)
                y, h = min(near, far), abs(far - near)
                out.append(_rect(x1, y, x2 - x1, h, css))
        for k in (1, 2):
            for sign in (1, -1):
                out.append(_line(x1, x2, scale(c + sign * k * s), f"sigma-{k}"))
    if panel.center is not None:
        out.append(_line(x1, x2, scale(panel.center), "center", f"CL {_fmt(panel.center)}"))
    if panel.upper is not None:
        out.append(_line(x1, x2, scale(panel.upper), "limit ucl", f"UCL {_fmt(panel.upper)}"))
    if panel.lower is not None:
        out.append(_line(x1, x2, scale(panel.lower), "limit lcl", f"LCL {_fmt(panel.lower)}"))
    out.append(_text(x1, top - 6, "panel-label", panel.label))
    out.extend(_y_axis(scale, x1, 5 if panel.height >= 200 else 3))
    if panel.points:
        path = " ".join(f"{x_of[i]:.1f},{scale(v):.1f}" for i, v in panel.points)
        out.append(f'<polyline points="{path}" class="series"/>')
    for index, value in panel.points:
        x, y = x_of[index], scale(value)
        flag = panel.flags.get(index)
        title = escape(_point_title(index, value, times))
        when = f' data-time="{escape(times[index])}"' if index in times else ""
        if flag:
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" class="point violation" '
                f'data-index="{index}" data-rules="{escape(flag)}"{when}><title>{title}'
                f" — rule {escape(flag)}</title></circle>"
                f'<text x="{x:.1f}" y="{y - 9:.1f}" class="rule-label">{escape(flag)}</text>'
            )
        else:
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" class="point" data-index="{index}"'
                f"{when}><title>{title}</title></circle>"
            )
    out.append("</g>")
    return out


def embedded(document: str) -> str:
    """The chart to draw inside a page: the document without its ``<style>``, whose rules the
    page has from /static/monitoring.css (scoped to the chart box), since a page's security
    policy allows no inline style."""
    return document.replace(STYLE, "", 1)


def _x_axis(
    indices: Sequence[int],
    x_of: Mapping[int, float],
    bottom: float,
    baseline: float,
    times: Mapping[int, datetime],
    zone: ZoneInfo,
) -> list[str]:
    """Tick marks under the panels on evenly spread points, each labelled with its point's
    time in ``zone`` (the point number where a point has no time)."""
    if not indices:
        return []
    chosen = [indices[n] for n in point_ticks(len(indices), TIME_LABELS)]
    timed = [i for i in chosen if i in times]
    labels = dict(zip(timed, time_labels([times[i] for i in timed], zone), strict=True))
    out = []
    for index in chosen:
        x = x_of[index]
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom:.1f}" y2="{bottom + 4:.1f}" '
            f'class="tick"/><text x="{x:.1f}" y="{baseline:.1f}" class="x-label" '
            f'data-point="{index}">{escape(labels.get(index, f"point {index}"))}</text>'
        )
    caption = f"time ({zone.key})" if times else "point"
    out.append(_text(WIDTH - RIGHT, baseline + 16, "axis-label end", caption))
    return out


def chart_svg(
    panels: Sequence[Panel],
    *,
    title: str,
    batches: Sequence[tuple[int, str]] = (),
    times: Mapping[int, datetime] | None = None,
    zone: ZoneInfo | None = None,
) -> str:
    """The SVG document. ``batches``: (index of a batch's first point, lot number); ``times``:
    each point's time (UTC), labelled on the x axis and in the points' titles in ``zone``."""
    indices = sorted({i for panel in panels for i, _ in panel.points})
    x1, x2 = float(LEFT), float(WIDTH - RIGHT)
    if len(indices) > 1:
        step = (x2 - x1) / (len(indices) - 1)
        x_of = {index: x1 + n * step for n, index in enumerate(indices)}
    else:
        x_of = {index: (x1 + x2) / 2 for index in indices}
    height = TOP + sum(p.height for p in panels) + GAP * (len(panels) - 1) + FOOT
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'class="control-chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        STYLE,
    ]
    if not indices:
        out.append(
            f'<text x="{WIDTH / 2}" y="{height / 2}" class="empty-chart">No points yet</text>'
        )
    zone = zone or ZoneInfo("UTC")
    hover = {i: moment_text(t, zone) for i, t in (times or {}).items()}
    top = float(TOP)
    for panel in panels:
        out.extend(_panel(panel, top, x_of, x1, x2, hover))
        top += panel.height + GAP
    axis = top - GAP + 14
    for index, label in batches:
        if index in x_of:
            x = x_of[index]
            out.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{top - GAP:.1f}" '
                f'class="batch-start"/>{_text(x + 3, axis, "batch-label", label)}'
            )
    out.extend(_x_axis(indices, x_of, top - GAP, axis + 16, times or {}, zone))
    out.append("</svg>")
    return "".join(out)
