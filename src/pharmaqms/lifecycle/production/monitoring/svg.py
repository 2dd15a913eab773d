"""Control charts as SVG, drawn on the server (no script, no build step): one or more panels on a
shared x axis of point indexes — a location chart with its centre line, control limits and
1σ/2σ zones, and below it the dispersion chart. Points that break a rule are red and labelled
with the rule numbers; batch changes are marked on the axis.

The drawing is plain SVG elements with classes and ``data-`` attributes, so the page's CSS can
style it and a test can read it (``data-index``, ``data-rules``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH = 960
LEFT, RIGHT, TOP, GAP = 64, 96, 28, 26
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
    ".axis-label.end{text-anchor:end}"
    ".panel-label{fill:#222;font:bold 12px sans-serif;text-anchor:end}"
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


def _panel(panel: Panel, top: float, x_of: dict[int, float], x1: float, x2: float) -> list[str]:
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
    out.append(_text(x1 - 8, top + 14, "panel-label", panel.label))
    if panel.points:
        path = " ".join(f"{x_of[i]:.1f},{scale(v):.1f}" for i, v in panel.points)
        out.append(f'<polyline points="{path}" class="series"/>')
    for index, value in panel.points:
        x, y = x_of[index], scale(value)
        flag = panel.flags.get(index)
        if flag:
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" class="point violation" '
                f'data-index="{index}" data-rules="{escape(flag)}"><title>point {index}: '
                f"{_fmt(value)} — rule {escape(flag)}</title></circle>"
                f'<text x="{x:.1f}" y="{y - 9:.1f}" class="rule-label">{escape(flag)}</text>'
            )
        else:
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" class="point" data-index="{index}">'
                f"<title>point {index}: {_fmt(value)}</title></circle>"
            )
    out.append("</g>")
    return out


def embedded(document: str) -> str:
    """The chart to draw inside a page: the document without its ``<style>``, whose rules the
    page has from /static/monitoring.css (scoped to the chart box), since a page's security
    policy allows no inline style."""
    return document.replace(STYLE, "", 1)


def chart_svg(
    panels: Sequence[Panel],
    *,
    title: str,
    batches: Sequence[tuple[int, str]] = (),
) -> str:
    """The SVG document. ``batches``: (index of a batch's first point, lot number)."""
    indices = sorted({i for panel in panels for i, _ in panel.points})
    x1, x2 = float(LEFT), float(WIDTH - RIGHT)
    if len(indices) > 1:
        step = (x2 - x1) / (len(indices) - 1)
        x_of = {index: x1 + n * step for n, index in enumerate(indices)}
    else:
        x_of = {index: (x1 + x2) / 2 for index in indices}
    height = TOP + sum(p.height for p in panels) + GAP * len(panels) + 20
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
    top = float(TOP)
    for panel in panels:
        out.extend(_panel(panel, top, x_of, x1, x2))
        top += panel.height + GAP
    axis = top - GAP + 14
    for index, label in batches:
        if index in x_of:
            x = x_of[index]
            out.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{top - GAP:.1f}" '
                f'class="batch-start"/>{_text(x + 3, axis, "batch-label", label)}'
            )
    if indices:
        out.append(_text(x1, axis + 14, "axis-label", f"point {indices[0]}"))
        out.append(_text(x2, axis + 14, "axis-label end", f"point {indices[-1]}"))
    out.append("</svg>")
    return "".join(out)
